// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <linux/pci_regs.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "edu.h"
#include "fault.h"
#include "util.h"

uint32_t edu_read32(struct edu *edu, unsigned int reg)
{
	return *(volatile uint32_t *)(edu->regs + reg);
}

void edu_write32(struct edu *edu, unsigned int reg, uint32_t val)
{
	*(volatile uint32_t *)(edu->regs + reg) = val;
}

void edu_write64(struct edu *edu, unsigned int reg, uint64_t val)
{
	*(volatile uint64_t *)(edu->regs + reg) = val;
}

int __edu_init(struct edu *edu, struct vfio_pci_device *dev)
{
	void *regs;
	uint32_t id;

	memset(edu, 0, sizeof(*edu));
	edu->dev = dev;
	edu->irq_efd = -1;
	edu->regs_size = dev->regions[VFIO_PCI_BAR0_REGION_INDEX].size;
	regs = __vfio_pci_bar_map(dev, VFIO_PCI_BAR0_REGION_INDEX, 0, 0);
	if (regs == MAP_FAILED)
		return -errno;
	edu->regs = regs;
	vfio_pci_command_set(dev, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 0);

	id = edu_read32(edu, EDU_REG_ID);
	if ((id & 0xffff) != 0x00ed)
		return -ENODEV;
	edu_write32(edu, EDU_REG_LIVENESS, 0x12345678);
	if (edu_read32(edu, EDU_REG_LIVENESS) != ~0x12345678u)
		return -ENODEV;
	return 0;
}

void edu_cleanup(struct edu *edu)
{
	edu_irq_disable(edu);
	if (edu->regs)
		munmap((void *)edu->regs, edu->regs_size);
	edu->regs = NULL;
}

int __edu_irq_enable(struct edu *edu)
{
	int ret;

	edu->irq_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (edu->irq_efd < 0)
		return -errno;
	ret = __vfio_pci_msi_set(edu->dev, edu->irq_efd);
	if (ret) {
		close(edu->irq_efd);
		edu->irq_efd = -1;
	}
	return ret;
}

void edu_irq_disable(struct edu *edu)
{
	if (edu->irq_efd < 0)
		return;
	__vfio_pci_msi_set(edu->dev, -1);
	close(edu->irq_efd);
	edu->irq_efd = -1;
}

static int edu_wait_irq(struct edu *edu, int timeout_ms)
{
	struct pollfd pfd = { .fd = edu->irq_efd, .events = POLLIN };
	uint64_t count;
	uint32_t status;

	if (poll(&pfd, 1, timeout_ms) != 1)
		return -ETIMEDOUT;
	if (read(edu->irq_efd, &count, sizeof(count)) != sizeof(count))
		return -EIO;
	status = edu_read32(edu, EDU_REG_IRQ_STATUS);
	edu_write32(edu, EDU_REG_IRQ_ACK, status);
	return status & EDU_IRQ_DMA ? 0 : -EIO;
}

static int edu_wait_poll(struct edu *edu, int timeout_ms)
{
	uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000;

	while ((edu_read32(edu, EDU_REG_DMA_CMD) & EDU_DMA_CMD_START) || fault_injected("dma-stall")) {
		if (now_ns() > deadline)
			return -ETIMEDOUT;
		usleep(1000);
	}
	return 0;
}

int __edu_dma(struct edu *edu, enum edu_dma_dir dir, uint64_t iova, uint32_t buf_off,
	      uint32_t len, int timeout_ms)
{
	uint32_t cmd = EDU_DMA_CMD_START;

	if (!len || buf_off + len > EDU_BUF_USABLE)
		return -EINVAL;
	/* A DMA still running would be overwritten mid-flight. */
	if (edu_read32(edu, EDU_REG_DMA_CMD) & EDU_DMA_CMD_START)
		return -EBUSY;
	if (dir == EDU_RAM_TO_DEVICE) {
		edu_write64(edu, EDU_REG_DMA_SRC, iova);
		edu_write64(edu, EDU_REG_DMA_DST, EDU_BUF_ADDR + buf_off);
	} else {
		edu_write64(edu, EDU_REG_DMA_SRC, EDU_BUF_ADDR + buf_off);
		edu_write64(edu, EDU_REG_DMA_DST, iova);
		cmd |= EDU_DMA_CMD_TO_RAM;
	}
	edu_write64(edu, EDU_REG_DMA_COUNT, len);
	if (edu->irq_efd >= 0)
		cmd |= EDU_DMA_CMD_IRQ;
	/* An injected stall: the DMA is never started, so it never completes. */
	if (!fault_injected("dma-stall"))
		edu_write32(edu, EDU_REG_DMA_CMD, cmd);

	if (edu->irq_efd >= 0)
		return edu_wait_irq(edu, timeout_ms);
	return edu_wait_poll(edu, timeout_ms);
}

void edu_dma(struct edu *edu, enum edu_dma_dir dir, uint64_t iova, uint32_t buf_off, uint32_t len)
{
	int ret = __edu_dma(edu, dir, iova, buf_off, len, 5000);

	PFNMAP_ASSERT(!ret, "edu DMA %s iova=0x%llx off=0x%x len=%u: %s",
		      dir == EDU_RAM_TO_DEVICE ? "RAM->device" : "device->RAM",
		      (unsigned long long)iova, buf_off, len,
		      ret == -ETIMEDOUT ? "the device did not complete it within 5 s" : strerror(-ret));
}

int __edu_bar_pair_open(struct edu_bar_pair *p, struct iommu *iommu, const char *edu_bdf,
			const char *bar_bdf, char *why, size_t len)
{
	int ret;

	if (edu_bdf) {
		ret = __vfio_pci_device_open(&p->edu_dev, edu_bdf, iommu, why, len);
		if (ret)
			return ret;
		p->edu_open = true;
		ret = __edu_init(&p->edu, &p->edu_dev);
		if (ret) {
			snprintf(why, len, "edu at %s does not respond: %s", edu_bdf, strerror(-ret));
			return ret;
		}
	}
	if (bar_bdf) {
		ret = __vfio_pci_device_open(&p->bar_dev, bar_bdf, iommu, why, len);
		if (ret)
			return ret;
		p->bar_open = true;
	}
	return 0;
}

void edu_bar_pair_close(struct edu_bar_pair *p)
{
	if (p->edu_open) {
		edu_cleanup(&p->edu);
		vfio_pci_device_close(&p->edu_dev);
	}
	if (p->bar_open)
		vfio_pci_device_close(&p->bar_dev);
	p->edu_open = p->bar_open = false;
}
