// SPDX-License-Identifier: GPL-2.0
/*
 * What each IOMMU mode does with a PFNMAP (BAR) range. type1 follows the
 * PFNs and maps it; iommufd pins pages and cannot, so it answers EFAULT, in
 * its native IOMMU_IOAS_MAP and in its VFIO_IOMMU_MAP_DMA emulation alike,
 * also when only part of the range is a BAR (seed 002). A failed map must
 * leave nothing mapped. Device memory reaches iommufd through files instead:
 * IOMMU_IOAS_MAP_FILE of a memfd must work for DMA.
 */
#include <linux/vfio.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "edu.h"
#include "iommu.h"
#include "mem.h"
#include "pfnmap_test.h"
#include "util.h"
#include "vfio_pci.h"

#define IOVA		(1ULL << 32)
#define IOVA_SRC	(1ULL << 33)
#define PIECE		SZ_2M

FIXTURE(pfnmap_map) {
	struct kmsg kmsg;
	struct iommu iommu;
	struct vfio_pci_device bar_dev;
	bool bar_open;
	uint8_t *resv;		/* [anon PIECE][BAR PIECE][anon PIECE], adjacent VMAs */
	uint8_t *anon, *bar, *anon2;
	bool mapped;
	uint64_t mapped_len;
};

FIXTURE_VARIANT(pfnmap_map) {
	const char *iommu_mode;
	int bar_errno;		/* what a map touching the BAR gives */
};

FIXTURE_VARIANT_ADD(pfnmap_map, vfio_type1_iommu) {
	.iommu_mode = IOMMU_MODE_VFIO_TYPE1,
};
FIXTURE_VARIANT_ADD(pfnmap_map, vfio_type1v2_iommu) {
	.iommu_mode = IOMMU_MODE_VFIO_TYPE1V2,
};
FIXTURE_VARIANT_ADD(pfnmap_map, iommufd_compat_type1) {
	.iommu_mode = IOMMU_MODE_IOMMUFD_COMPAT_TYPE1, .bar_errno = EFAULT,
};
FIXTURE_VARIANT_ADD(pfnmap_map, iommufd_compat_type1v2) {
	.iommu_mode = IOMMU_MODE_IOMMUFD_COMPAT_TYPE1V2, .bar_errno = EFAULT,
};
FIXTURE_VARIANT_ADD(pfnmap_map, iommufd) {
	.iommu_mode = IOMMU_MODE_IOMMUFD, .bar_errno = EFAULT,
};

static void pfnmap_map_close(FIXTURE_DATA(pfnmap_map) *self)
{
	if (self->resv)
		munmap(self->resv, 3 * PIECE);
	self->resv = NULL;
	if (self->bar_open)
		vfio_pci_device_close(&self->bar_dev);
	self->bar_open = false;
	iommu_cleanup(&self->iommu);
}

FIXTURE_SETUP(pfnmap_map)
{
	char why[256] = "";
	const char *bdf;
	int ret, bar;

	kmsg_open(&self->kmsg);
	self->iommu.container_fd = self->iommu.iommufd = -1;
	bdf = devsel_bar(why, sizeof(why));
	if (!bdf)
		SKIP(return, "%s", why);
	ret = __iommu_init(&self->iommu, variant->iommu_mode, why, sizeof(why));
	if (!ret)
		ret = __vfio_pci_device_open(&self->bar_dev, bdf, &self->iommu, why, sizeof(why));
	self->bar_open = !ret;
	if (ret) {
		pfnmap_map_close(self);
		if (ret == -EOPNOTSUPP)
			SKIP(return, "%s", why);
		ASSERT_EQ(0, ret) TH_LOG("%s", why);
	}
	bar = vfio_pci_largest_bar(&self->bar_dev);
	if (bar < 0 || self->bar_dev.regions[bar].size < PIECE) {
		pfnmap_map_close(self);
		SKIP(return, "%s has no mmap-able BAR of 2 MiB", bdf);
	}

	/* Anonymous memory right before and after the BAR: one range, three VMAs. */
	self->resv = mmap(NULL, 3 * PIECE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->resv);
	self->anon = self->resv;
	self->bar = mmap(self->resv + PIECE, PIECE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
			 self->bar_dev.fd, self->bar_dev.regions[bar].offset);
	self->anon2 = self->resv + 2 * PIECE;
	if (self->bar == MAP_FAILED) {
		pfnmap_map_close(self);
		ASSERT_TRUE(false) TH_LOG("mmap of %s BAR%d: %s", bdf, bar, strerror(errno));
	}
	memset(self->anon, 0x5a, PIECE);
	memset(self->anon2, 0xa5, PIECE);
}

FIXTURE_TEARDOWN(pfnmap_map)
{
	if (self->mapped)
		__iommu_unmap(&self->iommu, IOVA, self->mapped_len, NULL);
	pfnmap_map_close(self);
	KMSG_CHECK(&self->kmsg);
}

