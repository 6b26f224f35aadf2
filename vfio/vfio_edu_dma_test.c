// SPDX-License-Identifier: GPL-2.0
/*
 * DMA through the IOMMU, in every IOMMU mode, with the device a DMA driver
 * drives (dma_driver.h; QEMU's edu device in the VM, hence the name): the
 * walking skeleton every other test of the suite stands on. If the device
 * cannot move bytes to and from an IOVA here, nothing that checks a PFNMAP
 * mapping through DMA can be trusted.
 */
#include <linux/vfio.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "dma_driver.h"
#include "iommu.h"
#include "mem.h"
#include "pfnmap_test.h"
#include "slow.h"
#include "util.h"
#include "vfio_pci.h"

/*
 * Above 4 GiB, so a device limited to 32-bit DMA would fail loudly, and well
 * inside the 39-bit address width of QEMU's virtual VT-d.
 */
#define TEST_IOVA	(1ULL << 32)
#define TEST_BUF_SIZE	(4 * SZ_2M)
/* Where stale_iova_after_unmap reads its pattern, mapped apart from TEST_IOVA. */
#define SRC_IOVA	(1ULL << 33)
/* The largest roundtrip: from 0x3000 to 0x200000 of the buffer, no overlap. */
#define ROUNDTRIP_MAX	(1U << 20)
/* DEFAULT_RATELIMIT_INTERVAL of dmar_fault(), with a margin: the kernel's clock, never stretched. */
#define DMAR_RATELIMIT_S	6
/* How long a fault report may take to reach the kernel log (slow.h stretches it). */
#define FAULT_REPORT_MS		(3000 * slow_factor())

struct dma_ctx {
	struct kmsg kmsg;
	struct iommu iommu;
	struct vfio_pci_device dev;
	struct dma_driver dma;
	bool dev_open;
};

/* Everything a DMA test needs, or a reason to skip; ctx is cleaned on failure. */
static int dma_ctx_open(struct dma_ctx *ctx, const char *mode, struct why *why)
{
	const char *bdf;
	int ret;

	ctx->iommu.container_fd = ctx->iommu.iommufd = -1;
	ret = __kmsg_open(&ctx->kmsg);
	if (ret) {
		why_set(why, "opening /dev/kmsg: %s", strerror(-ret));
		return ret;
	}
	bdf = devsel_dma(why);
	if (!bdf)
		return -EOPNOTSUPP;
	ret = __iommu_init(&ctx->iommu, mode, why);
	if (ret)
		return ret;
	ret = __dma_device_open(&ctx->dma, &ctx->dev, bdf, &ctx->iommu, why);
	ctx->dev_open = !ret;
	return ret;
}

static void dma_ctx_close(struct dma_ctx *ctx)
{
	if (ctx->dev_open)
		dma_device_close(&ctx->dma);
	ctx->dev_open = false;
	iommu_cleanup(&ctx->iommu);
}

/* A pattern that differs per byte and per seed, so shifted or stale data shows. */
static void fill_pattern(uint8_t *p, size_t len, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;
	size_t i;

	for (i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = x >> 24;
	}
}

/* First differing offset, or -1. */
static long first_mismatch(const uint8_t *a, const uint8_t *b, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (a[i] != b[i])
			return i;
	return -1;
}

FIXTURE(edu_dma) {
	struct dma_ctx ctx;
	struct mem_buf buf;
};

FIXTURE_VARIANT(edu_dma) {
	const char *iommu_mode;
	enum mem_backing backing;
};

#define EDU_DMA_VARIANT(_mode, _backing)					\
FIXTURE_VARIANT_ADD(edu_dma, _mode##_##_backing) {				\
	.iommu_mode = #_mode,							\
	.backing = _backing,							\
}

#define EDU_DMA_VARIANTS(_mode, ...)						\
	EDU_DMA_VARIANT(_mode, MEM_ANON);					\
	EDU_DMA_VARIANT(_mode, MEM_THP);					\
	EDU_DMA_VARIANT(_mode, MEM_HUGETLB_2M);

IOMMU_MODES(EDU_DMA_VARIANTS)

FIXTURE_SETUP(edu_dma)
{
	struct why why = { "" };
	int ret;

	ret = dma_ctx_open(&self->ctx, variant->iommu_mode, &why);
	if (!ret)
		ret = __mem_buf_alloc(&self->buf, variant->backing, TEST_BUF_SIZE, &why);
	if (!ret) {
		ret = __iommu_map(&self->ctx.iommu, self->buf.addr, TEST_IOVA, TEST_BUF_SIZE);
		if (ret)
			why_set(&why, "map of %s memory at iova 0x%llx: %s",
				mem_backing_name(variant->backing), TEST_IOVA, strerror(-ret));
	}
	SETUP_SKIP_OR_ASSERT(ret, why.msg, { mem_buf_free(&self->buf); dma_ctx_close(&self->ctx); });
}

