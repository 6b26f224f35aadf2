// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/iommufd.h>
#include <linux/pci_regs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "devsel.h"
#include "vfio_pci.h"
#include "util.h"

/* Say which step failed, keep errno as the result. */
static int vfio_fail(struct why *why, const char *bdf, const char *what)
{
	int err = errno;

	why_set(why, "%s: %s: %s", bdf, what, strerror(err));
	return -err;
}
#define VFIO_FAIL(why, what) vfio_fail(why, dev->bdf, what)

static int vfio_group_attach(struct vfio_pci_device *dev, int group, struct why *why)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	struct iommu *iommu = dev->iommu;
	char path[64];

	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	dev->group_fd = open(path, O_RDWR | O_CLOEXEC);
	if (dev->group_fd < 0) {
		if (errno == ENOENT) {
			why_set(why, "%s has no /dev/vfio/GROUP (kernel built without CONFIG_VFIO_GROUP?)",
				devsel_name(dev->bdf));
			why_note("its group is IOMMU group %d: no %s", group, path);
			return -EOPNOTSUPP;
		}
		return -errno;
	}
	if (ioctl(dev->group_fd, VFIO_GROUP_GET_STATUS, &status))
		return VFIO_FAIL(why, "VFIO_GROUP_GET_STATUS");
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		why_set(why, "the IOMMU group of %s is not viable: another device in it is bound to a host driver",
			devsel_name(dev->bdf));
		why_note("its group is IOMMU group %d", group);
		return -EOPNOTSUPP;
	}
	if (ioctl(dev->group_fd, VFIO_GROUP_SET_CONTAINER, &iommu->container_fd))
		return VFIO_FAIL(why, "VFIO_GROUP_SET_CONTAINER");
	if (!iommu->iommu_set) {
		if (ioctl(iommu->container_fd, VFIO_SET_IOMMU, iommu->mode->iommu_type))
			return VFIO_FAIL(why, "VFIO_SET_IOMMU");
		iommu->iommu_set = true;
	}
	dev->fd = ioctl(dev->group_fd, VFIO_GROUP_GET_DEVICE_FD, dev->bdf);
	return dev->fd < 0 ? VFIO_FAIL(why, "VFIO_GROUP_GET_DEVICE_FD") : 0;
}

static int vfio_cdev_attach(struct vfio_pci_device *dev, struct why *why)
{
	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind),
		.iommufd = dev->iommu->iommufd,
	};
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
		.pt_id = dev->iommu->ioas_id,
	};
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev", dev->bdf);
	dir = opendir(path);
	if (!dir) {
		why_set(why, "%s has no vfio device cdev (kernel built without CONFIG_VFIO_DEVICE_CDEV)",
			devsel_name(dev->bdf));
		return -EOPNOTSUPP;
	}
	path[0] = '\0';
	while ((de = readdir(dir)))
		if (!strncmp(de->d_name, "vfio", 4))
			snprintf(path, sizeof(path), "/dev/vfio/devices/%s", de->d_name);
	closedir(dir);
	if (!path[0])
		return -ENOENT;
	dev->fd = open(path, O_RDWR | O_CLOEXEC);
	if (dev->fd < 0)
		return VFIO_FAIL(why, path);
	if (ioctl(dev->fd, VFIO_DEVICE_BIND_IOMMUFD, &bind))
		return VFIO_FAIL(why, "VFIO_DEVICE_BIND_IOMMUFD");
	if (ioctl(dev->fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach))
		return VFIO_FAIL(why, "VFIO_DEVICE_ATTACH_IOMMUFD_PT");
	return 0;
}

int __vfio_pci_device_open(struct vfio_pci_device *dev, const char *bdf, struct iommu *iommu,
			   struct why *why)
{
	int group, ret, i;

	memset(dev, 0, sizeof(*dev));
	dev->group_fd = dev->fd = -1;
	dev->iommu = iommu;
	snprintf(dev->bdf, sizeof(dev->bdf), "%s", bdf);

	group = __pci_iommu_group(bdf);
	if (group < 0) {
		why_set(why, "%s has no IOMMU group (IOMMU disabled, or intel_iommu=on missing)",
			devsel_name(bdf));
		return -EOPNOTSUPP;
	}
	ret = __pci_driver_bind(bdf, "vfio-pci", &dev->binding, PCI_BIND_TIMEOUT_MS);
	if (ret == -ENOENT) {
		why_set(why, "vfio-pci is not loaded (modprobe vfio-pci)");
		ret = -EOPNOTSUPP;
		goto fail;
	}
	if (ret) {
		why_set(why, "binding %s to vfio-pci: %s", bdf, strerror(-ret));
		goto fail;
	}
	if (iommu->container_fd >= 0)
		ret = vfio_group_attach(dev, group, why);
	else
		ret = vfio_cdev_attach(dev, why);
	if (ret)
		goto fail;

