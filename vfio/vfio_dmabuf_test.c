// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO DMA-BUF export of BAR ranges (VFIO_DEVICE_FEATURE_DMA_BUF, since
 * 6.19): what may be exported and what must be refused, that the buffer
 * outlives the device fd it came from but is revoked with it, and that
 * iommufd imports it (IOMMU_IOAS_MAP_FILE) so a device's DMA to that IOVA
 * lands in the BAR. mmap of such a buffer: vfio_bar_mmap_test.
 */
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "dma_bar_pair.h"
#include "dmabuf.h"
#include "iommu.h"
#include "mem.h"
#include "pfnmap_test.h"
#include "util.h"
#include "vfio_pci.h"

FIXTURE(dmabuf_export) {
	struct kmsg kmsg;
	struct iommu iommu;
	struct vfio_pci_device dev;
	bool dev_open;
	int bar;
	uint64_t bar_size;
};

FIXTURE_SETUP(dmabuf_export)
{
	struct why why = { "" };
	int ret;

	KMSG_OPEN(&self->kmsg);
	ret = __devsel_bar_open(&self->dev, &self->iommu, 4 * SZ_2M, &self->bar, &why);
	SETUP_SKIP_OR_ASSERT(ret, why.msg, (void)0);
	self->dev_open = true;
	ret = __vfio_pci_dmabuf_probe(&self->dev, &why);
	if (ret) {
		vfio_pci_device_close(&self->dev);
		self->dev_open = false;
		iommu_cleanup(&self->iommu);
		SKIP(return, "%s", why.msg);
	}
	self->bar_size = self->dev.regions[self->bar].size;
}

FIXTURE_TEARDOWN(dmabuf_export)
{
	if (self->dev_open)
		vfio_pci_device_close(&self->dev);
	iommu_cleanup(&self->iommu);
	KMSG_CHECK(&self->kmsg);
}

TEST_F(dmabuf_export, one_range)
{
	struct dmabuf_range r = { .offset = SZ_2M, .length = SZ_2M };
	int fd = __vfio_pci_dmabuf_export(&self->dev, self->bar, 0, &r, 1);

	ASSERT_LE(0, fd) TH_LOG("export of BAR%d [2 MiB, 4 MiB): %s", self->bar, strerror(-fd));
	ASSERT_EQ((long long)SZ_2M, fdinfo_size(fd));
	close(fd);
}

TEST_F(dmabuf_export, several_ranges)
{
	struct dmabuf_range r[] = {
		{ .offset = 0, .length = SZ_4K },
		{ .offset = SZ_2M, .length = SZ_2M },
		{ .offset = self->bar_size - SZ_4K, .length = SZ_4K },
	};
	int fd = __vfio_pci_dmabuf_export(&self->dev, self->bar, 0, r, ARRAY_LEN(r));

	ASSERT_LE(0, fd) TH_LOG("export of three ranges of BAR%d: %s", self->bar, strerror(-fd));
	ASSERT_EQ((long long)(SZ_2M + 2 * SZ_4K), fdinfo_size(fd));
	close(fd);
}

/* Each refusal with the errno vfio_pci_core_feature_dma_buf() gives for it. */
TEST_F(dmabuf_export, refused)
{
	const struct {
		const char *what;
		uint32_t region, flags, nr;
		struct dmabuf_range r;
		int err;
	} cases[] = {
		{ "a range past the end of the BAR", self->bar, 0, 1,
		  { self->bar_size - SZ_4K, 2 * SZ_4K }, EINVAL },
		{ "an unaligned offset", self->bar, 0, 1, { 0x100, SZ_4K }, EINVAL },
		{ "an unaligned length", self->bar, 0, 1, { 0, SZ_4K + 1 }, EINVAL },
		{ "a zero length", self->bar, 0, 1, { 0, 0 }, EINVAL },
		{ "nr_ranges 0", self->bar, 0, 0, { 0, SZ_4K }, EINVAL },
		{ "non-zero flags", self->bar, 1, 1, { 0, SZ_4K }, EINVAL },
		/* Not a BAR: the kernel says ENODEV, not EINVAL. */
		{ "the config space region", VFIO_PCI_CONFIG_REGION_INDEX, 0, 1, { 0, SZ_4K }, ENODEV },
		{ "the ROM region", VFIO_PCI_ROM_REGION_INDEX, 0, 1, { 0, SZ_4K }, ENODEV },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		int fd = __vfio_pci_dmabuf_export(&self->dev, cases[i].region, cases[i].flags,
						  &cases[i].r, cases[i].nr);

		if (fd >= 0)
			close(fd);
		EXPECT_EQ(-cases[i].err, fd < 0 ? fd : 0)
			TH_LOG("export of %s: %s, expected %s", cases[i].what,
			       fd >= 0 ? "exported" : strerror(-fd), strerror(cases[i].err));
	}
}

/*
 * The buffer belongs to whoever holds its fd: closing the device fd it came
 * from leaves it a DMA-BUF of the same size, but revoked. An import gets
 * it while the device fd is open, and is refused (ENODEV) once it is
 * closed: a kernel that did not revoke would let an importer map a BAR of
 * a device nobody holds any more.
 */
