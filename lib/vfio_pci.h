/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PFNMAP_VFIO_PCI_H
#define PFNMAP_VFIO_PCI_H

#include <linux/vfio.h>
#include <stddef.h>
#include <stdint.h>

#include "iommu.h"
#include "pci_bind.h"
#include "why.h"

struct vfio_pci_device {
	char bdf[PCI_BDF_LEN];
	struct iommu *iommu;
	struct pci_binding binding;
	int group_fd;
	int fd;
	struct vfio_region_info regions[VFIO_PCI_NUM_REGIONS];
};

/*
 * Bind bdf to vfio-pci and open it in iommu's mode. -EOPNOTSUPP with why
 * filled for a missing precondition (no IOMMU group, group not viable, no
 * cdev), other -errno for failures. On failure the binding is restored.
 */
int __vfio_pci_device_open(struct vfio_pci_device *dev, const char *bdf, struct iommu *iommu,
			   struct why *why);
/*
 * For tests that need the BAR, not a particular IOMMU mode: open bdf in the
 * first mode the running kernel has (type1v2, then iommufd).
 */
int __vfio_pci_device_open_any(struct vfio_pci_device *dev, const char *bdf, struct iommu *iommu,
			       struct why *why);
/*
 * Close the device fd and open a new one, keeping the binding and the IOMMU
 * set-up: the last close of a device fd is what revokes its DMA-BUFs. -errno.
 */
int __vfio_pci_device_reopen(struct vfio_pci_device *dev);

/* Close and restore the original driver (best effort: a binding left is undone by the record). */
void vfio_pci_device_close(struct vfio_pci_device *dev);

/* Config space: len bytes at off; -errno (-EIO for a short access). */
int __vfio_pci_config_read(struct vfio_pci_device *dev, unsigned int off, void *buf, size_t len);
int __vfio_pci_config_write(struct vfio_pci_device *dev, unsigned int off, const void *buf, size_t len);
uint16_t vfio_pci_config_readw(struct vfio_pci_device *dev, unsigned int off);
void vfio_pci_config_writew(struct vfio_pci_device *dev, unsigned int off, uint16_t val);

/* Set or clear bits in PCI_COMMAND (memory decode, bus master); -errno. */
int __vfio_pci_command_set(struct vfio_pci_device *dev, uint16_t set, uint16_t clear);
void vfio_pci_command_set(struct vfio_pci_device *dev, uint16_t set, uint16_t clear);

/* Query: the index of the largest mmap-able memory BAR, -1 if none. */
int vfio_pci_largest_bar(struct vfio_pci_device *dev);

/*
 * mmap size bytes of BAR bar (0: the whole BAR) at a virtual address aligned
 * to align, so the kernel may install PMD or PUD leaves. MAP_FAILED with
 * errno set on failure: mmap()'s own contract, not -errno (a pointer has
 * no room for one), as the callers use it where they would call mmap().
 */
void *__vfio_pci_bar_map(struct vfio_pci_device *dev, int bar, size_t size, size_t align);
/* The same, placed skew bytes past an align boundary: no leaf larger than skew fits. */
void *__vfio_pci_bar_map_skewed(struct vfio_pci_device *dev, int bar, size_t size, size_t align,
				size_t skew);
void *vfio_pci_bar_map(struct vfio_pci_device *dev, int bar, size_t size, size_t align);
/* munmap() of a BAR mapping (best effort, as munmap() of a valid range cannot fail). */
void vfio_pci_bar_unmap(void *addr, size_t size);

/* Route the device's single MSI to eventfd efd (efd < 0: disable). -errno. */
int __vfio_pci_msi_set(struct vfio_pci_device *dev, int efd);

#endif