/* Map [vaddr, vaddr + len) at IOVA and compare with the mode's expectation. */
static void check_map(struct __test_metadata *_metadata, FIXTURE_DATA(pfnmap_map) *self,
		      int want, void *vaddr, size_t len, const char *what)
{
	int ret = __iommu_map(&self->iommu, vaddr, IOVA, len);

	if (!ret) {
		self->mapped = true;
		self->mapped_len = len;
	}
	ASSERT_EQ(-want, ret) TH_LOG("%s: map of %s gave %s, expected %s", self->iommu.mode->name,
				     what, ret ? strerror(-ret) : "success",
				     want ? strerror(want) : "success");
	if (ret) {
		/* Nothing may stay behind: the same IOVA range takes anonymous memory. */
		ret = __iommu_map(&self->iommu, self->anon, IOVA, PIECE);
		ASSERT_EQ(0, ret) TH_LOG("after the failed map, IOVA 0x%llx is not free: %s",
					 IOVA, strerror(-ret));
		self->mapped = true;
		self->mapped_len = PIECE;
		if (len > PIECE) {
			ret = __iommu_map(&self->iommu, self->anon2, IOVA + PIECE, PIECE);
			ASSERT_EQ(0, ret) TH_LOG("after the failed map, IOVA 0x%llx is not free: %s",
						 IOVA + PIECE, strerror(-ret));
			self->mapped_len = 2 * PIECE;
		}
	}
}

TEST_F(pfnmap_map, bar)
{
	check_map(_metadata, self, variant->bar_errno, self->bar, PIECE, "a BAR range");
}

TEST_F(pfnmap_map, anon_then_bar)
{
	check_map(_metadata, self, variant->bar_errno, self->anon, 2 * PIECE,
		  "a range from anonymous memory into a BAR");
}

TEST_F(pfnmap_map, bar_then_anon)
{
	check_map(_metadata, self, variant->bar_errno, self->bar, 2 * PIECE,
		  "a range from a BAR into anonymous memory");
}

TEST_F(pfnmap_map, anon_only)
{
	check_map(_metadata, self, 0, self->anon, PIECE, "anonymous memory (control)");
}

/*
 * A memfd reaches iommufd through IOMMU_IOAS_MAP_FILE: the edu device reads
 * a pattern through it and writes it back to anonymous memory.
 */
FIXTURE(iommufd_map_file) {
	struct kmsg kmsg;
	struct iommu iommu;
	struct vfio_pci_device dev;
	bool dev_open;
	struct edu edu;
	int memfd;
	uint8_t *file_map;
	struct mem_buf dst;
};

FIXTURE_SETUP(iommufd_map_file)
{
	char why[256] = "";
	const char *bdf;
	int ret;

	kmsg_open(&self->kmsg);
	self->iommu.container_fd = self->iommu.iommufd = -1;
	self->memfd = -1;
	bdf = devsel_edu(why, sizeof(why));
	if (!bdf)
		SKIP(return, "%s", why);
	ret = __iommu_init(&self->iommu, IOMMU_MODE_IOMMUFD, why, sizeof(why));
	if (!ret)
		ret = __vfio_pci_device_open(&self->dev, bdf, &self->iommu, why, sizeof(why));
	self->dev_open = !ret;
	if (!ret) {
		ret = __edu_init(&self->edu, &self->dev);
		if (ret)
			snprintf(why, sizeof(why), "edu at %s does not respond: %s", bdf, strerror(-ret));
	}
	if (ret) {
		if (self->dev_open)
			vfio_pci_device_close(&self->dev);
		self->dev_open = false;
		iommu_cleanup(&self->iommu);
		if (ret == -EOPNOTSUPP)
			SKIP(return, "%s", why);
		ASSERT_EQ(0, ret) TH_LOG("%s", why);
	}
	self->memfd = memfd_create("pfnmap-map-file", MFD_CLOEXEC);
	ASSERT_LE(0, self->memfd);
	ASSERT_EQ(0, ftruncate(self->memfd, SZ_2M));
	self->file_map = mmap(NULL, SZ_2M, PROT_READ | PROT_WRITE, MAP_SHARED, self->memfd, 0);
	ASSERT_NE(MAP_FAILED, self->file_map);
	ASSERT_EQ(0, __mem_buf_alloc(&self->dst, MEM_ANON, SZ_2M, why, sizeof(why)));
}

FIXTURE_TEARDOWN(iommufd_map_file)
{
	if (self->file_map && self->file_map != MAP_FAILED)
		munmap(self->file_map, SZ_2M);
	if (self->memfd >= 0)
		close(self->memfd);
	mem_buf_free(&self->dst);
	if (self->dev_open) {
		edu_cleanup(&self->edu);
		vfio_pci_device_close(&self->dev);
	}
	iommu_cleanup(&self->iommu);
	KMSG_CHECK(&self->kmsg);
}

TEST_F(iommufd_map_file, memfd_dma)
{
	uint32_t i, len = 1024;
	uint8_t *dst = self->dst.addr;
	int ret;

	for (i = 0; i < len; i++)
		self->file_map[4096 + i] = i * 37 + 11;
	ret = __iommu_map_file(&self->iommu, self->memfd, 0, IOVA_SRC, SZ_2M);
	if (ret == -EOPNOTSUPP || ret == -ENOTTY)
		SKIP(return, "IOMMU_IOAS_MAP_FILE is not available (built against old headers, or kernel before 6.13)");
	ASSERT_EQ(0, ret) TH_LOG("IOMMU_IOAS_MAP_FILE of a memfd: %s", strerror(-ret));
	iommu_map(&self->iommu, dst, IOVA, SZ_2M);

	edu_dma(&self->edu, EDU_RAM_TO_DEVICE, IOVA_SRC + 4096, 0, len);
	edu_dma(&self->edu, EDU_DEVICE_TO_RAM, IOVA + 8192, 0, len);
	ASSERT_EQ(0, memcmp(self->file_map + 4096, dst + 8192, len))
		TH_LOG("what edu read through the memfd mapping did not come back");
	iommu_unmap(&self->iommu, IOVA, SZ_2M);
	iommu_unmap(&self->iommu, IOVA_SRC, SZ_2M);
}

PFNMAP_TEST_MAIN
