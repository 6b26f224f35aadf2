/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PFNMAP_DMABUF_H
#define PFNMAP_DMABUF_H

#include <stddef.h>
#include <stdint.h>

#include "vfio_pci.h"
#include "why.h"

/* VFIO DMA-BUF export of BAR ranges (VFIO_DEVICE_FEATURE_DMA_BUF, 6.19+). */
struct dmabuf_range {
	uint64_t offset;
	uint64_t length;
};

/*
 * Does the device export DMA-BUFs? 0, or -EOPNOTSUPP with why filled
 * (headers without the feature, or a kernel/device without it).
 */
int __vfio_pci_dmabuf_probe(struct vfio_pci_device *dev, struct why *why);

/* Export ranges of region as a DMA-BUF: its fd, or -errno. */
int __vfio_pci_dmabuf_export(struct vfio_pci_device *dev, uint32_t region, uint32_t flags,
			     const struct dmabuf_range *ranges, uint32_t nr_ranges);

/*
 * Query: the "size:" of a file descriptor's /proc/self/fdinfo, or -errno.
 * Not __ although it may return -errno: its callers compare it with the
 * size they expect (ASSERT_EQ(size, fdinfo_size(fd))), so an error fails
 * that comparison with the errno as the value seen, and the failure
 * messages scripts/mutations.txt expects name it so.
 */
long long fdinfo_size(int fd);

/*
 * The features of "vfio/pci: Add mmap() for DMABUFs" (not in any release
 * yet). Their numbers come from the uapi header the suite is built
 * against, never from here: the series' own (14, 15) clash with 7.3's
 * VFIO_DEVICE_FEATURE_ZPCI_ERROR, so a build of it may renumber them.
 * Each returns -EOPNOTSUPP with why when the headers lack the feature.
 */
/* Revoke a buffer of dev for good (VFIO_DEVICE_FEATURE_DMA_BUF_REVOKE): 0 or -errno. */
int __vfio_pci_dmabuf_revoke(struct vfio_pci_device *dev, int buf_fd, struct why *why);
/* The memory attribute of later mmaps (VFIO_DEVICE_FEATURE_DMA_BUF_MEMATTR): 0 or -errno. */
enum dmabuf_memattr { DMABUF_MEMATTR_NC, DMABUF_MEMATTR_WC };
int __vfio_pci_dmabuf_memattr(struct vfio_pci_device *dev, int buf_fd, uint32_t memattr,
			      struct why *why);
/* PROBE of those two: 0, or -EOPNOTSUPP with why (headers or kernel without it). */
int __vfio_pci_dmabuf_revoke_probe(struct vfio_pci_device *dev, struct why *why);
int __vfio_pci_dmabuf_memattr_probe(struct vfio_pci_device *dev, struct why *why);

/*
 * Import the buffer as an importer would: IOMMU_IOAS_MAP_FILE into an
 * iommufd IOAS of its own (no device attached). 0 mapped (and unmapped
 * again), -EOPNOTSUPP with why when there is no iommufd to import with,
 * else the import's -errno.
 */
int __dmabuf_import_try(int buf_fd, size_t len, struct why *why);

/* DMA_BUF_SET_NAME: 0 or -errno. */
int __dmabuf_set_name(int buf_fd, const char *name);

/* The path /proc/self/maps gives the mapping at addr ("" for none); -errno. */
int __mapping_name(const void *addr, char *buf, size_t len);

/*
 * The cache attribute of the page mapping addr in this process, as x86's
 * page-table dump (/sys/kernel/debug/page_tables/current_kernel,
 * CONFIG_PTDUMP_DEBUGFS) prints its bits: "PCD" (uncached), "PWT"
 * (write-combining under Linux's PAT layout), "PCD PWT" (strong uncached)
 * or "" (write-back). -errno when it cannot be seen (why filled).
 */
int __pte_cache_bits(const void *addr, char *bits, size_t len, struct why *why);

/*
 * x86 PAT's memtype for physical address phys (/sys/kernel/debug/x86/
 * pat_memtype_list, which exists only while PAT is on): 0 with the entry's
 * type ("write-combining", "uncached-minus", ...) in type, -ENOENT when no
 * entry covers it (PAT then takes it as uncached-minus: lookup_memtype()),
 * -EOPNOTSUPP when there is no list (PAT off, or no debugfs).
 */
int __pat_memtype(uint64_t phys, char *type, size_t len);

/* Query: the physical start of BAR bar of device bdf (sysfs resource), or 0 when unknown. */
uint64_t pci_bar_phys(const char *bdf, int bar);

#endif
