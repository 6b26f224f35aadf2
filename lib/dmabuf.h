/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PFNMAP_DMABUF_H
#define PFNMAP_DMABUF_H

#include <stddef.h>
#include <stdint.h>

#include "vfio_pci.h"

/* VFIO DMA-BUF export of BAR ranges (VFIO_DEVICE_FEATURE_DMA_BUF, 6.19+). */
struct dmabuf_range {
	uint64_t offset;
	uint64_t length;
};

/*
 * Does the device export DMA-BUFs? 0, or -EOPNOTSUPP with why filled
 * (headers without the feature, or a kernel/device without it).
 */
int vfio_pci_dmabuf_probe(struct vfio_pci_device *dev, char *why, size_t len);

/* Export ranges of region as a DMA-BUF: its fd, or -errno. */
int __vfio_pci_dmabuf_export(struct vfio_pci_device *dev, uint32_t region, uint32_t flags,
			     const struct dmabuf_range *ranges, uint32_t nr_ranges);

/* The "size:" of a file descriptor's /proc/self/fdinfo, or -errno. */
long long fdinfo_size(int fd);

/*
 * The features of "vfio/pci: Add mmap() for DMABUFs" (not in any release
 * yet). Their numbers come from the uapi header the suite is built
 * against, never from here: the series' own (14, 15) clash with 7.3's
 * VFIO_DEVICE_FEATURE_ZPCI_ERROR, so a build of it may renumber them.
 * Each returns -EOPNOTSUPP with why when the headers lack the feature.
 */
/* Revoke a buffer of dev for good (VFIO_DEVICE_FEATURE_DMA_BUF_REVOKE): 0 or -errno. */
int __vfio_pci_dmabuf_revoke(struct vfio_pci_device *dev, int buf_fd, char *why, size_t len);
/* The memory attribute of later mmaps (VFIO_DEVICE_FEATURE_DMA_BUF_MEMATTR): 0 or -errno. */
enum dmabuf_memattr { DMABUF_MEMATTR_NC, DMABUF_MEMATTR_WC };
int __vfio_pci_dmabuf_memattr(struct vfio_pci_device *dev, int buf_fd, uint32_t memattr,
			      char *why, size_t len);
/* PROBE of those two: 0, or -EOPNOTSUPP with why (headers or kernel without it). */
int vfio_pci_dmabuf_revoke_probe(struct vfio_pci_device *dev, char *why, size_t len);
int vfio_pci_dmabuf_memattr_probe(struct vfio_pci_device *dev, char *why, size_t len);

/*
 * Import the buffer as an importer would: IOMMU_IOAS_MAP_FILE into an
 * iommufd IOAS of its own (no device attached). 0 mapped (and unmapped
 * again), -EOPNOTSUPP with why when there is no iommufd to import with,
 * else the import's -errno.
 */
int __dmabuf_import_try(int buf_fd, size_t len, char *why, size_t wlen);

/* DMA_BUF_SET_NAME: 0 or -errno. */
int __dmabuf_set_name(int buf_fd, const char *name);

/* The path /proc/self/maps gives the mapping at addr ("" for none); -errno. */
int mapping_name(const void *addr, char *buf, size_t len);

/*
 * The cache attribute of the page mapping addr in this process, as x86's
 * page-table dump (/sys/kernel/debug/page_tables/current_kernel,
 * CONFIG_PTDUMP_DEBUGFS) prints its bits: "PCD" (uncached), "PWT"
 * (write-combining under Linux's PAT layout), "PCD PWT" (strong uncached)
 * or "" (write-back). -errno when it cannot be seen (why filled).
 */
int pte_cache_bits(const void *addr, char *bits, size_t len, char *why, size_t wlen);

/*
 * x86 PAT's memtype for physical address phys (/sys/kernel/debug/x86/
 * pat_memtype_list, which exists only while PAT is on): 0 with the entry's
 * type ("write-combining", "uncached-minus", ...) in type, -ENOENT when no
 * entry covers it (PAT then takes it as uncached-minus: lookup_memtype()),
 * -EOPNOTSUPP when there is no list (PAT off, or no debugfs).
 */
int pat_memtype(uint64_t phys, char *type, size_t len);

/* The physical start of BAR bar of device bdf (sysfs resource), or 0. */
uint64_t pci_bar_phys(const char *bdf, int bar);

#endif
