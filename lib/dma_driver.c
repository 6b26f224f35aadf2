// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <linux/pci_regs.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "devsel.h"
#include "dma_driver.h"
#include "pci_bind.h"
#include "util.h"
#include "vfio_pci.h"

int __dma_driver_probe(unsigned int vendor, unsigned int device, const struct dma_driver_ops **ops)
{
	size_t i;

	for (i = 0; i < dma_drivers_nr; i++) {
		if (!dma_drivers[i]->probe(vendor, device)) {
			if (ops)
				*ops = dma_drivers[i];
			return 0;
		}
	}
	return -ENODEV;
}

const char *dma_driver_names(void)
{
	static char names[128];
	size_t i, used = 0;

	for (i = 0; i < dma_drivers_nr && used < sizeof(names); i++)
		used += snprintf(names + used, sizeof(names) - used, "%s%s", i ? ", " : "",
				 dma_drivers[i]->name);
	return names;
}

int __dma_driver_init(struct dma_driver *drv, struct vfio_pci_device *dev)
{
	uint16_t vendor, device;
	int ret;

	memset(drv, 0, sizeof(*drv));
	drv->dev = dev;
	drv->irq_efd = -1;
	/*
	 * The ids the device itself answers, as mainline's probe reads them;
	 * with the __ accessors, so that an open that fails is the caller's
	 * to report or SKIP.
	 */
	ret = __vfio_pci_config_read(dev, PCI_VENDOR_ID, &vendor, sizeof(vendor));
	if (!ret)
		ret = __vfio_pci_config_read(dev, PCI_DEVICE_ID, &device, sizeof(device));
	if (!ret)
		ret = __dma_driver_probe(vendor, device, &drv->ops);
	if (ret)
		return ret;
	ret = drv->ops->init(drv);
	/* drv->ops stays, to say whose init failed. */
	if (ret)
		drv->ops->remove(drv);
	return ret;
}

void dma_driver_remove(struct dma_driver *drv)
{
	if (!drv->ops)
		return;
	dma_driver_irq_disable(drv);
	drv->ops->remove(drv);
	drv->ops = NULL;
}

int __dma_device_open(struct dma_driver *drv, struct vfio_pci_device *dev, const char *bdf,
		      struct iommu *iommu, struct why *why)
{
	int ret = __vfio_pci_device_open(dev, bdf, iommu, why);

	if (ret)
		return ret;
	ret = __dma_driver_init(drv, dev);
	if (ret) {
		if (drv->ops)
			why_set(why, "%s at %s does not respond: %s", drv->ops->name, bdf,
				strerror(-ret));
		else if (ret != -ENODEV)
			why_set(why, "reading the PCI ids of %s: %s", bdf, strerror(-ret));
		else
			why_set(why, "no DMA driver takes %s (%s)", bdf, dma_driver_names());
		drv->ops = NULL;
		vfio_pci_device_close(dev);
		/* Unplugged meanwhile: missing, as in __vfio_pci_device_open(). */
		if (pci_device_gone(bdf)) {
			why_set(why, "no PCI device at %s (it went away while its driver started)",
				devsel_origin(bdf));
			ret = -EOPNOTSUPP;
		}
	}
	return ret;
}

void dma_device_close(struct dma_driver *drv)
{
	struct vfio_pci_device *dev = drv->dev;

	dma_driver_remove(drv);
	if (dev)
		vfio_pci_device_close(dev);
	drv->dev = NULL;
}

int __dma_driver_irq_enable(struct dma_driver *drv)
{
	int ret;

	drv->irq_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (drv->irq_efd < 0)
		return -errno;
	ret = __vfio_pci_msi_set(drv->dev, drv->irq_efd);
	if (ret) {
		close(drv->irq_efd);
		drv->irq_efd = -1;
	}
	return ret;
}

void dma_driver_irq_disable(struct dma_driver *drv)
{
	if (drv->irq_efd < 0)
		return;
	__vfio_pci_msi_set(drv->dev, -1);
	close(drv->irq_efd);
	drv->irq_efd = -1;
}

int __dma_driver_memcpy(struct dma_driver *drv, uint64_t src, uint64_t dst, uint32_t size,
			int timeout_ms)
{
	/* Said here for a driver that names no transfer of its own. */
	snprintf(drv->what, sizeof(drv->what), "%s memcpy 0x%llx->0x%llx len=%u", drv->ops->name,
		 (unsigned long long)src, (unsigned long long)dst, size);
	if (!size || size > drv->max_memcpy_size)
		return -EINVAL;
	return drv->ops->memcpy(drv, src, dst, size, timeout_ms);
}

void dma_driver_memcpy(struct dma_driver *drv, uint64_t src, uint64_t dst, uint32_t size)
{
	int ret = __dma_driver_memcpy(drv, src, dst, size, DMA_DRIVER_TIMEOUT_MS);
	char late[64];

	/* The bound said from the constant that sets it. */
	snprintf(late, sizeof(late), "the device did not complete it within %d s",
		 DMA_DRIVER_TIMEOUT_MS / 1000);
	PFNMAP_ASSERT(!ret, "%s: %s", drv->what, ret == -ETIMEDOUT ? late : strerror(-ret));
}