TEST_F(dmabuf_export, outlives_device_fd)
{
	struct dmabuf_range r = { .offset = 0, .length = 4 * SZ_2M };
	int fd = __vfio_pci_dmabuf_export(&self->dev, self->bar, 0, &r, 1);
	struct why why = { "" };
	int ret;

	ASSERT_LE(0, fd) TH_LOG("export: %s", strerror(-fd));
	ret = __dmabuf_import_try(fd, r.length, &why);
	if (ret != -EOPNOTSUPP)
		ASSERT_EQ(0, ret) TH_LOG("import while the device fd is open: %s", strerror(-ret));
	close(self->dev.fd);
	self->dev.fd = -1;
	ASSERT_EQ((long long)r.length, fdinfo_size(fd));
	if (ret == -EOPNOTSUPP) {
		TH_LOG("no import tried: %s", why.msg);
	} else {
		ret = __dmabuf_import_try(fd, r.length, &why);
		ASSERT_EQ(-ENODEV, ret) TH_LOG("import after the device fd was closed: %s, expected ENODEV",
					       ret ? strerror(-ret) : "mapped");
	}
	/* The export holds the device's registration: let go before the unbind. */
	close(fd);
}

/*
 * Import: IOMMU_IOAS_MAP_FILE of the DMA-BUF maps the BAR subrange, and the
 * DMA device's copy to that IOVA lands in the BAR.
 */
FIXTURE(dmabuf_import) {
	struct kmsg kmsg;
	struct iommu iommu;
	struct dma_bar_pair pair;
	int bar;
	struct mem_buf src;
	/*
	 * Released in teardown, before the devices, also when an assertion
	 * ended the test early: an open DMA-BUF or BAR mapping holds the device,
	 * and giving it back to its driver would wait for them for ever.
	 */
	int buf_fd;
	volatile uint8_t *bar_map;
};

static void dmabuf_import_close(FIXTURE_DATA(dmabuf_import) *self)
{
	if (self->bar_map)
		vfio_pci_bar_unmap((void *)self->bar_map, self->pair.bar_dev.regions[self->bar].size);
	self->bar_map = NULL;
	if (self->buf_fd >= 0)
		close(self->buf_fd);
	self->buf_fd = -1;
	dma_bar_pair_close(&self->pair);
	mem_buf_free(&self->src);
	iommu_cleanup(&self->iommu);
}

FIXTURE_SETUP(dmabuf_import)
{
	const char *dma_bdf, *bar_bdf;
	struct why why = { "" };
	int ret;

	KMSG_OPEN(&self->kmsg);
	self->iommu.container_fd = self->iommu.iommufd = -1;
	self->buf_fd = -1;
	dma_bdf = devsel_dma(&why);
	if (!dma_bdf)
		SKIP(return, "%s", why.msg);
	bar_bdf = devsel_bar(&why);
	if (!bar_bdf)
		SKIP(return, "%s", why.msg);
	ret = __iommu_init(&self->iommu, IOMMU_MODE_IOMMUFD, &why);
	if (!ret)
		ret = __dma_bar_pair_open(&self->pair, &self->iommu, dma_bdf, bar_bdf, &why);
	if (!ret)
		ret = __vfio_pci_dmabuf_probe(&self->pair.bar_dev, &why);
	if (!ret)
		ret = __mem_buf_alloc(&self->src, MEM_ANON, SZ_2M, &why);
	SETUP_SKIP_OR_ASSERT(ret, why.msg, dmabuf_import_close(self));
	self->bar = vfio_pci_largest_bar(&self->pair.bar_dev);
}

FIXTURE_TEARDOWN(dmabuf_import)
{
	dmabuf_import_close(self);
	KMSG_CHECK(&self->kmsg);
}

TEST_F(dmabuf_import, map_file_dma_lands_in_bar)
{
	const uint64_t iova_buf = 1ULL << 34, iova_src = 1ULL << 33;
	struct dmabuf_range r = { .offset = 4 * SZ_2M, .length = SZ_2M };
	uint32_t i, len = 1024, off = 0x3000;
	uint8_t *src = self->src.addr;
	volatile uint8_t *bar;
	int fd, ret;

	fd = self->buf_fd = __vfio_pci_dmabuf_export(&self->pair.bar_dev, self->bar, 0, &r, 1);
	ASSERT_LE(0, fd) TH_LOG("export: %s", strerror(-fd));
	ret = __iommu_map_file(&self->iommu, fd, 0, iova_buf, r.length);
	if (ret == -EOPNOTSUPP || ret == -ENOTTY)
		SKIP(return, "IOMMU_IOAS_MAP_FILE is not available");
	ASSERT_EQ(0, ret) TH_LOG("IOMMU_IOAS_MAP_FILE of the DMA-BUF: %s", strerror(-ret));

	bar = self->bar_map = vfio_pci_bar_map(&self->pair.bar_dev, self->bar, 0, 0);
	for (i = 0; i < len; i++) {
		src[i] = i * 29 + 3;
		bar[r.offset + off + i] = 0;
	}
	iommu_map(&self->iommu, src, iova_src, SZ_2M);
	dma_driver_memcpy(&self->pair.dma, iova_src, iova_buf + off, len);
	for (i = 0; i < len; i++) {
		ASSERT_EQ(src[i], bar[r.offset + off + i])
			TH_LOG("BAR byte 0x%llx after the DMA through the imported DMA-BUF",
			       (unsigned long long)(r.offset + off + i));
	}
	iommu_unmap(&self->iommu, iova_src, SZ_2M);
	iommu_unmap(&self->iommu, iova_buf, r.length);
}

PFNMAP_TEST_MAIN
