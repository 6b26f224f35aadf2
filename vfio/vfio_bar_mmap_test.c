// SPDX-License-Identifier: GPL-2.0
/*
 * What a CPU mapping of a BAR promises, through the vfio device fd and
 * through an exported VFIO DMA-BUF ("vfio/pci: Add mmap() for DMABUFs",
 * Matt Evans, v4 <20260701171245.90111-1-matt@ozlabs.org>, in no release
 * yet; it also makes every BAR mmap a DMA-BUF underneath).
 *
 * Fixture bar_mmap, both ways of mapping 64 KiB of edu's BAR0 (registers,
 * so an access is visibly the device's): MAP_SHARED only, no mapping past
 * the end, loads and stores reach the device, SIGBUS while memory decode
 * is off or the device is reset and access again afterwards, the name
 * /proc/PID/maps gives it.
 *
 * Fixture dmabuf, what only an exported buffer has: the right BAR bytes at
 * every mmap offset and range (through the RAM-backed BAR of the BAR
 * device), a VMA split by munmap, revocation (REVOKE, closing the device
 * fd) and its errors, aliases, memory attributes (MEMATTR), and the races
 * of revocation against faults.
 *
 * A kernel without the series refuses the mmap of an exported buffer with
 * EINVAL (the dma-buf core has no .mmap to call); the dmabuf variant and
 * fixture SKIP there only when the kernel also shows no sign of the series
 * (its BAR mmaps are not DMA-BUFs): an EINVAL from a kernel that has it is
 * a failure.
 */
#include <fcntl.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "dmabuf.h"
#include "drivers/edu/edu.h"
#include "iommu.h"
#include "mmio.h"
#include "pfnmap_test.h"
#include "race.h"
#include "util.h"
#include "vfio_pci.h"

/* The slice of BAR0 mapped: the register page and 15 more (unbacked, read ~0). */
#define BUF_LEN		(16 * SZ_4K)
#define EDU_ID_LOW	0xed

enum map_via { VIA_DEVICE_FD, VIA_DMABUF };

/* The edu device, and an exported buffer of its BAR0 when asked for. */
struct edu_map {
	struct iommu iommu;
	struct vfio_pci_device dev;
	bool open;
	int buf_fd;
	/*
	 * The mapping under test, unmapped at close even when an assertion
	 * cut the test short: a live mapping holds the device, and the unbind
	 * that gives the device back would wait for it forever.
	 */
	volatile uint32_t *map;
	size_t map_len;
};

/*
 * Does this kernel back BAR mmaps with DMA-BUFs (the series' patch 5)? The
 * name of a plain BAR mapping tells: "/dmabuf:vfioN:BDF/0" there, the vfio
 * device's own file elsewhere. 1, 0, or -errno; name gets the name.
 */
static int bar_mmap_is_dmabuf(struct vfio_pci_device *dev, char *name, size_t len)
{
	void *p = mmap(NULL, SZ_4K, PROT_READ, MAP_SHARED, dev->fd, dev->regions[0].offset);
	int ret;

	if (p == MAP_FAILED)
		return -errno;
	ret = __mapping_name(p, name, len);
	munmap(p, SZ_4K);
	return ret ? ret : !strncmp(name, "/dmabuf:", 8);
}

/* Export [0, BUF_LEN) of BAR0 with memory decode on (a disabled BAR exports revoked). */
static int edu_export(struct edu_map *m)
{
	struct dmabuf_range r = { .offset = 0, .length = BUF_LEN };

	vfio_pci_command_set(&m->dev, PCI_COMMAND_MEMORY, 0);
	return __vfio_pci_dmabuf_export(&m->dev, 0, 0, &r, 1);
}

/*
 * Can the kernel mmap an exported buffer? 0; -EOPNOTSUPP with why when it
 * evidently cannot; another -errno (why filled) when it should and fails.
 */
static int dmabuf_mmap_probe(struct vfio_pci_device *dev, int buf_fd, struct why *why)
{
	char name[256] = "";
	unsigned int cdev;
	void *p;
	int err, series;

	p = mmap(NULL, BUF_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, buf_fd, 0);
	if (p != MAP_FAILED) {
		munmap(p, BUF_LEN);
		return 0;
	}
	err = errno;
	series = bar_mmap_is_dmabuf(dev, name, sizeof(name));
	if (err == EINVAL && series == 0) {
		/* A vfio cdev's number differs from machine to machine: the log's, not the reason's. */
		if (sscanf(name, "/dev/vfio/devices/vfio%u", &cdev) == 1) {
			why_note("the BAR mapping is %s", name);
			snprintf(name, sizeof(name), "/dev/vfio/devices/vfioN");
		}
		why_set(why, "this kernel cannot mmap VFIO DMA-BUFs (mmap: EINVAL; its BAR mmaps are not DMA-BUFs: \"%s\"; series \"vfio/pci: Add mmap() for DMABUFs\")",
			name);
		return -EOPNOTSUPP;
	}
	why_set(why, "MAP_SHARED mmap of an exported DMA-BUF: %s, on a kernel whose BAR mmaps %s (\"%s\")",
		strerror(err), series > 0 ? "are DMA-BUFs" : "could not be looked at", name);
	return -err;
}

/*
 * Open edu, and for VIA_DMABUF export a buffer and make sure the kernel maps
 * it. 0, -EOPNOTSUPP with why (SKIP), or -errno with why. Not any DMA
 * device: the tests know edu's registers (the ID, the liveness check).
 */
