// SPDX-License-Identifier: GPL-2.0
/*
 * What each IOMMU mode does with a PFNMAP (BAR) range. type1 follows the
 * PFNs and maps it; iommufd pins pages and cannot, so it answers EFAULT, in
 * its native IOMMU_IOAS_MAP and in its VFIO_IOMMU_MAP_DMA emulation alike,
 * also when only part of the range is a BAR (README, "The bugs"). A failed
 * map must leave nothing mapped: a DMA through it must not arrive, and its
 * IOVA range must take another map. Device memory reaches iommufd through files instead:
 * IOMMU_IOAS_MAP_FILE of a memfd must work for DMA.
 */
#include <linux/vfio.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "dma_bar_pair.h"
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
	struct dma_bar_pair pair;	/* the BAR device; a DMA device, where there is one, for the DMA check */
	uint8_t *resv;		/* [anon PIECE][BAR PIECE][anon PIECE], adjacent VMAs */
	uint8_t *anon, *bar, *anon2;
	int bar_index;
	uint8_t *big;		/* [BIG_ANON of anonymous memory][BAR PIECE] */
	struct mem_buf src;	/* mapped at IOVA_SRC: what the device copies in the DMA check */
	bool mapped, src_mapped;
	uint64_t mapped_len;
};

FIXTURE_VARIANT(pfnmap_map) {
	const char *iommu_mode;
	int bar_errno;		/* what a map touching the BAR gives */
};

/* iommufd pins user pages: a PFNMAP range is a bare EFAULT (README, "The bugs"). */
#define PFNMAP_MAP_VARIANT(_mode, _container, _type, _iommufd)			\
FIXTURE_VARIANT_ADD(pfnmap_map, _mode) {					\
	.iommu_mode = #_mode, .bar_errno = _iommufd ? EFAULT : 0,		\
};
IOMMU_MODES(PFNMAP_MAP_VARIANT)

#define ANON_BYTE	0x5a	/* what the anonymous memory holds */
#define DEV_BYTE	0xc3	/* what the source holds, for the device to copy in the DMA check */
#define CHECK_LEN	256
/*
 * iommufd pins and maps a range batch by batch (a batch holds 64 KiB of
 * PFN runs: thousands of 4 KiB pages); 64 MiB of 4 KiB pages fill several,
 * so the first are in the IOMMU when the BAR fails the map.
 */
#define BIG_ANON	(32 * SZ_2M)

static void pfnmap_map_close(FIXTURE_DATA(pfnmap_map) *self)
{
	if (self->src_mapped)
		__iommu_unmap(&self->iommu, IOVA_SRC, SZ_2M, NULL);
	self->src_mapped = false;
	mem_buf_free(&self->src);
	if (self->resv)
		munmap(self->resv, 3 * PIECE);
	self->resv = NULL;
	/* Before the device goes back: a live BAR mapping would hold the unbind forever. */
	if (self->big)
		munmap(self->big, BIG_ANON + PIECE);
	self->big = NULL;
	dma_bar_pair_close(&self->pair);
	iommu_cleanup(&self->iommu);
}

