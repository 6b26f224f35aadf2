// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <linux/iommufd.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iommu.h"
#include "util.h"

#define IOMMU_MODE_ENTRY(_name, _path, _type, _iommufd)			\
	{ .name = #_name, .container_path = _path, .iommu_type = _type, .iommufd = _iommufd },
static const struct iommu_mode iommu_modes[] = { IOMMU_MODES(IOMMU_MODE_ENTRY) };

const struct iommu_mode *iommu_mode_lookup(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(iommu_modes); i++)
		if (!strcmp(iommu_modes[i].name, name))
			return &iommu_modes[i];
	return NULL;
}

bool iommu_mode_is_iommufd(const struct iommu_mode *mode)
{
	return mode->iommufd;
}

static bool path_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

int __iommu_init(struct iommu *iommu, const char *name, struct why *why)
{
	const struct iommu_mode *mode = iommu_mode_lookup(name);

	memset(iommu, 0, sizeof(*iommu));
	iommu->container_fd = -1;
	iommu->iommufd = -1;
	if (!mode) {
		why_set(why, "unknown IOMMU mode %s", name);
		return -EINVAL;
	}
	iommu->mode = mode;

	if (iommu_mode_is_iommufd(mode) && !path_exists("/dev/iommu")) {
		why_set(why, "%s: no /dev/iommu (kernel built without CONFIG_IOMMUFD)", name);
		return -EOPNOTSUPP;
	}

	if (!mode->container_path) {
		struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };

		iommu->iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
		if (iommu->iommufd < 0)
			return -errno;
		if (ioctl(iommu->iommufd, IOMMU_IOAS_ALLOC, &alloc))
			return -errno;
		iommu->ioas_id = alloc.out_ioas_id;
		return 0;
	}

	if (!iommu_mode_is_iommufd(mode)) {
		if (!path_exists(mode->container_path)) {
			why_set(why, "%s: no %s (kernel built without CONFIG_VFIO_CONTAINER)",
				name, mode->container_path);
			return -EOPNOTSUPP;
		}
		/*
		 * With CONFIG_IOMMUFD_VFIO_CONTAINER, /dev/vfio/vfio is iommufd's
		 * emulation; only the real type1 driver is this mode.
		 */
		if (!path_exists("/sys/module/vfio_iommu_type1")) {
			why_set(why, "%s: vfio_iommu_type1 is not loaded (%s is iommufd's emulation or type1 is missing)",
				name, mode->container_path);
			return -EOPNOTSUPP;
		}
	}

	iommu->container_fd = open(mode->container_path, O_RDWR | O_CLOEXEC);
	if (iommu->container_fd < 0)
		return -errno;
	if (ioctl(iommu->container_fd, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
		why_set(why, "%s: unexpected VFIO API version", name);
		return -EOPNOTSUPP;
	}
	if (ioctl(iommu->container_fd, VFIO_CHECK_EXTENSION, mode->iommu_type) <= 0) {
		why_set(why, "%s: the container does not offer IOMMU type %lu", name,
			mode->iommu_type);
		return -EOPNOTSUPP;
	}
	return 0;
}

void iommu_cleanup(struct iommu *iommu)
{
	if (iommu->container_fd >= 0)
		close(iommu->container_fd);
	if (iommu->iommufd >= 0)
		close(iommu->iommufd);
	iommu->container_fd = iommu->iommufd = -1;
}

int __iommu_map(struct iommu *iommu, void *vaddr, uint64_t iova, uint64_t size)
{
	if (iommu->iommufd >= 0) {
		struct iommu_ioas_map map = {
			.size = sizeof(map),
			.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
				 IOMMU_IOAS_MAP_WRITEABLE,
			.ioas_id = iommu->ioas_id,
			.user_va = (uintptr_t)vaddr,
			.length = size,
			.iova = iova,
		};

		return ioctl(iommu->iommufd, IOMMU_IOAS_MAP, &map) ? -errno : 0;
	} else {
		struct vfio_iommu_type1_dma_map map = {
			.argsz = sizeof(map),
			.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
			.vaddr = (uintptr_t)vaddr,
			.iova = iova,
			.size = size,
		};

		return ioctl(iommu->container_fd, VFIO_IOMMU_MAP_DMA, &map) ? -errno : 0;
	}
}