static int edu_map_open(struct edu_map *m, enum map_via via, struct why *why)
{
	unsigned int vendor = 0, device = 0;
	const char *bdf;
	int ret;

	m->buf_fd = -1;
	m->iommu.container_fd = m->iommu.iommufd = -1;
	bdf = devsel_dma(why);
	if (!bdf)
		return -EOPNOTSUPP;
	if (__pci_device_ids(bdf, &vendor, &device) || edu_ops.probe(vendor, device)) {
		why_set(why, "%s is %04x:%04x, not an edu device (1234:11e8)", devsel_role(bdf), vendor,
			device);
		return -EOPNOTSUPP;
	}
	ret = __vfio_pci_device_open_any(&m->dev, bdf, &m->iommu, why);
	if (ret)
		return ret;
	m->open = true;
	if (m->dev.regions[0].size < BUF_LEN) {
		why_set(why, "%s: BAR0 is smaller than %lu KiB", devsel_name(bdf), BUF_LEN / 1024);
		return -EOPNOTSUPP;
	}
	vfio_pci_command_set(&m->dev, PCI_COMMAND_MEMORY, 0);
	if (via == VIA_DEVICE_FD)
		return 0;
	ret = __vfio_pci_dmabuf_probe(&m->dev, why);
	if (ret)
		return ret;
	m->buf_fd = edu_export(m);
	if (m->buf_fd < 0) {
		ret = m->buf_fd;
		why_set(why, "export of BAR0 [0, %lu KiB): %s", BUF_LEN / 1024, strerror(-ret));
		return ret;
	}
	return dmabuf_mmap_probe(&m->dev, m->buf_fd, why);
}

static void edu_unmap(struct edu_map *m)
{
	if (m->map)
		munmap((void *)m->map, m->map_len);
	m->map = NULL;
}

static void edu_map_close(struct edu_map *m)
{
	edu_unmap(m);
	if (m->buf_fd >= 0)
		close(m->buf_fd);
	m->buf_fd = -1;
	if (m->open)
		vfio_pci_device_close(&m->dev);
	m->open = false;
	iommu_cleanup(&m->iommu);
}

/* mmap len bytes at off of the object under test (the BAR region or the buffer). */
static void *__via_mmap(struct edu_map *m, enum map_via via, size_t len, off_t off, int flags)
{
	if (via == VIA_DEVICE_FD)
		return mmap(NULL, len, PROT_READ | PROT_WRITE, flags, m->dev.fd, m->dev.regions[0].offset + off);
	return mmap(NULL, len, PROT_READ | PROT_WRITE, flags, m->buf_fd, off);
}

static volatile uint32_t *via_map(struct edu_map *m, enum map_via via)
{
	void *p = __via_mmap(m, via, BUF_LEN, 0, MAP_SHARED);

	PFNMAP_ASSERT(p != MAP_FAILED, "mmap of 64 KiB of BAR0 through the %s: %s",
		      via == VIA_DMABUF ? "DMA-BUF" : "device fd", strerror(errno));
	m->map = p;
	m->map_len = BUF_LEN;
	return p;
}

/* The liveness register through the mapping: 0 when the device answered, -EFAULT on SIGBUS. */
static int liveness(volatile uint32_t *regs, uint32_t val, uint32_t *got)
{
	int ret = __mmio_write32(regs + EDU_REG_LIVENESS / 4, val);

	if (!ret)
		ret = __mmio_read32(regs + EDU_REG_LIVENESS / 4, got);
	return ret;
}

/* --- bar_mmap: every BAR mapping, either way ------------------------------ */

FIXTURE(bar_mmap) {
	struct kmsg kmsg;
	struct edu_map m;
};

FIXTURE_VARIANT(bar_mmap) {
	enum map_via via;
};

FIXTURE_VARIANT_ADD(bar_mmap, device_fd) {
	.via = VIA_DEVICE_FD,
};

FIXTURE_VARIANT_ADD(bar_mmap, dmabuf) {
	.via = VIA_DMABUF,
};

FIXTURE_SETUP(bar_mmap)
{
	struct why why = { "" };
	int ret;

	KMSG_OPEN(&self->kmsg);
	ret = edu_map_open(&self->m, variant->via, &why);
	SETUP_SKIP_OR_ASSERT(ret, why.msg, edu_map_close(&self->m));
}

FIXTURE_TEARDOWN(bar_mmap)
{
	edu_map_close(&self->m);
	KMSG_CHECK(&self->kmsg);
}

/* A private copy of device memory means nothing: refused, not silently shared. */
TEST_F(bar_mmap, map_private_refused)
{
	void *p = __via_mmap(&self->m, variant->via, BUF_LEN, 0, MAP_PRIVATE);
	int err = p == MAP_FAILED ? errno : 0;

	if (p != MAP_FAILED)
		munmap(p, BUF_LEN);
	ASSERT_EQ(EINVAL, err) TH_LOG("MAP_PRIVATE mmap: %s, expected EINVAL", err ? strerror(err) : "mapped");
}

/* No mapping may reach past the object: the rest of the BAR, or the next BAR. */
TEST_F(bar_mmap, oversize_refused)
{
	size_t size = variant->via == VIA_DMABUF ? BUF_LEN : self->m.dev.regions[0].size;
	const struct { const char *what; size_t len; off_t off; } cases[] = {
		{ "one page more than there is", size + SZ_4K, 0 },
		{ "all of it at a one-page offset", size, SZ_4K },
		{ "one page past its end", SZ_4K, size },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		void *p = __via_mmap(&self->m, variant->via, cases[i].len, cases[i].off, MAP_SHARED);
		int err = p == MAP_FAILED ? errno : 0;

		if (p != MAP_FAILED)
			munmap(p, cases[i].len);
		EXPECT_EQ(EINVAL, err) TH_LOG("mmap of %s (%zu KiB): %s, expected EINVAL", cases[i].what,
					      size / 1024, err ? strerror(err) : "mapped");
	}
}

