// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <linux/dma-buf.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "devsel.h"
#include "dmabuf.h"
#include "iommu.h"
#include "util.h"

#ifdef VFIO_DEVICE_FEATURE_DMA_BUF
/* struct vfio_device_feature, then the feature's own structure. */
union dmabuf_feature {
	struct vfio_device_feature hdr;
	char buf[sizeof(struct vfio_device_feature) + sizeof(struct vfio_device_feature_dma_buf) +
		 16 * sizeof(struct vfio_region_dma_range)];
};
#endif

int __vfio_pci_dmabuf_probe(struct vfio_pci_device *dev, struct why *why)
{
#ifdef VFIO_DEVICE_FEATURE_DMA_BUF
	struct vfio_device_feature probe = {
		.argsz = sizeof(probe),
		.flags = VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET |
			 VFIO_DEVICE_FEATURE_DMA_BUF,
	};

	if (!ioctl(dev->fd, VFIO_DEVICE_FEATURE, &probe))
		return 0;
	why_set(why, "%s cannot export DMA-BUFs: VFIO_DEVICE_FEATURE_DMA_BUF probe: %s (kernel before 6.19, or CONFIG_VFIO_PCI_DMABUF off)",
		devsel_name(dev->bdf), strerror(errno));
#else
	why_set(why, "built against uapi headers without VFIO_DEVICE_FEATURE_DMA_BUF");
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

/* SET of a feature whose payload is one or two 32-bit words, or PROBE when data is NULL. */
static __attribute__((unused)) int feature_ioctl(struct vfio_pci_device *dev, uint32_t feature, const void *data, size_t size)
{
	union {
		struct vfio_device_feature hdr;
		char buf[sizeof(struct vfio_device_feature) + 16];
	} f = { .hdr = {
		.argsz = sizeof(struct vfio_device_feature) + size,
		.flags = feature | (data ? VFIO_DEVICE_FEATURE_SET : VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET),
	} };

	if (data)
		memcpy(f.hdr.data, data, size);
	return ioctl(dev->fd, VFIO_DEVICE_FEATURE, &f) ? -errno : 0;
}

int __vfio_pci_dmabuf_revoke(struct vfio_pci_device *dev, int buf_fd, struct why *why)
{
#ifdef VFIO_DEVICE_FEATURE_DMA_BUF_REVOKE
	struct vfio_device_feature_dma_buf_revoke r = { .dmabuf_fd = buf_fd };

	(void)why;
	return feature_ioctl(dev, VFIO_DEVICE_FEATURE_DMA_BUF_REVOKE, &r, sizeof(r));
#else
	(void)dev; (void)buf_fd;
	why_set(why, "built against uapi headers without VFIO_DEVICE_FEATURE_DMA_BUF_REVOKE");
	return -EOPNOTSUPP;
#endif
}

int __vfio_pci_dmabuf_memattr(struct vfio_pci_device *dev, int buf_fd, uint32_t memattr,
			      struct why *why)
{
#ifdef VFIO_DEVICE_FEATURE_DMA_BUF_MEMATTR
	struct vfio_device_feature_dma_buf_memattr m = { .dmabuf_fd = buf_fd, .memattr = memattr };

	(void)why;
	return feature_ioctl(dev, VFIO_DEVICE_FEATURE_DMA_BUF_MEMATTR, &m, sizeof(m));
#else
	(void)dev; (void)buf_fd; (void)memattr;
	why_set(why, "built against uapi headers without VFIO_DEVICE_FEATURE_DMA_BUF_MEMATTR");
	return -EOPNOTSUPP;
#endif
}

static __attribute__((unused)) int feature_probe(struct vfio_pci_device *dev, uint32_t feature, const char *name,
			 struct why *why)
{
	int ret = feature_ioctl(dev, feature, NULL, 0);

	if (ret)
		why_set(why, "%s: %s probe: %s (a kernel without \"vfio/pci: Add mmap() for DMABUFs\")",
			devsel_name(dev->bdf), name, strerror(-ret));
	return ret ? -EOPNOTSUPP : 0;
}

int __vfio_pci_dmabuf_revoke_probe(struct vfio_pci_device *dev, struct why *why)
{
#ifdef VFIO_DEVICE_FEATURE_DMA_BUF_REVOKE
	return feature_probe(dev, VFIO_DEVICE_FEATURE_DMA_BUF_REVOKE, "VFIO_DEVICE_FEATURE_DMA_BUF_REVOKE", why);
#else
	(void)dev;
	why_set(why, "built against uapi headers without VFIO_DEVICE_FEATURE_DMA_BUF_REVOKE");
	return -EOPNOTSUPP;
#endif
}

int __vfio_pci_dmabuf_memattr_probe(struct vfio_pci_device *dev, struct why *why)
{
#ifdef VFIO_DEVICE_FEATURE_DMA_BUF_MEMATTR
	return feature_probe(dev, VFIO_DEVICE_FEATURE_DMA_BUF_MEMATTR, "VFIO_DEVICE_FEATURE_DMA_BUF_MEMATTR", why);
#else
	(void)dev;
	why_set(why, "built against uapi headers without VFIO_DEVICE_FEATURE_DMA_BUF_MEMATTR");
	return -EOPNOTSUPP;
#endif
}

int __dmabuf_import_try(int buf_fd, size_t len, struct why *why)
{
	struct iommu ioas = { .container_fd = -1, .iommufd = -1 };
	int ret = __iommu_init(&ioas, IOMMU_MODE_IOMMUFD, why);

	if (!ret) {
		ret = __iommu_map_file(&ioas, buf_fd, 0, 1ULL << 32, len);
		if (ret == -EOPNOTSUPP || ret == -ENOTTY) {
			why_set(why, "no IOMMU_IOAS_MAP_FILE (headers or kernel before 6.13)");
			ret = -EOPNOTSUPP;
		} else if (!ret) {
			__iommu_unmap(&ioas, 1ULL << 32, len, NULL);
		}
	}
	iommu_cleanup(&ioas);
	return ret;
}

int __dmabuf_set_name(int buf_fd, const char *name)
{
	return ioctl(buf_fd, DMA_BUF_SET_NAME, name) ? -errno : 0;
}

int __mapping_name(const void *addr, char *buf, size_t len)
{
	unsigned long lo, hi, a = (unsigned long)addr;
	char line[512];
	int n;
	FILE *f = fopen("/proc/self/maps", "re");

	if (!f)
		return -errno;
	buf[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %n", &lo, &hi, &n) < 2 || a < lo || a >= hi)
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(buf, len, "%s", line + n);
		break;
	}
	fclose(f);
	return 0;
}

int __pte_cache_bits(const void *addr, char *bits, size_t len, struct why *why)
{
	/* current_kernel: all of this process's page table (current_user exists with PTI only). */
	static const char path[] = "/sys/kernel/debug/page_tables/current_kernel";
	unsigned long lo, hi, a = (unsigned long)addr;
	char line[512];
	int ret = -ENOENT;
	FILE *f = fopen(path, "re");

	if (!f) {
		ret = -errno;
		why_set(why, "%s: %s (CONFIG_PTDUMP_DEBUGFS and a mounted debugfs show it)",
			path, strerror(errno));
		return ret;
	}
	/* "0x00007f0000000000-0x00007f0000001000           4K USR RW         PCD   NX pte" */
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "0x%lx-0x%lx", &lo, &hi) != 2 || a < lo || a >= hi)
			continue;
		snprintf(bits, len, "%s%s%s", strstr(line, " PCD") ? "PCD" : "",
			 strstr(line, " PCD") && strstr(line, " PWT") ? " " : "",
			 strstr(line, " PWT") ? "PWT" : "");
		ret = 0;
		break;
	}
	fclose(f);
	if (ret) {
		why_note("%s does not list %p", path, addr);
		why_set(why, "%s does not list the address of the mapping", path);
	}
	return ret;
}

int __pat_memtype(uint64_t phys, char *type, size_t len)
{
	unsigned long long lo, hi;
	char line[256], t[64];
	FILE *f = fopen("/sys/kernel/debug/x86/pat_memtype_list", "re");
	int ret = -ENOENT;

	if (!f)
		return -EOPNOTSUPP;
	/* "PAT: [mem 0x00000000fd000000-0x00000000fe000000] write-combining" */
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "PAT: [mem 0x%llx-0x%llx] %63s", &lo, &hi, t) == 3 && phys >= lo && phys < hi) {
			snprintf(type, len, "%s", t);
			ret = 0;
			break;
		}
	fclose(f);
	return ret;
}

uint64_t pci_bar_phys(const char *bdf, int bar)
{
	unsigned long long start = 0, end, flags;
	char path[96], line[128];
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource", bdf);
	f = fopen(path, "re");
	if (!f)
		return 0;
	for (i = 0; i <= bar && fgets(line, sizeof(line), f); i++)
		if (i == bar && sscanf(line, "0x%llx 0x%llx 0x%llx", &start, &end, &flags) != 3)
			start = 0;
	fclose(f);
	return start;
}