int __iommu_map_file(struct iommu *iommu, int fd, uint64_t start, uint64_t iova, uint64_t len)
{
#ifdef IOMMU_IOAS_MAP_FILE
	struct iommu_ioas_map_file map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = iommu->ioas_id,
		.fd = fd,
		.start = start,
		.length = len,
		.iova = iova,
	};

	if (iommu->iommufd < 0)
		return -EOPNOTSUPP;
	return ioctl(iommu->iommufd, IOMMU_IOAS_MAP_FILE, &map) ? -errno : 0;
#else
	(void)iommu; (void)fd; (void)start; (void)iova; (void)len;
	return -EOPNOTSUPP;
#endif
}

int __iommu_unmap(struct iommu *iommu, uint64_t iova, uint64_t size, uint64_t *unmapped)
{
	int ret;

	if (iommu->iommufd >= 0) {
		struct iommu_ioas_unmap unmap = {
			.size = sizeof(unmap),
			.ioas_id = iommu->ioas_id,
			.iova = iova,
			.length = size,
		};

		ret = ioctl(iommu->iommufd, IOMMU_IOAS_UNMAP, &unmap) ? -errno : 0;
		if (unmapped)
			*unmapped = ret ? 0 : unmap.length;
	} else {
		struct vfio_iommu_type1_dma_unmap unmap = {
			.argsz = sizeof(unmap),
			.iova = iova,
			.size = size,
		};

		ret = ioctl(iommu->container_fd, VFIO_IOMMU_UNMAP_DMA, &unmap) ? -errno : 0;
		if (unmapped)
			*unmapped = ret ? 0 : unmap.size;
	}
	return ret;
}

void iommu_map(struct iommu *iommu, void *vaddr, uint64_t iova, uint64_t size)
{
	int ret = __iommu_map(iommu, vaddr, iova, size);

	PFNMAP_ASSERT(!ret, "%s: map iova=0x%llx size=0x%llx: %s", iommu->mode->name,
		      (unsigned long long)iova, (unsigned long long)size, strerror(-ret));
}

void iommu_unmap(struct iommu *iommu, uint64_t iova, uint64_t size)
{
	uint64_t unmapped = 0;
	int ret = __iommu_unmap(iommu, iova, size, &unmapped);

	PFNMAP_ASSERT(!ret && unmapped == size, "%s: unmap iova=0x%llx size=0x%llx: %s, unmapped 0x%llx",
		      iommu->mode->name, (unsigned long long)iova, (unsigned long long)size,
		      strerror(-ret), (unsigned long long)unmapped);
}

static int iommufd_iova_ranges(struct iommu *iommu, struct iova_range *ranges, int max)
{
	struct iommu_iova_range r[64];
	struct iommu_ioas_iova_ranges q = {
		.size = sizeof(q),
		.ioas_id = iommu->ioas_id,
		.num_iovas = ARRAY_LEN(r),
		.allowed_iovas = (uintptr_t)r,
	};
	int i;

	if (ioctl(iommu->iommufd, IOMMU_IOAS_IOVA_RANGES, &q))
		return -errno;
	for (i = 0; i < (int)q.num_iovas && i < max; i++) {
		ranges[i].start = r[i].start;
		ranges[i].last = r[i].last;
	}
	return i;
}

static int container_iova_ranges(struct iommu *iommu, struct iova_range *ranges, int max)
{
	union {
		struct vfio_iommu_type1_info info;
		char buf[4096];
	} u = { .info = { .argsz = sizeof(u) } };
	struct vfio_info_cap_header *hdr;
	uint32_t off;
	int i, n = 0;

	if (ioctl(iommu->container_fd, VFIO_IOMMU_GET_INFO, &u.info))
		return -errno;
	if (!(u.info.flags & VFIO_IOMMU_INFO_CAPS) || !u.info.cap_offset)
		return -ENOENT;
	for (off = u.info.cap_offset; off && off < sizeof(u); off = hdr->next) {
		struct vfio_iommu_type1_info_cap_iova_range *cap;

		hdr = (void *)(u.buf + off);
		if (hdr->id != VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE)
			continue;
		cap = (void *)hdr;
		for (i = 0; i < (int)cap->nr_iovas && n < max; i++, n++) {
			ranges[n].start = cap->iova_ranges[i].start;
			ranges[n].last = cap->iova_ranges[i].end;
		}
		return n;
	}
	return -ENOENT;
}

int __iommu_iova_ranges(struct iommu *iommu, struct iova_range *ranges, int max)
{
	if (iommu->iommufd >= 0)
		return iommufd_iova_ranges(iommu, ranges, max);
	return container_iova_ranges(iommu, ranges, max);
}