TEST_F(bar_mmap, loads_and_stores_reach_device)
{
	volatile uint32_t *regs = via_map(&self->m, variant->via);
	uint32_t id = 0, got = 0, val;
	int i;

	ASSERT_EQ(0, __mmio_read32(regs + EDU_REG_ID / 4, &id)) TH_LOG("SIGBUS reading the ID register");
	ASSERT_EQ(EDU_ID_LOW, id & 0xff) TH_LOG("ID register reads 0x%08x", id);
	for (i = 0; i < 8; i++) {
		val = 0x5a5a0000u | (uint32_t)i << 8 | (uint32_t)i;
		ASSERT_EQ(0, liveness(regs, val, &got)) TH_LOG("SIGBUS on the liveness register");
		ASSERT_EQ(~val, got) TH_LOG("liveness: wrote 0x%08x, read 0x%08x", val, got);
	}
}

/*
 * With memory decode off the device does not answer: vfio-pci zaps every
 * mapping of the BAR and its fault handler gives SIGBUS. Without the zap a
 * mapping made before reads the disabled BAR (~0 under QEMU) instead.
 */
TEST_F(bar_mmap, decode_off_sigbus)
{
	volatile uint32_t *regs = via_map(&self->m, variant->via);
	uint32_t got = 0;
	int ret;

	ASSERT_EQ(0, liveness(regs, 0x1234, &got));
	vfio_pci_command_set(&self->m.dev, 0, PCI_COMMAND_MEMORY);
	ret = __mmio_read32(regs + EDU_REG_ID / 4, &got);
	EXPECT_EQ(-EFAULT, ret)
		TH_LOG("a load with memory decode off did not get SIGBUS (read 0x%08x)", got);
	EXPECT_EQ(-EFAULT, __mmio_write32(regs + EDU_REG_LIVENESS / 4, 1))
		TH_LOG("a store with memory decode off did not get SIGBUS");
	vfio_pci_command_set(&self->m.dev, PCI_COMMAND_MEMORY, 0);
	ASSERT_EQ(0, liveness(regs, 0xc0ffee, &got)) TH_LOG("still SIGBUS after memory decode is back on");
	ASSERT_EQ(~0xc0ffeeu, got);
}

/*
 * A reset takes the BAR away while it runs; afterwards the mapping works
 * exactly when memory decode is on again, whoever turned it back on.
 */
TEST_F(bar_mmap, reset_sigbus)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	volatile uint32_t *regs;
	uint32_t got = 0;
	uint16_t cmd;
	int ret;

	ASSERT_EQ(0, ioctl(self->m.dev.fd, VFIO_DEVICE_GET_INFO, &info));
	if (!(info.flags & VFIO_DEVICE_FLAGS_RESET))
		SKIP(return, "%s has no reset method (VFIO_DEVICE_FLAGS_RESET clear)",
		     devsel_name(self->m.dev.bdf));
	regs = via_map(&self->m, variant->via);
	ASSERT_EQ(0, liveness(regs, 0x77, &got));
	ASSERT_EQ(0, ioctl(self->m.dev.fd, VFIO_DEVICE_RESET)) TH_LOG("VFIO_DEVICE_RESET: %s", strerror(errno));
	cmd = vfio_pci_config_readw(&self->m.dev, PCI_COMMAND);
	ret = __mmio_read32(regs + EDU_REG_ID / 4, &got);
	if (cmd & PCI_COMMAND_MEMORY) {
		ASSERT_EQ(0, ret) TH_LOG("SIGBUS after the reset although memory decode is on");
	} else {
		ASSERT_EQ(-EFAULT, ret) TH_LOG("no SIGBUS after the reset with memory decode off");
	}
	vfio_pci_command_set(&self->m.dev, PCI_COMMAND_MEMORY, 0);
	ASSERT_EQ(0, liveness(regs, 0x99, &got)) TH_LOG("SIGBUS after the reset with memory decode on");
	ASSERT_EQ(~0x99u, got);
}

/*
 * /proc/PID/maps: a BAR mapping made through the device fd is named
 * "dmabuf:vfioN:BDF/BAR" where the series backs it with a DMA-BUF (else it
 * is the vfio device's file); an exported buffer by what DMA_BUF_SET_NAME
 * gave it.
 */
TEST_F(bar_mmap, maps_name)
{
	char name[256] = "", want[256], cdev[64] = "", dir[128];
	volatile uint32_t *regs;

	if (variant->via == VIA_DMABUF)
		ASSERT_EQ(0, __dmabuf_set_name(self->m.buf_fd, "pfnmap-bar0"))
			TH_LOG("DMA_BUF_SET_NAME: %s", strerror(errno));
	regs = via_map(&self->m, variant->via);
	ASSERT_EQ(0, __mapping_name((const void *)regs, name, sizeof(name)));
	if (variant->via == VIA_DMABUF) {
		ASSERT_STREQ("/dmabuf:pfnmap-bar0", name);
		return;
	}
	if (strncmp(name, "/dmabuf:", 8)) {
		/* Not DMA-BUF-backed: the device's own file, a cdev or the group's anon inode. */
		ASSERT_NE(NULL, strstr(name, "vfio")) TH_LOG("the BAR mapping is named \"%s\"", name);
		/* Said for the mutation check: the DMA-BUF name was not reached. */
		TH_LOG("the BAR mapping is named \"%s\": not DMA-BUF-backed", name);
		return;
	}
	snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s/vfio-dev", self->m.dev.bdf);
	ASSERT_EQ(0, __sysfs_first_entry(dir, cdev, sizeof(cdev))) TH_LOG("no %s", dir);
	snprintf(want, sizeof(want), "/dmabuf:%s:%s/0", cdev, self->m.dev.bdf);
	ASSERT_STREQ(want, name);
}

