// SPDX-License-Identifier: GPL-2.0
/*
 * mmap() of a VFIO DMA-BUF (seed 004: "vfio/pci: Support mmap() of a VFIO
 * DMABUF", newer than the export itself). The buffer is a slice of the edu
 * device's BAR0, so a load or store through the mapping is visibly the
 * device's: the liveness register reads back the complement of what was
 * written. A mapping must follow the device's state: with memory decode off,
 * or once the device fd it came from is closed (the buffer revoked), an
 * access gets SIGBUS and never reaches stale device memory.
 *
 * Kernels without the series refuse the mmap with EINVAL (dma-buf core: no
 * .mmap op); every test SKIPs there, saying so.
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
#include "edu.h"
#include "iommu.h"
#include "mmio.h"
#include "pfnmap_test.h"
#include "race.h"
#include "util.h"
#include "vfio_pci.h"

/* The slice of BAR0 exported: the register page and 15 more (unbacked, read ~0). */
#define BUF_LEN		(16 * SZ_4K)
#define EDU_ID_LOW	0xed

struct dmabuf_dev {
	struct iommu iommu;
	struct vfio_pci_device dev;
	bool open;
	int buf_fd;
	/*
	 * The test's own mapping, unmapped at close even when an assertion
	 * cut the test short: a live mapping holds the device's registration,
	 * and the unbind that gives the device back would wait for it forever.
	 */
	volatile uint32_t *map;
};

/*
 * Open the edu device, export BUF_LEN of BAR0 and see whether the kernel
 * maps DMA-BUFs at all. 0, -EOPNOTSUPP with why (SKIP), or -errno.
 */
static int dmabuf_dev_open(struct dmabuf_dev *d, char *why, size_t len)
{
	struct dmabuf_range r = { .offset = 0, .length = BUF_LEN };
	const char *bdf;
	void *map;
	int ret;

	d->buf_fd = -1;
	d->iommu.container_fd = d->iommu.iommufd = -1;
	bdf = devsel_edu(why, len);
	if (!bdf)
		return -EOPNOTSUPP;
	ret = __vfio_pci_device_open_any(&d->dev, bdf, &d->iommu, why, len);
	if (ret)
		return ret;
	d->open = true;
	ret = vfio_pci_dmabuf_probe(&d->dev, why, len);
	if (ret)
		return ret;
	if (d->dev.regions[0].size < BUF_LEN) {
		snprintf(why, len, "%s: BAR0 is smaller than %lu KiB", bdf, BUF_LEN / 1024);
		return -EOPNOTSUPP;
	}
	/* Decode on: an export of a disabled BAR would start out revoked. */
	vfio_pci_command_set(&d->dev, PCI_COMMAND_MEMORY, 0);
	d->buf_fd = __vfio_pci_dmabuf_export(&d->dev, 0, 0, &r, 1);
	if (d->buf_fd < 0) {
		ret = d->buf_fd;
		snprintf(why, len, "export of BAR0 [0, %lu KiB): %s", BUF_LEN / 1024, strerror(-ret));
		return ret;
	}
	map = mmap(NULL, BUF_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, d->buf_fd, 0);
	if (map == MAP_FAILED) {
		ret = -errno;
		if (ret == -EINVAL) {
			snprintf(why, len, "mmap of a VFIO DMA-BUF: EINVAL: this kernel cannot mmap VFIO DMA-BUFs (series \"vfio/pci: Support mmap() of a VFIO DMABUF\")");
			return -EOPNOTSUPP;
		}
		snprintf(why, len, "MAP_SHARED mmap of the whole DMA-BUF: %s", strerror(-ret));
		return ret;
	}
	munmap(map, BUF_LEN);
	return 0;
}

static void dmabuf_unmap(struct dmabuf_dev *d)
{
	if (d->map)
		munmap((void *)d->map, BUF_LEN);
	d->map = NULL;
}

static void dmabuf_dev_close(struct dmabuf_dev *d)
{
	dmabuf_unmap(d);
	if (d->buf_fd >= 0)
		close(d->buf_fd);
	d->buf_fd = -1;
	if (d->open)
		vfio_pci_device_close(&d->dev);
	d->open = false;
	iommu_cleanup(&d->iommu);
}