FIXTURE_TEARDOWN(edu_dma)
{
	if (self->buf.addr)
		__iommu_unmap(&self->ctx.iommu, TEST_IOVA, TEST_BUF_SIZE, NULL);
	mem_buf_free(&self->buf);
	dma_ctx_close(&self->ctx);
	KMSG_CHECK(&self->ctx.kmsg);
}

/*
 * Have the device copy a pattern from one place of the IOVA range to
 * another (edu: RAM -> device -> RAM), for transfers of several sizes and
 * alignments, one crossing a 4 KiB page and one crossing a 2 MiB boundary
 * of the IOVA range, and compare every byte.
 */
static void edu_roundtrip(struct __test_metadata *_metadata, FIXTURE_DATA(edu_dma) *self)
{
	/* len 0: the largest copy the driver takes, up to ROUNDTRIP_MAX (edu: nearly 4 KiB). */
	static const struct { uint64_t src, dst; uint32_t len; } xfers[] = {
		{ 0x0,		0x100000,	1 },
		{ 0x10,		0x100010,	64 },
		{ 0xf80,	0x101f00,	512 },		/* crosses a page */
		{ SZ_2M - 1000,	3 * SZ_2M - 8,	2000 },		/* crosses 2 MiB */
		{ 0x3000,	0x200000,	0 },
	};
	uint8_t *mem = self->buf.addr;
	size_t i;

	for (i = 0; i < ARRAY_LEN(xfers); i++) {
		uint8_t *src = mem + xfers[i].src, *dst = mem + xfers[i].dst;
		uint32_t len = xfers[i].len;
		long bad;

		if (!len)
			len = self->ctx.dma.max_memcpy_size < ROUNDTRIP_MAX ?
			      self->ctx.dma.max_memcpy_size : ROUNDTRIP_MAX;
		fill_pattern(src, len, i + 1);
		memset(dst, 0, len);
		dma_driver_memcpy(&self->ctx.dma, TEST_IOVA + xfers[i].src, TEST_IOVA + xfers[i].dst, len);
		bad = first_mismatch(src, dst, len);
		ASSERT_EQ(-1, bad) TH_LOG("transfer %zu (len %u): byte %ld is 0x%02x, sent 0x%02x",
					  i, len, bad, dst[bad], src[bad]);
	}
}

TEST_F(edu_dma, roundtrip_polled)
{
	edu_roundtrip(_metadata, self);
}

TEST_F(edu_dma, roundtrip_msi)
{
	int ret = __dma_driver_irq_enable(&self->ctx.dma);

	ASSERT_EQ(0, ret) TH_LOG("enabling MSI: %s", strerror(-ret));
	edu_roundtrip(_metadata, self);
}

/*
 * The IOVA bookkeeping of each mode: what happens after unmap, and the
 * errors of map and unmap that a VMM relies on.
 */
FIXTURE(edu_iova) {
	struct dma_ctx ctx;
	struct mem_buf buf;
	struct iova_range ranges[16];
	int nr_ranges;
};

FIXTURE_VARIANT(edu_iova) {
	const char *iommu_mode;
	int unmap_unmapped_errno;	/* unmap of a range never mapped */
};

/*
 * Type1 reports success with nothing unmapped; iommufd's compat layer keeps
 * that ABI, its native IOMMU_IOAS_UNMAP (no container) says ENOENT.
 */
#define EDU_IOVA_VARIANT(_mode, _container, ...)				\
FIXTURE_VARIANT_ADD(edu_iova, _mode) {						\
	.iommu_mode = #_mode, .unmap_unmapped_errno = _container ? 0 : ENOENT,	\
};
IOMMU_MODES(EDU_IOVA_VARIANT)

FIXTURE_SETUP(edu_iova)
{
	struct why why = { "" };
	int ret;

	ret = dma_ctx_open(&self->ctx, variant->iommu_mode, &why);
	if (!ret)
		ret = __mem_buf_alloc(&self->buf, MEM_ANON, TEST_BUF_SIZE, &why);
	if (!ret) {
		ret = __iommu_iova_ranges(&self->ctx.iommu, self->ranges, ARRAY_LEN(self->ranges));
		why_set(&why, "querying the IOVA ranges: %s", strerror(-ret));
		if (ret > 0) {
			self->nr_ranges = ret;
			ret = 0;
		} else if (ret == 0) {
			ret = -ENOENT;
		}
	}
	SETUP_SKIP_OR_ASSERT(ret, why.msg, { mem_buf_free(&self->buf); dma_ctx_close(&self->ctx); });
}

FIXTURE_TEARDOWN(edu_iova)
{
	uint64_t dummy;

	__iommu_unmap(&self->ctx.iommu, TEST_IOVA, TEST_BUF_SIZE, &dummy);
	__iommu_unmap(&self->ctx.iommu, SRC_IOVA, SZ_2M, &dummy);
	mem_buf_free(&self->buf);
	dma_ctx_close(&self->ctx);
	KMSG_CHECK(&self->ctx.kmsg);
}