/* --- dmabuf: what only an exported buffer has ------------------------------ */

FIXTURE(dmabuf) {
	struct kmsg kmsg;
	struct edu_map m;		/* edu and a buffer of its BAR0 */
	/* The BAR device, its BAR mapped whole through the device fd: the reference. */
	struct iommu bar_iommu;
	struct vfio_pci_device bar_dev;
	bool bar_open;
	int bar;
	uint8_t *ref;
	size_t ref_len;
	struct why bar_why;		/* why there is none */
};

FIXTURE_SETUP(dmabuf)
{
	struct why why = { "" };
	const char *bdf;
	int ret;

	KMSG_OPEN(&self->kmsg);
	self->bar_iommu.container_fd = self->bar_iommu.iommufd = -1;
	ret = edu_map_open(&self->m, VIA_DMABUF, &why);
	SETUP_SKIP_OR_ASSERT(ret, why.msg, edu_map_close(&self->m));
	/* The second device is for the tests that need RAM behind a BAR, or another device. */
	bdf = devsel_bar(&self->bar_why);
	if (!bdf)
		return;
	ret = __devsel_bar_open(&self->bar_dev, &self->bar_iommu, 4 * SZ_2M, &self->bar,
				&self->bar_why);
	if (ret == -EOPNOTSUPP)
		return;
	if (ret)
		edu_map_close(&self->m);
	ASSERT_EQ(0, ret) TH_LOG("%s", self->bar_why.msg);
	self->bar_open = true;
	vfio_pci_command_set(&self->bar_dev, PCI_COMMAND_MEMORY, 0);
	self->ref_len = 4 * SZ_2M;
	self->ref = mmap(NULL, self->ref_len, PROT_READ | PROT_WRITE, MAP_SHARED, self->bar_dev.fd,
			 self->bar_dev.regions[self->bar].offset);
	if (self->ref == MAP_FAILED) {
		ret = -errno;
		self->ref = NULL;
		vfio_pci_device_close(&self->bar_dev);
		iommu_cleanup(&self->bar_iommu);
		self->bar_open = false;
		edu_map_close(&self->m);
		ASSERT_EQ(0, ret) TH_LOG("mmap of %s BAR%d: %s", bdf, self->bar, strerror(-ret));
	}
}

FIXTURE_TEARDOWN(dmabuf)
{
	if (self->ref)
		munmap(self->ref, self->ref_len);
	if (self->bar_open)
		vfio_pci_device_close(&self->bar_dev);
	iommu_cleanup(&self->bar_iommu);
	edu_map_close(&self->m);
	KMSG_CHECK(&self->kmsg);
}

#define NEED_BAR_DEVICE() do {							\
	if (!self->bar_open)							\
		SKIP(return, "no second device with RAM behind a BAR: %s", self->bar_why.msg); \
} while (0)

/* A distinct byte for every offset of the reference mapping. */
static uint8_t ref_byte(size_t off)
{
	return (uint8_t)(off * 2654435761u >> 13);
}

static void ref_fill(FIXTURE_DATA(dmabuf) *self)
{
	size_t off;

	for (off = 0; off < self->ref_len; off += 8)
		*(volatile uint64_t *)(self->ref + off) =
			(uint64_t)ref_byte(off) | (uint64_t)ref_byte(off + 1) << 8 |
			(uint64_t)ref_byte(off + 2) << 16 | (uint64_t)ref_byte(off + 3) << 24 |
			(uint64_t)ref_byte(off + 4) << 32 | (uint64_t)ref_byte(off + 5) << 40 |
			(uint64_t)ref_byte(off + 6) << 48 | (uint64_t)ref_byte(off + 7) << 56;
}

/* Compare len bytes at p with the BAR at bar_off: the first wrong offset, or -1. */
static long bar_bytes_differ(const volatile uint8_t *p, size_t bar_off, size_t len)
{
	size_t i;

	for (i = 0; i < len; i += 61)
		if (p[i] != ref_byte(bar_off + i))
			return i;
	return p[len - 1] == ref_byte(bar_off + len - 1) ? -1 : (long)len - 1;
}

/*
 * A buffer of three ranges of the BAR, mmapped whole and at page offsets:
 * byte k of the mapping is byte k of the buffer, which is the BAR byte its
 * range puts there.
 */
