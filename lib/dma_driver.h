/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PFNMAP_DMA_DRIVER_H
#define PFNMAP_DMA_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "slow.h"
#include "why.h"

/*
 * Drivers for devices that can DMA, in the shape of the mainline vfio
 * selftests' driver ops: a test that needs "a device that reads and writes
 * IOVAs" asks for a memcpy between two IOVAs, whichever device does it.
 * Each driver lives in lib/drivers/NAME/ and has a line in the table of
 * dma_driver.c; the first whose probe takes a device drives it.
 */
struct dma_driver;
struct iommu;
struct vfio_pci_device;

/*
 * What a test waits for one memcpy at most, and says when it is over: 5 s,
 * stretched on a slow machine (slow.h).
 */
#define DMA_DRIVER_TIMEOUT_MS	(5000 * slow_factor())

/*
 * The ops are the __ kind (util.h): 0 or -errno, never an assert, since
 * __dma_driver_init() and __dma_driver_memcpy() call them for setups that
 * SKIP and for races that count failures.
 */
struct dma_driver_ops {
	const char *name;
	/* 0 if the driver drives a device with these PCI ids, else -ENODEV. */
	int (*probe)(unsigned int vendor, unsigned int device);
	/*
	 * Take drv->dev over (registers, bus mastering), check that it
	 * responds, set drv->max_memcpy_size. -errno; remove() follows either way.
	 */
	int (*init)(struct dma_driver *drv);
	void (*remove)(struct dma_driver *drv);
	/*
	 * Copy size bytes from IOVA src to IOVA dst and wait for the end for at
	 * most timeout_ms per transfer: by MSI through drv->irq_efd when it is
	 * >= 0, else by polling. -ETIMEDOUT, or another -errno, with drv->what
	 * naming the transfer that failed.
	 */
	int (*memcpy)(struct dma_driver *drv, uint64_t src, uint64_t dst, uint32_t size,
		      int timeout_ms);
};

struct dma_driver {
	const struct dma_driver_ops *ops;
	struct vfio_pci_device *dev;
	uint32_t max_memcpy_size;	/* set by init */
	int irq_efd;			/* the device's MSI eventfd, -1: poll */
	char what[128];			/* the failed transfer, in the driver's words */
	void *priv;			/* the driver's own state */
};

/* Every driver (lib/dma_drivers.c, a line each): the first whose probe takes a device wins. */
extern const struct dma_driver_ops *const dma_drivers[];
extern const size_t dma_drivers_nr;

/* The driver of a device with these ids: 0 with *ops set (ops may be NULL), or -ENODEV. */
int __dma_driver_probe(unsigned int vendor, unsigned int device, const struct dma_driver_ops **ops);
/* Query: "edu, ...": the drivers of the table, for SKIP reasons. */
const char *dma_driver_names(void);

/*
 * Probe the opened device (its config space ids) and init the driver that
 * takes it. 0, -ENODEV with drv->ops NULL (no driver), another -errno with
 * drv->ops NULL (the ids could not be read), or the driver's -errno with
 * drv->ops naming it (removed again: no dma_driver_remove()).
 */
int __dma_driver_init(struct dma_driver *drv, struct vfio_pci_device *dev);
/* Undo __dma_driver_init() (MSI off too); nothing when no driver took the device. */
void dma_driver_remove(struct dma_driver *drv);

/*
 * Bind bdf to vfio-pci, open it in iommu and init its driver: 0,
 * -EOPNOTSUPP with why filled (SKIP), or -errno with why. Nothing stays
 * open on failure.
 */
int __dma_device_open(struct dma_driver *drv, struct vfio_pci_device *dev, const char *bdf,
		      struct iommu *iommu, struct why *why);
/* Remove the driver and close its device. */
void dma_device_close(struct dma_driver *drv);

/* Complete memcpys through the device's MSI and an eventfd instead of polling. -errno. */
int __dma_driver_irq_enable(struct dma_driver *drv);
/* Back to polling; nothing when the MSI is off. */
void dma_driver_irq_disable(struct dma_driver *drv);

/*
 * Copy size bytes (1 to max_memcpy_size) from IOVA src to IOVA dst. -EINVAL
 * for a size out of range, else the driver's memcpy().
 */
int __dma_driver_memcpy(struct dma_driver *drv, uint64_t src, uint64_t dst, uint32_t size,
			int timeout_ms);
/* Within DMA_DRIVER_TIMEOUT_MS, or fail the test with the transfer (drv->what) and why. */
void dma_driver_memcpy(struct dma_driver *drv, uint64_t src, uint64_t dst, uint32_t size);

#endif