static volatile uint32_t *dmabuf_map(struct dmabuf_dev *d)
{
	void *p = mmap(NULL, BUF_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, d->buf_fd, 0);

	PFNMAP_ASSERT(p != MAP_FAILED, "mmap of the DMA-BUF: %s", strerror(errno));
	d->map = p;
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

FIXTURE(dmabuf_mmap) {
	struct kmsg kmsg;
	struct dmabuf_dev d;
};

FIXTURE_SETUP(dmabuf_mmap)
{
	char why[256] = "";
	int ret;

	kmsg_open(&self->kmsg);
	ret = dmabuf_dev_open(&self->d, why, sizeof(why));
	if (ret) {
		dmabuf_dev_close(&self->d);
		if (ret == -EOPNOTSUPP)
			SKIP(return, "%s", why);
		ASSERT_EQ(0, ret) TH_LOG("%s", why);
	}
}

FIXTURE_TEARDOWN(dmabuf_mmap)
{
	dmabuf_dev_close(&self->d);
	KMSG_CHECK(&self->kmsg);
}

/* A private copy of device memory means nothing: refused, not silently shared. */
TEST_F(dmabuf_mmap, map_private_refused)
{
	void *p = mmap(NULL, BUF_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE, self->d.buf_fd, 0);

	if (p != MAP_FAILED)
		munmap(p, BUF_LEN);
	ASSERT_EQ(MAP_FAILED, p) TH_LOG("MAP_PRIVATE mmap of a VFIO DMA-BUF succeeded");
	ASSERT_EQ(EINVAL, errno);
}

/* The mapping may not reach past the buffer into the rest of the BAR. */
TEST_F(dmabuf_mmap, oversize_refused)
{
	const struct { const char *what; size_t len; off_t off; } cases[] = {
		{ "one page more than the buffer", BUF_LEN + SZ_4K, 0 },
		{ "the buffer's size at a one-page offset", BUF_LEN, SZ_4K },
		{ "one page past its end", SZ_4K, BUF_LEN },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		void *p = mmap(NULL, cases[i].len, PROT_READ | PROT_WRITE, MAP_SHARED,
			       self->d.buf_fd, cases[i].off);
		int err = p == MAP_FAILED ? errno : 0;

		if (p != MAP_FAILED)
			munmap(p, cases[i].len);
		EXPECT_EQ(EINVAL, err) TH_LOG("mmap of %s: %s, expected EINVAL", cases[i].what,
					      err ? strerror(err) : "mapped");
	}
}

TEST_F(dmabuf_mmap, loads_and_stores_reach_device)
{
	volatile uint32_t *regs = dmabuf_map(&self->d);
	uint32_t id = 0, got = 0, val;
	int i;

	ASSERT_EQ(0, __mmio_read32(regs + EDU_REG_ID / 4, &id)) TH_LOG("SIGBUS reading the ID register");
	ASSERT_EQ(EDU_ID_LOW, id & 0xff) TH_LOG("ID register reads 0x%08x through the DMA-BUF", id);
	for (i = 0; i < 8; i++) {
		val = 0x5a5a0000u | (uint32_t)i << 8 | (uint32_t)i;
		ASSERT_EQ(0, liveness(regs, val, &got)) TH_LOG("SIGBUS on the liveness register");
		ASSERT_EQ(~val, got) TH_LOG("liveness: wrote 0x%08x, read 0x%08x", val, got);
	}
	dmabuf_unmap(&self->d);
}

TEST_F(dmabuf_mmap, decode_off_sigbus)
{
	volatile uint32_t *regs = dmabuf_map(&self->d);
	uint32_t got = 0;

	ASSERT_EQ(0, liveness(regs, 0x1234, &got));
	vfio_pci_command_set(&self->d.dev, 0, PCI_COMMAND_MEMORY);
	EXPECT_EQ(-EFAULT, __mmio_read32(regs + EDU_REG_ID / 4, &got))
		TH_LOG("a load through the DMA-BUF with memory decode off did not get SIGBUS (read 0x%08x)", got);
	EXPECT_EQ(-EFAULT, __mmio_write32(regs + EDU_REG_LIVENESS / 4, 1))
		TH_LOG("a store through the DMA-BUF with memory decode off did not get SIGBUS");
	vfio_pci_command_set(&self->d.dev, PCI_COMMAND_MEMORY, 0);
	ASSERT_EQ(0, liveness(regs, 0xc0ffee, &got)) TH_LOG("still SIGBUS after memory decode is back on");
	ASSERT_EQ(~0xc0ffeeu, got);
	dmabuf_unmap(&self->d);
}

/*
 * A reset revokes the buffer while it runs; afterwards the mapping works
 * exactly when memory decode is on again, whoever turned it back on.
 */
TEST_F(dmabuf_mmap, reset_sigbus)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	volatile uint32_t *regs;
	uint32_t got = 0;
	uint16_t cmd;
	int ret;

	ASSERT_EQ(0, ioctl(self->d.dev.fd, VFIO_DEVICE_GET_INFO, &info));
	if (!(info.flags & VFIO_DEVICE_FLAGS_RESET))
		SKIP(return, "%s has no reset method (VFIO_DEVICE_FLAGS_RESET clear)", self->d.dev.bdf);
	regs = dmabuf_map(&self->d);
	ASSERT_EQ(0, liveness(regs, 0x77, &got));
	ASSERT_EQ(0, ioctl(self->d.dev.fd, VFIO_DEVICE_RESET)) TH_LOG("VFIO_DEVICE_RESET: %s", strerror(errno));
	cmd = vfio_pci_config_readw(&self->d.dev, PCI_COMMAND);
	ret = __mmio_read32(regs + EDU_REG_ID / 4, &got);
	if (cmd & PCI_COMMAND_MEMORY) {
		ASSERT_EQ(0, ret) TH_LOG("SIGBUS after the reset although memory decode is on");
	} else {
		ASSERT_EQ(-EFAULT, ret) TH_LOG("no SIGBUS after the reset with memory decode off");
	}
	vfio_pci_command_set(&self->d.dev, PCI_COMMAND_MEMORY, 0);
	ASSERT_EQ(0, liveness(regs, 0x99, &got)) TH_LOG("SIGBUS after the reset with memory decode on");
	ASSERT_EQ(~0x99u, got);
	dmabuf_unmap(&self->d);
}