TEST_F(dmabuf, offsets_and_ranges_map_right_bytes)
{
	const struct dmabuf_range r[] = {
		{ .offset = SZ_2M, .length = 4 * SZ_4K },
		{ .offset = 5 * SZ_4K, .length = SZ_4K },
		{ .offset = 3 * SZ_2M + 8 * SZ_4K, .length = 3 * SZ_4K },
	};
	const size_t buf_len = 8 * SZ_4K;
	const off_t offs[] = { 0, SZ_4K, 4 * SZ_4K, 5 * SZ_4K, 7 * SZ_4K };
	size_t i, k;
	int fd;

	NEED_BAR_DEVICE();
	ref_fill(self);
	fd = __vfio_pci_dmabuf_export(&self->bar_dev, self->bar, 0, r, ARRAY_LEN(r));
	ASSERT_LE(0, fd) TH_LOG("export of 3 ranges of %s BAR%d: %s", self->bar_dev.bdf, self->bar, strerror(-fd));
	for (i = 0; i < ARRAY_LEN(offs); i++) {
		size_t len = buf_len - offs[i];
		volatile uint8_t *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, offs[i]);

		ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap at offset %lld: %s", (long long)offs[i], strerror(errno));
		/* Page by page: which range, and where in it, the buffer byte comes from. */
		for (k = 0; k < len; k += SZ_4K) {
			size_t b = offs[i] + k, start = 0, j;
			long bad;

			for (j = 0; b >= start + r[j].length; start += r[j].length, j++)
				;
			bad = bar_bytes_differ(p + k, r[j].offset + (b - start), SZ_4K);
			if (bad >= 0) {
				uint8_t got = p[k + bad];

				munmap((void *)p, len);
				close(fd);
				ASSERT_EQ(-1, bad) TH_LOG("mmap at offset %lld, buffer byte 0x%zx: 0x%02x, the BAR has 0x%02x at 0x%llx (range %zu)",
							  (long long)offs[i], b + bad, got,
							  ref_byte(r[j].offset + b - start + bad),
							  (unsigned long long)(r[j].offset + b - start + bad), j);
			}
		}
		munmap((void *)p, len);
	}
	close(fd);
}

/* munmap of a mapping's middle page: both halves still map their bytes, also when faulted afresh. */
TEST_F(dmabuf, munmap_middle_keeps_halves)
{
	const struct dmabuf_range r = { .offset = SZ_2M, .length = 3 * SZ_4K };
	volatile uint8_t *p;
	int fd;

	NEED_BAR_DEVICE();
	ref_fill(self);
	fd = __vfio_pci_dmabuf_export(&self->bar_dev, self->bar, 0, &r, 1);
	ASSERT_LE(0, fd);
	p = mmap(NULL, 3 * SZ_4K, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	/* Touch the first page before the split, not the last: one half faults afresh after it. */
	ASSERT_EQ(-1, bar_bytes_differ(p, SZ_2M, SZ_4K));
	ASSERT_EQ(0, munmap((void *)(p + SZ_4K), SZ_4K));
	EXPECT_EQ(-1, bar_bytes_differ(p, SZ_2M, SZ_4K)) TH_LOG("the first half after the split");
	EXPECT_EQ(-1, bar_bytes_differ(p + 2 * SZ_4K, SZ_2M + 2 * SZ_4K, SZ_4K))
		TH_LOG("the second half after the split: byte 0 is 0x%02x, the BAR has 0x%02x", p[2 * SZ_4K],
		       ref_byte(SZ_2M + 2 * SZ_4K));
	munmap((void *)p, SZ_4K);
	munmap((void *)(p + 2 * SZ_4K), SZ_4K);
	close(fd);
}

/* Revocation needs VFIO_DEVICE_FEATURE_DMA_BUF_REVOKE; SKIP on evidence it is missing. */
#define NEED_REVOKE() do {							\
	struct why __why = { "" };						\
	if (__vfio_pci_dmabuf_revoke_probe(&self->m.dev, &__why))		\
		SKIP(return, "%s", __why.msg);					\
} while (0)

static int buf_revoke(struct vfio_pci_device *dev, int fd)
{
	/* No reason wanted: NEED_REVOKE() said why it is missing, if it is. */
	return __vfio_pci_dmabuf_revoke(dev, fd, NULL);
}

/*
 * After REVOKE: the mapping gets SIGBUS, a new mmap ENODEV, an import
 * (iommufd's attach, where iommufd is) ENODEV too.
 */
TEST_F(dmabuf, revoke_sigbus_and_enodev)
{
	volatile uint32_t *regs;
	uint32_t got = 0;
	void *p;

	NEED_REVOKE();
	regs = via_map(&self->m, VIA_DMABUF);
	ASSERT_EQ(0, liveness(regs, 0x31, &got));
	ASSERT_EQ(0, buf_revoke(&self->m.dev, self->m.buf_fd)) TH_LOG("REVOKE: %s", strerror(errno));
	EXPECT_EQ(-EFAULT, __mmio_read32(regs + EDU_REG_ID / 4, &got))
		TH_LOG("a load after REVOKE did not get SIGBUS (read 0x%08x)", got);
	EXPECT_EQ(-EFAULT, __mmio_write32(regs + EDU_REG_LIVENESS / 4, 2))
		TH_LOG("a store after REVOKE did not get SIGBUS");
	p = mmap(NULL, BUF_LEN, PROT_READ, MAP_SHARED, self->m.buf_fd, 0);
	EXPECT_EQ(MAP_FAILED, p) TH_LOG("a revoked buffer was mapped again");
	if (p != MAP_FAILED)
		munmap(p, BUF_LEN);
	else
		EXPECT_EQ(ENODEV, errno) TH_LOG("mmap of a revoked buffer: %s, expected ENODEV", strerror(errno));
	/* An importer's attach: iommufd's, where the kernel has iommufd. */
	{
		struct why why = { "" };
		int ret = __dmabuf_import_try(self->m.buf_fd, BUF_LEN, &why);

		if (ret == -EOPNOTSUPP)
			TH_LOG("no import tried: %s", why.msg);
		else
			EXPECT_EQ(-ENODEV, ret) TH_LOG("IOMMU_IOAS_MAP_FILE of a revoked buffer: %s, expected ENODEV",
						       ret ? strerror(-ret) : "mapped");
	}
}

