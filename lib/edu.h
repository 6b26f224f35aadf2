/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PFNMAP_EDU_H
#define PFNMAP_EDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vfio_pci.h"

/* QEMU's educational device, register map of docs/specs/edu.rst. */
#define EDU_VENDOR_ID		0x1234
#define EDU_DEVICE_ID		0x11e8

#define EDU_REG_ID		0x00	/* 0xRRrr00ed */
#define EDU_REG_LIVENESS	0x04	/* reads back the complement */
#define EDU_REG_STATUS		0x20
#define EDU_REG_IRQ_STATUS	0x24
#define EDU_REG_IRQ_RAISE	0x60
#define EDU_REG_IRQ_ACK		0x64
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_COUNT	0x90
#define EDU_REG_DMA_CMD		0x98

#define EDU_DMA_CMD_START	0x1
#define EDU_DMA_CMD_TO_RAM	0x2	/* direction: device buffer -> RAM */
#define EDU_DMA_CMD_IRQ		0x4
#define EDU_IRQ_DMA		0x100

#define EDU_BUF_ADDR		0x40000	/* the DMA buffer in the device's space */
/*
 * The buffer is 4 KiB, but QEMU 7.2 checks ranges off by one and aborts the
 * whole VM on a transfer that ends at the buffer's last byte: stay clear.
 */
#define EDU_BUF_USABLE		(4096 - 64)

enum edu_dma_dir {
	EDU_RAM_TO_DEVICE,
	EDU_DEVICE_TO_RAM,
};

struct edu {
	struct vfio_pci_device *dev;
	volatile uint8_t *regs;		/* BAR0 */
	size_t regs_size;
	int irq_efd;			/* MSI eventfd, -1: poll */
};

/*
 * Map BAR0, enable memory decode and bus mastering, check identification
 * and liveness. -errno (-ENODEV: not an edu, or not responding).
 */
int __edu_init(struct edu *edu, struct vfio_pci_device *dev);
void edu_cleanup(struct edu *edu);

uint32_t edu_read32(struct edu *edu, unsigned int reg);
void edu_write32(struct edu *edu, unsigned int reg, uint32_t val);
void edu_write64(struct edu *edu, unsigned int reg, uint64_t val);

/* Complete DMA through MSI and an eventfd instead of polling. -errno. */
int __edu_irq_enable(struct edu *edu);
void edu_irq_disable(struct edu *edu);

/*
 * One DMA between the device buffer (at buf_off) and iova, waiting for its
 * completion (by MSI when enabled, else by polling) for at most timeout_ms.
 * -ETIMEDOUT, -EINVAL for a range outside the usable buffer.
 */
int __edu_dma(struct edu *edu, enum edu_dma_dir dir, uint64_t iova, uint32_t buf_off,
	      uint32_t len, int timeout_ms);
void edu_dma(struct edu *edu, enum edu_dma_dir dir, uint64_t iova, uint32_t buf_off, uint32_t len);

/*
 * The edu device (the DMA engine) and a device with a large BAR, in one
 * IOMMU context: the tests that have edu DMA into or through a BAR.
 */
struct edu_bar_pair {
	struct vfio_pci_device edu_dev, bar_dev;
	struct edu edu;
	bool edu_open, bar_open;
};

/*
 * Open edu_bdf (bound to vfio-pci and initialised) and bar_bdf in iommu;
 * either may be NULL. 0, -EOPNOTSUPP with why filled (SKIP), or -errno.
 * What was opened before a failure stays open for edu_bar_pair_close().
 */
int __edu_bar_pair_open(struct edu_bar_pair *p, struct iommu *iommu, const char *edu_bdf,
			const char *bar_bdf, char *why, size_t len);
void edu_bar_pair_close(struct edu_bar_pair *p);

#endif