/*
 * Close versus fault. Faulter threads map the buffer, touch every page
 * (each touch of a fresh mapping is a fault) and unmap, over and over,
 * while the test closes the device fd under them: the close revokes the
 * buffer, concurrently with faults that were already looking it up. Each
 * access must either reach the device or get SIGBUS; once close() has
 * returned, no new access may succeed. Then the device fd is opened again
 * and a fresh buffer exported, for as many rounds as the duration allows.
 */
#define FAULTERS 3

struct close_race {
	struct dmabuf_dev *d;
	atomic_int stop;
	atomic_int revoked;		/* the device fd's close() has returned */
	pthread_rwlock_t lock;		/* buf_fd may be swapped only under it */
	int buf_fd;
	atomic_ulong accesses, sigbus, mmap_refused, late_ok, bad_value, mmap_errors;
	int mmap_errno;
};

static void *faulter(void *arg)
{
	struct close_race *cr = arg;

	while (!atomic_load(&cr->stop)) {
		volatile uint32_t *p;
		int revoked, err;
		size_t off;

		/* Map under the lock: the buffer cannot be swapped mid-mmap. */
		pthread_rwlock_rdlock(&cr->lock);
		revoked = atomic_load(&cr->revoked);
		p = mmap(NULL, BUF_LEN, PROT_READ, MAP_SHARED, cr->buf_fd, 0);
		err = errno;
		pthread_rwlock_unlock(&cr->lock);
		if (p == MAP_FAILED) {
			/* A revoked buffer may refuse new mappings (the series says ENODEV). */
			if (err == ENODEV && revoked) {
				atomic_fetch_add(&cr->mmap_refused, 1);
			} else {
				cr->mmap_errno = err;
				atomic_fetch_add(&cr->mmap_errors, 1);
			}
			continue;
		}
		for (off = 0; off < BUF_LEN; off += SZ_4K) {
			int was_revoked = atomic_load_explicit(&cr->revoked, memory_order_acquire);
			uint32_t val;

			atomic_fetch_add(&cr->accesses, 1);
			if (__mmio_read32(p + off / 4, &val)) {
				atomic_fetch_add(&cr->sigbus, 1);
				continue;
			}
			if (was_revoked)
				atomic_fetch_add(&cr->late_ok, 1);
			else if (off == 0 && (val & 0xff) != EDU_ID_LOW)
				atomic_fetch_add(&cr->bad_value, 1);
		}
		munmap((void *)p, BUF_LEN);
	}
	return NULL;
}