/* The errors REVOKE documents. */
TEST_F(dmabuf, revoke_errors)
{
	int memfd, ret, other;

	NEED_REVOKE();
	ASSERT_EQ(0, buf_revoke(&self->m.dev, self->m.buf_fd));
	ret = buf_revoke(&self->m.dev, self->m.buf_fd);
	EXPECT_EQ(-EBADFD, ret) TH_LOG("a second REVOKE: %s, expected EBADFD", ret ? strerror(-ret) : "success");
	memfd = memfd_create("pfnmap-not-a-dmabuf", MFD_CLOEXEC);
	ASSERT_LE(0, memfd);
	ret = buf_revoke(&self->m.dev, memfd);
	EXPECT_EQ(-EINVAL, ret) TH_LOG("REVOKE of a memfd: %s, expected EINVAL", ret ? strerror(-ret) : "success");
	close(memfd);
	ret = buf_revoke(&self->m.dev, memfd);	/* closed: no such fd */
	EXPECT_EQ(-EBADF, ret) TH_LOG("REVOKE of a closed fd: %s, expected EBADF", ret ? strerror(-ret) : "success");
	if (!self->bar_open) {
		TH_LOG("no buffer of another device tried: %s", self->bar_why.msg);
		return;
	}
	other = __vfio_pci_dmabuf_export(&self->bar_dev, self->bar, 0,
					 &(struct dmabuf_range){ .length = SZ_4K }, 1);
	ASSERT_LE(0, other);
	ret = buf_revoke(&self->m.dev, other);
	EXPECT_EQ(-ENODEV, ret) TH_LOG("REVOKE through %s of a buffer of %s: %s, expected ENODEV",
				       self->m.dev.bdf, self->bar_dev.bdf, ret ? strerror(-ret) : "success");
	close(other);
}

/* REVOKE names the buffer by any fd of it: a dup() will do. */
TEST_F(dmabuf, revoke_through_dup)
{
	volatile uint32_t *regs;
	uint32_t got = 0;
	int dupfd;

	NEED_REVOKE();
	regs = via_map(&self->m, VIA_DMABUF);
	/* Faulted in first: the revocation must take the mapping away, not only refuse new faults. */
	ASSERT_EQ(0, liveness(regs, 0x21, &got));
	dupfd = dup(self->m.buf_fd);
	ASSERT_LE(0, dupfd);
	ASSERT_EQ(0, buf_revoke(&self->m.dev, dupfd));
	close(dupfd);
	EXPECT_EQ(-EFAULT, __mmio_read32(regs + EDU_REG_ID / 4, &got))
		TH_LOG("REVOKE through a dup()ed fd left the mapping working (read 0x%08x)", got);
}

/* Two exports of one range are two buffers: revoking one leaves the other working. */
TEST_F(dmabuf, revoke_leaves_alias)
{
	volatile uint32_t *regs, *alias_regs;
	uint32_t got = 0;
	int alias;

	NEED_REVOKE();
	alias = edu_export(&self->m);
	ASSERT_LE(0, alias);
	regs = via_map(&self->m, VIA_DMABUF);
	alias_regs = mmap(NULL, BUF_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, alias, 0);
	ASSERT_NE(MAP_FAILED, alias_regs);
	/* Both faulted in: the revocation must take one away and leave the other. */
	ASSERT_EQ(0, liveness(regs, 0x4141, &got));
	ASSERT_EQ(0, liveness(alias_regs, 0x4140, &got));
	ASSERT_EQ(0, buf_revoke(&self->m.dev, self->m.buf_fd));
	EXPECT_EQ(-EFAULT, __mmio_read32(regs + EDU_REG_ID / 4, &got)) TH_LOG("the revoked buffer still works");
	EXPECT_EQ(0, liveness(alias_regs, 0x4242, &got)) TH_LOG("revoking one export broke the other");
	EXPECT_EQ(~0x4242u, got);
	munmap((void *)alias_regs, BUF_LEN);
	close(alias);
}

/*
 * MEMATTR: later mmaps only. The default is uncached (PCD in the PTE),
 * write-combining is PWT under Linux's PAT layout; an unknown value is
 * ENOENT. Seen in the page tables, not only in the ioctl's answer. On x86
 * the fault path takes the cache mode from PAT's memtype of the BAR
 * (vmf_insert_pfn*() -> pfnmap_setup_cachemode()), so where it says why
 * the PTE is not what the VMA asked for, the test says it too.
 */