/*
 * After unmap the device must not reach the memory any more: a DMA to the
 * stale IOVA leaves it untouched, and the IOMMU reports the fault. The
 * device reads its pattern from SRC_IOVA, which stays mapped, so that the
 * write is the only fault (the IOMMU may report one at a time).
 */
TEST_F(edu_iova, stale_iova_after_unmap)
{
	uint8_t *mem = self->buf.addr, *src = mem + TEST_BUF_SIZE / 2, expect[256];
	char fault_addr[64], line[512];
	int ret = -ETIMEDOUT, attempt;

	iommu_map(&self->ctx.iommu, mem, TEST_IOVA, TEST_BUF_SIZE / 2);
	iommu_map(&self->ctx.iommu, src, SRC_IOVA, SZ_2M);

	/* Prove the path works while mapped, so the negative result means something. */
	fill_pattern(src, sizeof(expect), 7);
	memset(mem + SZ_4K, 0, sizeof(expect));
	dma_driver_memcpy(&self->ctx.dma, SRC_IOVA, TEST_IOVA + SZ_4K, sizeof(expect));
	ASSERT_EQ(0, memcmp(src, mem + SZ_4K, sizeof(expect)));

	iommu_unmap(&self->ctx.iommu, TEST_IOVA, TEST_BUF_SIZE / 2);
	memset(mem + SZ_4K, 0xa5, sizeof(expect));
	memcpy(expect, mem + SZ_4K, sizeof(expect));

	/* DMAR: [DMA Write NO_PASID] Request device [00:03.0] fault addr 0x100001000 ... */
	snprintf(fault_addr, sizeof(fault_addr), "fault addr 0x%llx",
		 (unsigned long long)(TEST_IOVA + SZ_4K));
	for (attempt = 0; attempt < 2; attempt++) {
		dma_driver_memcpy(&self->ctx.dma, SRC_IOVA, TEST_IOVA + SZ_4K, sizeof(expect));
		ASSERT_EQ(0, memcmp(expect, mem + SZ_4K, sizeof(expect)))
			TH_LOG("a DMA to an unmapped IOVA reached memory");
		ret = __kmsg_wait_for(&self->ctx.kmsg, fault_addr, FAULT_REPORT_MS, line, sizeof(line));
		if (!ret)
			break;
		/*
		 * The VT-d fault handler prints through a 5 s ratelimit that
		 * earlier tests may have used up: fault once more after it.
		 */
		TH_LOG("no fault report yet (ratelimited?), faulting again in %d s",
		       DMAR_RATELIMIT_S);
		sleep(DMAR_RATELIMIT_S);
	}
	ASSERT_EQ(0, ret) TH_LOG("no IOMMU fault report with '%s' in the kernel log", fault_addr);
	TH_LOG("IOMMU reported: %s", line);
}

TEST_F(edu_iova, map_overlapping)
{
	uint8_t *mem = self->buf.addr;

	iommu_map(&self->ctx.iommu, mem, TEST_IOVA, 2 * SZ_2M);
	/* Same range, a range inside, and one straddling the end. */
	ASSERT_EQ(-EEXIST, __iommu_map(&self->ctx.iommu, mem, TEST_IOVA, 2 * SZ_2M));
	ASSERT_EQ(-EEXIST, __iommu_map(&self->ctx.iommu, mem, TEST_IOVA + SZ_2M, SZ_4K));
	ASSERT_EQ(-EEXIST, __iommu_map(&self->ctx.iommu, mem + SZ_2M, TEST_IOVA + SZ_2M, 2 * SZ_2M));
	iommu_unmap(&self->ctx.iommu, TEST_IOVA, 2 * SZ_2M);
}

TEST_F(edu_iova, unmap_never_mapped)
{
	uint64_t unmapped = ~0ULL;
	int ret;

	ret = __iommu_unmap(&self->ctx.iommu, TEST_IOVA, SZ_2M, &unmapped);
	ASSERT_EQ(-variant->unmap_unmapped_errno, ret) TH_LOG("unmap returned %s", strerror(-ret));
	ASSERT_EQ(0ULL, (unsigned long long)unmapped);
}

TEST_F(edu_iova, map_outside_aperture)
{
	const struct iova_range *last = &self->ranges[self->nr_ranges - 1];
	uint64_t beyond = ALIGN_UP(last->last + 1, SZ_2M);
	int i;

	for (i = 0; i < self->nr_ranges; i++)
		TH_LOG("usable IOVA range %d: 0x%llx-0x%llx", i,
		       (unsigned long long)self->ranges[i].start,
		       (unsigned long long)self->ranges[i].last);
	if (last->last >= UINT64_MAX - SZ_2M)
		SKIP(return, "the IOVA space has no end below 2^64");
	ASSERT_EQ(-EINVAL, __iommu_map(&self->ctx.iommu, self->buf.addr, beyond, SZ_2M));
	/* A range that starts inside and runs past the end. */
	ASSERT_EQ(-EINVAL, __iommu_map(&self->ctx.iommu, self->buf.addr, beyond - SZ_2M, 2 * SZ_2M));
}

PFNMAP_TEST_MAIN
