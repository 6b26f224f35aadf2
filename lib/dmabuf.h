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

#endif