TEST_F(dmabuf, memattr_applies_to_later_mmaps)
{
	char bits[32], type[64];
	struct why why = { "" };
	volatile uint32_t *nc, *wc;
	uint64_t phys;
	uint32_t got;
	int ret;

	if (__vfio_pci_dmabuf_memattr_probe(&self->m.dev, &why))
		SKIP(return, "%s", why.msg);
	nc = via_map(&self->m, VIA_DMABUF);
	ASSERT_EQ(0, __mmio_read32(nc, &got));
	ret = __pte_cache_bits((const void *)nc, bits, sizeof(bits), &why);
	if (ret)
		SKIP(return, "the page tables cannot be seen: %s", why.msg);
	phys = pci_bar_phys(self->m.dev.bdf, 0);
	ret = __pat_memtype(phys, type, sizeof(type));
	if (ret == -EOPNOTSUPP)
		SKIP(return, "x86 PAT is off (no /sys/kernel/debug/x86/pat_memtype_list): no write-combining PTE to see");
	TH_LOG("PAT's memtype of BAR0 at 0x%llx: %s", (unsigned long long)phys,
	       ret ? "none reserved (lookup_memtype() answers uncached-minus)" : type);
	EXPECT_STREQ("PCD", bits) TH_LOG("the default mapping's PTE");
	ret = __vfio_pci_dmabuf_memattr(&self->m.dev, self->m.buf_fd, 7, &why);
	EXPECT_EQ(-ENOENT, ret) TH_LOG("MEMATTR 7: %s, expected ENOENT", ret ? strerror(-ret) : "success");
	ASSERT_EQ(0, __vfio_pci_dmabuf_memattr(&self->m.dev, self->m.buf_fd, DMABUF_MEMATTR_WC, &why));
	wc = mmap(NULL, BUF_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, self->m.buf_fd, 0);
	ASSERT_NE(MAP_FAILED, wc);
	ASSERT_EQ(0, __mmio_read32(wc, &got));
	ASSERT_EQ(0, __mmio_read32(nc, &got));
	ASSERT_EQ(0, __pte_cache_bits((const void *)wc, bits, sizeof(bits), &why));
	EXPECT_STREQ("PWT", bits) TH_LOG("the mapping made after MEMATTR_WC");
	ASSERT_EQ(0, __pte_cache_bits((const void *)nc, bits, sizeof(bits), &why));
	EXPECT_STREQ("PCD", bits) TH_LOG("the mapping made before MEMATTR_WC");
	munmap((void *)wc, BUF_LEN);
}

/* The last close of the device fd revokes the buffer: SIGBUS, and mmap ENODEV. */
TEST_F(dmabuf, close_device_fd_revokes)
{
	volatile uint32_t *regs = via_map(&self->m, VIA_DMABUF);
	uint32_t got = 0;
	void *p;

	ASSERT_EQ(0, liveness(regs, 0x55, &got));
	close(self->m.dev.fd);
	self->m.dev.fd = -1;
	EXPECT_EQ(-EFAULT, __mmio_read32(regs + EDU_REG_ID / 4, &got))
		TH_LOG("a load after the device fd was closed did not get SIGBUS (read 0x%08x)", got);
	p = mmap(NULL, BUF_LEN, PROT_READ, MAP_SHARED, self->m.buf_fd, 0);
	if (p != MAP_FAILED)
		munmap(p, BUF_LEN);
	EXPECT_EQ(MAP_FAILED, p) TH_LOG("the buffer was mapped after its device fd was closed");
	ASSERT_EQ(0, __vfio_pci_device_reopen(&self->m.dev));
}

/*
 * A BAR mmap through the device fd holds the device open (the series gives
 * that mapping a DMA-BUF owning the fd), so closing the fd is not the last
 * close: the exported buffer stays live.
 */
TEST_F(dmabuf, bar_mmap_keeps_buffer_live)
{
	volatile uint32_t *regs = via_map(&self->m, VIA_DMABUF);
	void *bar0 = mmap(NULL, SZ_4K, PROT_READ | PROT_WRITE, MAP_SHARED, self->m.dev.fd,
			  self->m.dev.regions[0].offset);
	uint32_t got = 0;

	ASSERT_NE(MAP_FAILED, bar0);
	close(self->m.dev.fd);
	self->m.dev.fd = -1;
	EXPECT_EQ(0, liveness(regs, 0x66, &got))
		TH_LOG("the buffer was revoked although a BAR mapping still holds the device");
	EXPECT_EQ(~0x66u, got);
	munmap(bar0, SZ_4K);
	ASSERT_EQ(0, __vfio_pci_device_reopen(&self->m.dev));
}

/*
 * Revocation versus fault. Faulter threads map the current buffer, touch
 * every page (each touch of a fresh mapping is a fault) and unmap, over
 * and over, while the test revokes the buffer under them (closing the
 * device fd, or REVOKE), then exports a fresh one, for --duration. Each
 * access must reach the device or get SIGBUS; no access may succeed once
 * the revocation of the buffer it maps has returned, also when a newer
 * buffer exists by then. The bookkeeping is the test's own lock: a
 * revocation and its round number change together under it.
 */
#define FAULTERS 3

struct revoke_race {
	FIXTURE_DATA(dmabuf) *self;
	bool by_close;			/* revoke by closing the device fd, else REVOKE */
	atomic_int stop;
	pthread_rwlock_t lock;		/* buf_fd, round and revoked_round change under it */
	int buf_fd;
	unsigned long round;		/* the buffer in buf_fd */
	atomic_ulong revoked_round;	/* buffers up to this one are revoked */
	atomic_ulong accesses, sigbus, mmap_refused, late_ok, bad_value, mmap_errors;
	int mmap_errno;
};