FIXTURE_SETUP(pfnmap_map)
{
	struct why why = { "" }, dma_why = { "" };
	const char *bdf, *dma_bdf;
	int ret, bar;

	KMSG_OPEN(&self->kmsg);
	self->iommu.container_fd = self->iommu.iommufd = -1;
	bdf = devsel_bar(&why);
	if (!bdf)
		SKIP(return, "%s", why.msg);
	dma_bdf = devsel_dma(&dma_why);
	ret = __iommu_init(&self->iommu, variant->iommu_mode, &why);
	if (!ret)
		ret = __dma_bar_pair_open(&self->pair, &self->iommu, dma_bdf, bdf, &why);
	/* A device that cannot copy RAM to RAM: the check below then cannot tell. */
	if (!ret && self->pair.dma_open) {
		ret = __mem_buf_alloc(&self->src, MEM_ANON, SZ_2M, &why);
		if (!ret) {
			memset(self->src.addr, DEV_BYTE, CHECK_LEN);
			ret = __iommu_map(&self->iommu, self->src.addr, IOVA_SRC, SZ_2M);
			self->src_mapped = !ret;
		}
		if (!ret) {
			ret = __dma_driver_memcpy(&self->pair.dma, IOVA_SRC, IOVA_SRC + SZ_4K, CHECK_LEN,
						  DMA_DRIVER_TIMEOUT_MS);
			if (!ret && memcmp(self->src.addr, (uint8_t *)self->src.addr + SZ_4K, CHECK_LEN))
				ret = -EIO;
		}
		if (ret && ret != -EOPNOTSUPP)
			why_set(&why, "a DMA copy within IOVA 0x%llx: %s", IOVA_SRC,
				strerror(-ret));
	}
	SETUP_SKIP_OR_ASSERT(ret, why.msg, pfnmap_map_close(self));
	bar = self->bar_index = vfio_pci_largest_bar(&self->pair.bar_dev);
	if (bar < 0 || self->pair.bar_dev.regions[bar].size < PIECE) {
		pfnmap_map_close(self);
		SKIP(return, "%s has no mmap-able BAR of 2 MiB", devsel_name(bdf));
	}

	/* Anonymous memory right before and after the BAR: one range, three VMAs. */
	self->resv = mmap(NULL, 3 * PIECE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (self->resv == MAP_FAILED) {
		self->resv = NULL;
		pfnmap_map_close(self);
		ASSERT_TRUE(false) TH_LOG("mmap of 6 MiB anonymous memory: %s", strerror(errno));
	}
	self->anon = self->resv;
	self->bar = mmap(self->resv + PIECE, PIECE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
			 self->pair.bar_dev.fd, self->pair.bar_dev.regions[bar].offset);
	self->anon2 = self->resv + 2 * PIECE;
	if (self->bar == MAP_FAILED) {
		pfnmap_map_close(self);
		ASSERT_TRUE(false) TH_LOG("mmap of %s BAR%d: %s", bdf, bar, strerror(errno));
	}
	memset(self->anon, ANON_BYTE, PIECE);
	memset(self->anon2, ANON_BYTE, PIECE);
}

FIXTURE_TEARDOWN(pfnmap_map)
{
	if (self->mapped)
		__iommu_unmap(&self->iommu, IOVA, self->mapped_len, NULL);
	pfnmap_map_close(self);
	KMSG_CHECK(&self->kmsg);
}

/*
 * After a failed map nothing of it may be left in the IOMMU: a DMA to
 * where the range's first bytes would be must not reach them (the IOMMU
 * faults it), and the IOVA range takes a new map.
 */
static void check_nothing_mapped(struct __test_metadata *_metadata, FIXTURE_DATA(pfnmap_map) *self,
				 void *vaddr, size_t len)
{
	uint8_t *first = vaddr == self->bar ? NULL : vaddr;
	size_t i;
	int ret;

	if (!self->pair.dma_open) {
		TH_LOG("no DMA check of the failed map: no DMA device");
	} else if (first) {
		ASSERT_EQ(0, __dma_driver_memcpy(&self->pair.dma, IOVA_SRC, IOVA, CHECK_LEN,
						 DMA_DRIVER_TIMEOUT_MS));
		for (i = 0; i < CHECK_LEN && first[i] == ANON_BYTE; i++)
			;
		ASSERT_EQ(CHECK_LEN, i) TH_LOG("a DMA to IOVA 0x%llx after the failed map reached the memory it was to map (byte %zu is 0x%02x): the map left it mapped",
					       IOVA, i, first[i]);
	}
	ret = __iommu_map(&self->iommu, self->anon, IOVA, PIECE);
	ASSERT_EQ(0, ret) TH_LOG("after the failed map, IOVA 0x%llx is not free: %s", IOVA, strerror(-ret));
	self->mapped = true;
	self->mapped_len = PIECE;
	if (len > PIECE) {
		ret = __iommu_map(&self->iommu, self->anon2, IOVA + PIECE, PIECE);
		ASSERT_EQ(0, ret) TH_LOG("after the failed map, IOVA 0x%llx is not free: %s",
					 IOVA + PIECE, strerror(-ret));
		self->mapped_len = 2 * PIECE;
	}
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
	if (ret)
		check_nothing_mapped(_metadata, self, vaddr, len);
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

/* Several batches of anonymous memory are in the IOMMU when the BAR fails the map. */
TEST_F(pfnmap_map, big_anon_then_bar)
{
	size_t off;
	void *p;

	self->big = mmap(NULL, BIG_ANON + PIECE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->big);
	/*
	 * 4 KiB pages, faulted in even ones first: no two neighbours are
	 * physically adjacent, so each is a PFN run of its own and they fill
	 * batches (adjacent pages would merge into few runs, one batch).
	 */
	ASSERT_EQ(0, madvise(self->big, BIG_ANON, MADV_NOHUGEPAGE));
	for (off = 0; off < BIG_ANON; off += 2 * SZ_4K)
		memset(self->big + off, ANON_BYTE, SZ_4K);
	for (off = SZ_4K; off < BIG_ANON; off += 2 * SZ_4K)
		memset(self->big + off, ANON_BYTE, SZ_4K);
	p = mmap(self->big + BIG_ANON, PIECE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 self->pair.bar_dev.fd, self->pair.bar_dev.regions[self->bar_index].offset);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap of the BAR after 64 MiB of anonymous memory: %s", strerror(errno));
	check_map(_metadata, self, variant->bar_errno, self->big, BIG_ANON + PIECE,
		  "64 MiB of anonymous memory and then a BAR");
}

TEST_F(pfnmap_map, anon_only)
{
	check_map(_metadata, self, 0, self->anon, PIECE, "anonymous memory (control)");
}

/*
 * A memfd reaches iommufd through IOMMU_IOAS_MAP_FILE: the DMA device reads
 * a pattern through it and writes it back to anonymous memory.
 */
FIXTURE(iommufd_map_file) {
	struct kmsg kmsg;
	struct iommu iommu;
	struct vfio_pci_device dev;
	bool dev_open;
	struct dma_driver dma;
	int memfd;
	uint8_t *file_map;
	struct mem_buf dst;
};

FIXTURE_SETUP(iommufd_map_file)
{
	struct why why = { "" };
	const char *bdf;
	int ret;

	KMSG_OPEN(&self->kmsg);
	self->iommu.container_fd = self->iommu.iommufd = -1;
	self->memfd = memfd_create("pfnmap-map-file", MFD_CLOEXEC);
	ASSERT_LE(0, self->memfd);
	ASSERT_EQ(0, ftruncate(self->memfd, SZ_2M));
	self->file_map = mmap(NULL, SZ_2M, PROT_READ | PROT_WRITE, MAP_SHARED, self->memfd, 0);
	ASSERT_NE(MAP_FAILED, self->file_map);
	ASSERT_EQ(0, __mem_buf_alloc(&self->dst, MEM_ANON, SZ_2M, &why));
	/* Last: the harness runs no teardown after a failed setup. */
	bdf = devsel_dma(&why);
	if (!bdf)
		SKIP(return, "%s", why.msg);
	ret = __iommu_init(&self->iommu, IOMMU_MODE_IOMMUFD, &why);
	if (!ret)
		ret = __dma_device_open(&self->dma, &self->dev, bdf, &self->iommu, &why);
	self->dev_open = !ret;
	if (ret) {
		iommu_cleanup(&self->iommu);
		if (ret == -EOPNOTSUPP)
			SKIP(return, "%s", why.msg);
		ASSERT_EQ(0, ret) TH_LOG("%s", why.msg);
	}
}

FIXTURE_TEARDOWN(iommufd_map_file)
{
	if (self->file_map && self->file_map != MAP_FAILED)
		munmap(self->file_map, SZ_2M);
	if (self->memfd >= 0)
		close(self->memfd);
	mem_buf_free(&self->dst);
	if (self->dev_open)
		dma_device_close(&self->dma);
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

	dma_driver_memcpy(&self->dma, IOVA_SRC + 4096, IOVA + 8192, len);
	ASSERT_EQ(0, memcmp(self->file_map + 4096, dst + 8192, len))
		TH_LOG("what edu read through the memfd mapping did not come back");
	iommu_unmap(&self->iommu, IOVA, SZ_2M);
	iommu_unmap(&self->iommu, IOVA_SRC, SZ_2M);
}

PFNMAP_TEST_MAIN