TEST_F_TIMEOUT(dmabuf_mmap, close_vs_fault, 3600)
{
	struct dmabuf_range r = { .offset = 0, .length = BUF_LEN };
	uint64_t start = now_ns(), end = start + (uint64_t)race_params.duration_s * 1000000000ULL;
	struct close_race cr = { .d = &self->d };
	pthread_t t[FAULTERS];
	unsigned long rounds = 0;
	int i, fd, ret;

	pthread_rwlock_init(&cr.lock, NULL);
	cr.buf_fd = self->d.buf_fd;
	for (i = 0; i < FAULTERS; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, faulter, &cr));
	while (now_ns() < end && !cr.late_ok && !cr.bad_value && !cr.mmap_errors) {
		/* Let the faulters get going on a live buffer, then pull it. */
		usleep(1000 + rounds % 7 * 700);
		close(self->d.dev.fd);
		self->d.dev.fd = -1;
		atomic_store_explicit(&cr.revoked, 1, memory_order_release);
		usleep(500);
		ret = __vfio_pci_device_reopen(&self->d.dev);
		if (ret)
			break;
		vfio_pci_command_set(&self->d.dev, PCI_COMMAND_MEMORY, 0);
		fd = __vfio_pci_dmabuf_export(&self->d.dev, 0, 0, &r, 1);
		if (fd < 0) {
			ret = fd;
			break;
		}
		pthread_rwlock_wrlock(&cr.lock);
		close(cr.buf_fd);
		cr.buf_fd = self->d.buf_fd = fd;
		atomic_store_explicit(&cr.revoked, 0, memory_order_release);
		pthread_rwlock_unlock(&cr.lock);
		rounds++;
	}
	atomic_store(&cr.stop, 1);
	for (i = 0; i < FAULTERS; i++)
		pthread_join(t[i], NULL);
	pthread_rwlock_destroy(&cr.lock);

	TH_LOG("race: %.1f of %d s, %d faulters: rounds (device fd closed under faults)=%lu, accesses=%lu ok=%lu sigbus=%lu, mmaps refused after revoke=%lu, failures: ok after revoke=%lu wrong value=%lu mmap errors=%lu",
	       (now_ns() - start) / 1e9, race_params.duration_s, FAULTERS, rounds,
	       (unsigned long)cr.accesses, (unsigned long)(cr.accesses - cr.sigbus),
	       (unsigned long)cr.sigbus, (unsigned long)cr.mmap_refused, (unsigned long)cr.late_ok,
	       (unsigned long)cr.bad_value, (unsigned long)cr.mmap_errors);
	ASSERT_EQ(0, ret) TH_LOG("reopening the device or exporting again after round %lu: %s",
				 rounds, strerror(-ret));
	EXPECT_EQ(0, cr.late_ok) TH_LOG("loads reached the device after close() had revoked the buffer");
	EXPECT_EQ(0, cr.bad_value) TH_LOG("loads through the buffer read something other than edu's ID register");
	EXPECT_EQ(0, cr.mmap_errors) TH_LOG("mmap of the buffer failed: %s", strerror(cr.mmap_errno));
	EXPECT_LT(0, rounds);
	EXPECT_LT(0, cr.sigbus) TH_LOG("no access ever got SIGBUS: the close never revoked a mapping in use");
}

PFNMAP_TEST_MAIN