static void *faulter(void *arg)
{
	struct revoke_race *rr = arg;

	while (!atomic_load(&rr->stop)) {
		unsigned long round;
		volatile uint32_t *p;
		bool revoked;
		size_t off;
		int err;

		/* Map under the lock: the buffer and what is known of it go together. */
		pthread_rwlock_rdlock(&rr->lock);
		round = rr->round;
		revoked = atomic_load(&rr->revoked_round) >= round;
		p = mmap(NULL, BUF_LEN, PROT_READ, MAP_SHARED, rr->buf_fd, 0);
		err = errno;
		pthread_rwlock_unlock(&rr->lock);
		if (p == MAP_FAILED) {
			if (err == ENODEV && revoked) {
				atomic_fetch_add(&rr->mmap_refused, 1);
			} else {
				rr->mmap_errno = err;
				atomic_fetch_add(&rr->mmap_errors, 1);
			}
			continue;
		}
		/*
		 * Two sweeps: the first faults every page in, the second goes
		 * through what is mapped already. Only the second sees a
		 * revocation that left the page tables alone.
		 */
		for (off = 0; off < 2 * BUF_LEN; off += SZ_4K) {
			/* Revoked before the access began: it must not succeed. */
			bool was_revoked = atomic_load_explicit(&rr->revoked_round, memory_order_acquire) >= round;
			size_t page = off % BUF_LEN;
			uint32_t val;

			atomic_fetch_add(&rr->accesses, 1);
			if (__mmio_read32(p + page / 4, &val)) {
				atomic_fetch_add(&rr->sigbus, 1);
				continue;
			}
			if (was_revoked)
				atomic_fetch_add(&rr->late_ok, 1);
			else if (page == 0 && (val & 0xff) != EDU_ID_LOW)
				atomic_fetch_add(&rr->bad_value, 1);
		}
		munmap((void *)p, BUF_LEN);
	}
	return NULL;
}

static void revoke_race(struct __test_metadata *_metadata, FIXTURE_DATA(dmabuf) *self, bool by_close)
{
	uint64_t start = now_ns(), end = start + (uint64_t)race_params.duration_s * 1000000000ULL;
	struct revoke_race rr = { .self = self, .by_close = by_close, .round = 1 };
	uint64_t t0, took, slowest_revoke = 0, slowest_renew = 0;
	pthread_t t[FAULTERS];
	int i, fd, ret = 0;

	pthread_rwlockattr_t attr;

	/*
	 * Writer first: glibc's default lets three faulters that retry a
	 * refused mmap at once keep the lock read-held for seconds.
	 */
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&rr.lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	rr.buf_fd = self->m.buf_fd;
	for (i = 0; i < FAULTERS; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, faulter, &rr));
	while (now_ns() < end && !rr.late_ok && !rr.bad_value && !rr.mmap_errors && !ret) {
		/* Let the faulters get going on a live buffer, then pull it. */
		usleep(1000 + rr.round % 7 * 700);
		pthread_rwlock_wrlock(&rr.lock);
		t0 = now_ns();
		if (by_close) {
			close(self->m.dev.fd);
			self->m.dev.fd = -1;
		} else {
			ret = buf_revoke(&self->m.dev, rr.buf_fd);
		}
		took = now_ns() - t0;
		if (took > slowest_revoke)
			slowest_revoke = took;
		atomic_store_explicit(&rr.revoked_round, rr.round, memory_order_release);
		pthread_rwlock_unlock(&rr.lock);
		usleep(500);
		t0 = now_ns();
		if (by_close && !ret)
			ret = __vfio_pci_device_reopen(&self->m.dev);
		fd = ret ? ret : edu_export(&self->m);
		took = now_ns() - t0;
		if (took > slowest_renew)
			slowest_renew = took;
		if (fd < 0) {
			ret = fd;
			break;
		}
		pthread_rwlock_wrlock(&rr.lock);
		close(rr.buf_fd);
		rr.buf_fd = self->m.buf_fd = fd;
		rr.round++;
		pthread_rwlock_unlock(&rr.lock);
	}
	atomic_store(&rr.stop, 1);
	for (i = 0; i < FAULTERS; i++)
		pthread_join(t[i], NULL);
	pthread_rwlock_destroy(&rr.lock);

	ksft_print_msg("race: %.1f of %d s, %d faulters: rounds (buffer revoked under faults by %s)=%lu, accesses=%lu ok=%lu sigbus=%lu, mmaps refused after revoke=%lu, failures: ok after revoke=%lu wrong value=%lu mmap errors=%lu\n",
		       (now_ns() - start) / 1e9, race_params.duration_s, FAULTERS,
		       by_close ? "closing the device fd" : "REVOKE", rr.round - 1,
		       (unsigned long)rr.accesses, (unsigned long)(rr.accesses - rr.sigbus),
		       (unsigned long)rr.sigbus, (unsigned long)rr.mmap_refused, (unsigned long)rr.late_ok,
		       (unsigned long)rr.bad_value, (unsigned long)rr.mmap_errors);
	ksft_print_msg("slowest %s: %.1f ms, slowest %s: %.1f ms\n", by_close ? "close" : "REVOKE",
		       slowest_revoke / 1e6, by_close ? "reopen and export" : "export", slowest_renew / 1e6);
	ASSERT_EQ(0, ret) TH_LOG("revoking, reopening or exporting again in round %lu: %s", rr.round,
				 strerror(-ret));
	EXPECT_EQ(0, rr.late_ok) TH_LOG("loads reached the device after the buffer they map was revoked");
	EXPECT_EQ(0, rr.bad_value) TH_LOG("loads through the buffer read something other than edu's ID register (a stale mapping of a disabled BAR?)");
	EXPECT_EQ(0, rr.mmap_errors) TH_LOG("mmap of a live buffer failed: %s", strerror(rr.mmap_errno));
	EXPECT_LT(1, rr.round);
	EXPECT_LT(0, rr.sigbus) TH_LOG("no access ever got SIGBUS: no revocation hit a mapping in use");
}

TEST_F_TIMEOUT(dmabuf, close_vs_fault, RACE_TEST_TIMEOUT_S)
{
	revoke_race(_metadata, self, true);
}

TEST_F_TIMEOUT(dmabuf, revoke_vs_fault, RACE_TEST_TIMEOUT_S)
{
	NEED_REVOKE();
	revoke_race(_metadata, self, false);
}

PFNMAP_TEST_MAIN
