// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "dmabuf.h"
#include "util.h"

#ifdef VFIO_DEVICE_FEATURE_DMA_BUF
/* struct vfio_device_feature, then the feature's own structure. */
union dmabuf_feature {
	struct vfio_device_feature hdr;
	char buf[sizeof(struct vfio_device_feature) + sizeof(struct vfio_device_feature_dma_buf) +
		 16 * sizeof(struct vfio_region_dma_range)];
};
#endif

int vfio_pci_dmabuf_probe(struct vfio_pci_device *dev, char *why, size_t len)
{
#ifdef VFIO_DEVICE_FEATURE_DMA_BUF
	struct vfio_device_feature probe = {
		.argsz = sizeof(probe),
		.flags = VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET |
			 VFIO_DEVICE_FEATURE_DMA_BUF,
	};

	if (!ioctl(dev->fd, VFIO_DEVICE_FEATURE, &probe))
		return 0;
	snprintf(why, len, "%s cannot export DMA-BUFs: VFIO_DEVICE_FEATURE_DMA_BUF probe: %s (kernel before 6.19, or CONFIG_VFIO_PCI_DMABUF off)",
		 dev->bdf, strerror(errno));
#else
	snprintf(why, len, "built against uapi headers without VFIO_DEVICE_FEATURE_DMA_BUF");
	(void)dev;
#endif
	return -EOPNOTSUPP;
}

int __vfio_pci_dmabuf_export(struct vfio_pci_device *dev, uint32_t region, uint32_t flags,
			     const struct dmabuf_range *ranges, uint32_t nr_ranges)
{
#ifdef VFIO_DEVICE_FEATURE_DMA_BUF
	union dmabuf_feature f = { .hdr = {
		.argsz = sizeof(f),
		.flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_DMA_BUF,
	} };
	struct vfio_device_feature_dma_buf *get = (void *)f.hdr.data;
	uint32_t i;
	int fd;

	if (nr_ranges > 16)
		return -E2BIG;
	*get = (struct vfio_device_feature_dma_buf){
		.region_index = region,
		.open_flags = O_RDWR | O_CLOEXEC,
		.flags = flags,
		.nr_ranges = nr_ranges,
	};
	for (i = 0; i < nr_ranges; i++) {
		get->dma_ranges[i].offset = ranges[i].offset;
		get->dma_ranges[i].length = ranges[i].length;
	}
	fd = ioctl(dev->fd, VFIO_DEVICE_FEATURE, &f);
	return fd < 0 ? -errno : fd;
#else
	(void)dev; (void)region; (void)flags; (void)ranges; (void)nr_ranges;
	return -EOPNOTSUPP;
#endif
}

long long fdinfo_size(int fd)
{
	char path[64], line[256];
	long long size = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "size: %lld", &size) == 1)
			break;
	fclose(f);
	return size;
}