	for (i = 0; i < VFIO_PCI_NUM_REGIONS; i++) {
		dev->regions[i] = (struct vfio_region_info){
			.argsz = sizeof(dev->regions[i]),
			.index = i,
		};
		/* Only VGA devices have the VGA region: EINVAL for the rest. */
		if (ioctl(dev->fd, VFIO_DEVICE_GET_REGION_INFO, &dev->regions[i]) &&
		    !(i == VFIO_PCI_VGA_REGION_INDEX && errno == EINVAL)) {
			ret = VFIO_FAIL(why, "VFIO_DEVICE_GET_REGION_INFO");
			goto fail;
		}
	}
	return 0;
fail:
	vfio_pci_device_close(dev);
	/*
	 * Unplugged since the test selected it (make check's unplug faults do
	 * that at any moment): the device is missing, which is a SKIP as when
	 * it was never there, not a failure of the test.
	 */
	if (ret != -EOPNOTSUPP && pci_device_gone(bdf)) {
		why_set(why, "no PCI device at %s (it went away while being opened)", devsel_origin(bdf));
		ret = -EOPNOTSUPP;
	}
	return ret;
}

int __vfio_pci_device_open_any(struct vfio_pci_device *dev, const char *bdf, struct iommu *iommu,
			       struct why *why)
{
	static const char *const modes[] = { IOMMU_MODE_VFIO_TYPE1V2, IOMMU_MODE_IOMMUFD };
	int ret = -EOPNOTSUPP;
	size_t i;

	for (i = 0; i < ARRAY_LEN(modes) && ret == -EOPNOTSUPP; i++) {
		ret = __iommu_init(iommu, modes[i], why);
		if (!ret)
			ret = __vfio_pci_device_open(dev, bdf, iommu, why);
		if (ret)
			iommu_cleanup(iommu);
	}
	return ret;
}

int __vfio_pci_device_reopen(struct vfio_pci_device *dev)
{
	if (dev->fd >= 0)
		close(dev->fd);
	dev->fd = -1;
	if (dev->group_fd >= 0) {
		dev->fd = ioctl(dev->group_fd, VFIO_GROUP_GET_DEVICE_FD, dev->bdf);
		return dev->fd < 0 ? -errno : 0;
	}
	return vfio_cdev_attach(dev, NULL);
}

void vfio_pci_device_close(struct vfio_pci_device *dev)
{
	if (dev->fd >= 0)
		close(dev->fd);
	if (dev->group_fd >= 0)
		close(dev->group_fd);
	dev->fd = dev->group_fd = -1;
	__pci_driver_restore(&dev->binding, PCI_BIND_TIMEOUT_MS);
}

int __vfio_pci_config_read(struct vfio_pci_device *dev, unsigned int off, void *buf, size_t len)
{
	struct vfio_region_info *r = &dev->regions[VFIO_PCI_CONFIG_REGION_INDEX];
	ssize_t n = pread(dev->fd, buf, len, r->offset + off);

	return n == (ssize_t)len ? 0 : n < 0 ? -errno : -EIO;
}

int __vfio_pci_config_write(struct vfio_pci_device *dev, unsigned int off, const void *buf, size_t len)
{
	struct vfio_region_info *r = &dev->regions[VFIO_PCI_CONFIG_REGION_INDEX];
	ssize_t n = pwrite(dev->fd, buf, len, r->offset + off);

	return n == (ssize_t)len ? 0 : n < 0 ? -errno : -EIO;
}

uint16_t vfio_pci_config_readw(struct vfio_pci_device *dev, unsigned int off)
{
	uint16_t val;
	int ret = __vfio_pci_config_read(dev, off, &val, sizeof(val));

	PFNMAP_ASSERT(!ret, "%s: config read of 2 bytes at 0x%x: %s", dev->bdf, off, strerror(-ret));
	return val;
}

void vfio_pci_config_writew(struct vfio_pci_device *dev, unsigned int off, uint16_t val)
{
	int ret = __vfio_pci_config_write(dev, off, &val, sizeof(val));

	PFNMAP_ASSERT(!ret, "%s: config write of 0x%04x at 0x%x: %s", dev->bdf, val, off,
		      strerror(-ret));
}

