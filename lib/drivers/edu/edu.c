// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <linux/pci_regs.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "edu.h"
#include "fault.h"
#include "util.h"
#include "vfio_pci.h"

/* The driver's state: BAR0, the registers. */
struct edu {
	volatile uint8_t *regs;
	size_t regs_size;
};

enum edu_dma_dir {
	EDU_RAM_TO_DEVICE,
	EDU_DEVICE_TO_RAM,
};

static uint32_t edu_read32(struct edu *edu, unsigned int reg)
{
	return *(volatile uint32_t *)(edu->regs + reg);
}

static void edu_write32(struct edu *edu, unsigned int reg, uint32_t val)
{
	*(volatile uint32_t *)(edu->regs + reg) = val;
}

static void edu_write64(struct edu *edu, unsigned int reg, uint64_t val)
{
	*(volatile uint64_t *)(edu->regs + reg) = val;
}

static int edu_probe(unsigned int vendor, unsigned int device)
{
	return vendor == EDU_VENDOR_ID && device == EDU_DEVICE_ID ? 0 : -ENODEV;
}

static int edu_init(struct dma_driver *drv)
{
	struct vfio_pci_device *dev = drv->dev;
	struct edu *edu;
	void *regs;
	int ret;

	edu = drv->priv = calloc(1, sizeof(*edu));
	if (!edu)
		return -ENOMEM;
	edu->regs_size = dev->regions[VFIO_PCI_BAR0_REGION_INDEX].size;
	regs = __vfio_pci_bar_map(dev, VFIO_PCI_BAR0_REGION_INDEX, 0, 0);
	if (regs == MAP_FAILED)
		return -errno;
	edu->regs = regs;
	ret = __vfio_pci_command_set(dev, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 0);
	if (ret)
		return ret;

	if ((edu_read32(edu, EDU_REG_ID) & 0xffff) != 0x00ed)
		return -ENODEV;
	edu_write32(edu, EDU_REG_LIVENESS, 0x12345678);
	if (edu_read32(edu, EDU_REG_LIVENESS) != ~0x12345678u)
		return -ENODEV;
	drv->max_memcpy_size = EDU_BUF_USABLE;
	return 0;
}

static void edu_remove(struct dma_driver *drv)
{
	struct edu *edu = drv->priv;

	if (edu && edu->regs)
		munmap((void *)edu->regs, edu->regs_size);
	free(edu);
	drv->priv = NULL;
}

static int edu_wait_irq(struct dma_driver *drv, int timeout_ms)
{
	struct pollfd pfd = { .fd = drv->irq_efd, .events = POLLIN };
	struct edu *edu = drv->priv;
	uint64_t count;
	uint32_t status;

	if (poll(&pfd, 1, timeout_ms) != 1)
		return -ETIMEDOUT;
	if (read(drv->irq_efd, &count, sizeof(count)) != sizeof(count))
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

/* One DMA between the start of the device's buffer and iova, waited for. */
static int edu_dma(struct dma_driver *drv, enum edu_dma_dir dir, uint64_t iova, uint32_t len,
		   int timeout_ms)
{
	struct edu *edu = drv->priv;
	uint32_t cmd = EDU_DMA_CMD_START;
	int ret;

	/* A DMA still running would be overwritten mid-flight. */
	if (edu_read32(edu, EDU_REG_DMA_CMD) & EDU_DMA_CMD_START) {
		ret = -EBUSY;
		goto out;
	}
	if (dir == EDU_RAM_TO_DEVICE) {
		edu_write64(edu, EDU_REG_DMA_SRC, iova);
		edu_write64(edu, EDU_REG_DMA_DST, EDU_BUF_ADDR);
	} else {
		edu_write64(edu, EDU_REG_DMA_SRC, EDU_BUF_ADDR);
		edu_write64(edu, EDU_REG_DMA_DST, iova);
		cmd |= EDU_DMA_CMD_TO_RAM;
	}
	edu_write64(edu, EDU_REG_DMA_COUNT, len);
	if (drv->irq_efd >= 0)
		cmd |= EDU_DMA_CMD_IRQ;
	/* An injected stall: the DMA is never started, so it never completes. */
	if (!fault_injected("dma-stall"))
		edu_write32(edu, EDU_REG_DMA_CMD, cmd);

	ret = drv->irq_efd >= 0 ? edu_wait_irq(drv, timeout_ms) : edu_wait_poll(edu, timeout_ms);
out:
	if (ret)
		snprintf(drv->what, sizeof(drv->what), "edu DMA %s iova=0x%llx off=0x0 len=%u",
			 dir == EDU_RAM_TO_DEVICE ? "RAM->device" : "device->RAM",
			 (unsigned long long)iova, len);
	return ret;
}

static int edu_memcpy(struct dma_driver *drv, uint64_t src, uint64_t dst, uint32_t size,
		      int timeout_ms)
{
	int ret = edu_dma(drv, EDU_RAM_TO_DEVICE, src, size, timeout_ms);

	return ret ? ret : edu_dma(drv, EDU_DEVICE_TO_RAM, dst, size, timeout_ms);
}

const struct dma_driver_ops edu_ops = {
	.name = "edu",
	.probe = edu_probe,
	.init = edu_init,
	.remove = edu_remove,
	.memcpy = edu_memcpy,
};