int __vfio_pci_command_set(struct vfio_pci_device *dev, uint16_t set, uint16_t clear)
{
	uint16_t cmd;
	int ret = __vfio_pci_config_read(dev, PCI_COMMAND, &cmd, sizeof(cmd));

	if (ret)
		return ret;
	cmd = (cmd & ~clear) | set;
	return __vfio_pci_config_write(dev, PCI_COMMAND, &cmd, sizeof(cmd));
}

void vfio_pci_command_set(struct vfio_pci_device *dev, uint16_t set, uint16_t clear)
{
	int ret = __vfio_pci_command_set(dev, set, clear);

	PFNMAP_ASSERT(!ret, "%s: PCI_COMMAND |= 0x%04x, &= ~0x%04x: %s", dev->bdf, set, clear,
		      strerror(-ret));
}

int vfio_pci_largest_bar(struct vfio_pci_device *dev)
{
	int i, best = -1;

	for (i = VFIO_PCI_BAR0_REGION_INDEX; i <= VFIO_PCI_BAR5_REGION_INDEX; i++) {
		if (!(dev->regions[i].flags & VFIO_REGION_INFO_FLAG_MMAP))
			continue;
		if (best < 0 || dev->regions[i].size > dev->regions[best].size)
			best = i;
	}
	return best;
}

void *__vfio_pci_bar_map(struct vfio_pci_device *dev, int bar, size_t size, size_t align)
{
	return __vfio_pci_bar_map_skewed(dev, bar, size, align, 0);
}

void *__vfio_pci_bar_map_skewed(struct vfio_pci_device *dev, int bar, size_t size, size_t align,
				size_t skew)
{
	struct vfio_region_info *r;
	void *resv, *addr;
	uintptr_t start;

	if (bar < VFIO_PCI_BAR0_REGION_INDEX || bar > VFIO_PCI_BAR5_REGION_INDEX) {
		errno = EINVAL;
		return MAP_FAILED;
	}
	r = &dev->regions[bar];
	if (!(r->flags & VFIO_REGION_INFO_FLAG_MMAP)) {
		errno = ENODEV;
		return MAP_FAILED;
	}
	if (!size)
		size = r->size;
	if (!align)
		align = SZ_4K;
	/*
	 * Reserve address space with room for the alignment, then place the
	 * mapping over the aligned part. Works for BARs of any size, 2 GiB and
	 * beyond included.
	 */
	resv = mmap(NULL, size + align + skew, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (resv == MAP_FAILED)
		return MAP_FAILED;
	start = ALIGN_UP((uintptr_t)resv, align) + skew;
	addr = mmap((void *)start, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		    dev->fd, r->offset);
	if (addr == MAP_FAILED) {
		int err = errno;

		munmap(resv, size + align + skew);
		errno = err;
		return MAP_FAILED;
	}
	if (start > (uintptr_t)resv)
		munmap(resv, start - (uintptr_t)resv);
	if ((uintptr_t)resv + size + align + skew > start + size)
		munmap((void *)(start + size), (uintptr_t)resv + align + skew - start);
	return addr;
}

void *vfio_pci_bar_map(struct vfio_pci_device *dev, int bar, size_t size, size_t align)
{
	void *addr = __vfio_pci_bar_map(dev, bar, size, align);

	PFNMAP_ASSERT(addr != MAP_FAILED, "mmap of %s BAR%d (size 0x%zx, align 0x%zx): %s",
		      dev->bdf, bar, size, align, strerror(errno));
	return addr;
}

void vfio_pci_bar_unmap(void *addr, size_t size)
{
	munmap(addr, size);
}

int __vfio_pci_msi_set(struct vfio_pci_device *dev, int efd)
{
	char buf[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
	struct vfio_irq_set *set = (void *)buf;

	*set = (struct vfio_irq_set){
		.argsz = sizeof(buf),
		.flags = (efd >= 0 ? VFIO_IRQ_SET_DATA_EVENTFD : VFIO_IRQ_SET_DATA_NONE) |
			 VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = VFIO_PCI_MSI_IRQ_INDEX,
		.start = 0,
		.count = efd >= 0 ? 1 : 0,
	};
	if (efd >= 0)
		memcpy(set->data, &efd, sizeof(int32_t));
	else
		set->argsz = sizeof(*set);
	return ioctl(dev->fd, VFIO_DEVICE_SET_IRQS, set) ? -errno : 0;
}
