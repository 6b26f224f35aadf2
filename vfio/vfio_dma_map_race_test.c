// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO_IOMMU_MAP_DMA of a BAR mapping while page walks of the same process
 * (/proc/PID/numa_maps and friends) split its huge leaves and the process
 * refaults them. type1 resolves the PFNs with follow_pfnmap_start(); when a
 * walk zapped the entry between the fault-in and the lookup, kernels without
 * "vfio/type1: Retry follow_pfnmap_start() when PFNMAP is zapped" fail the
 * map with EINVAL. A map must succeed or fail with a retryable errno, map
 * the right PFNs (checked by an edu DMA peer-to-peer into the BAR), and a
 * mapper must die promptly when killed, however hard the walks press.
 *
 * iommufd cannot map PFNMAP ranges (it pins pages): in its modes every map
 * must fail with the documented EFAULT, race or no race.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "edu.h"
#include "iommu.h"
#include "mem.h"
#include "pfnmap_test.h"
#include "race.h"
#include "util.h"
#include "vfio_pci.h"

#define IOVA_BAR	(1ULL << 34)		/* the verified mapper */
#define IOVA_BAR2	(1ULL << 35)		/* the unverified hammer */
#define IOVA_RAM	(1ULL << 33)		/* edu's source pattern */
#define HUNG_READ_MS	10000
#define MAX_ERRNO	134
#define PATTERN_LEN	2048

enum bar_kind { BAR_LARGEST, BAR_EDU0 };

struct map_stats {
	volatile uint64_t attempts, successes, verified, mismatches, unmap_failures;
	volatile uint64_t by_errno[MAX_ERRNO];
	volatile uint64_t uncontended_ns;
	volatile uint64_t race_start_ns, first_failure_ns;
	volatile int ready;
	char first_failure[256];
	volatile int failed;
};

FIXTURE(dma_map_race) {
	struct kmsg kmsg;
	struct iommu iommu;
	struct edu_bar_pair pair;
	int bar;
	size_t map_size;
	struct race_shared *rs;
	struct map_stats *st;
	pid_t target;
	bool stuck;
};

FIXTURE_VARIANT(dma_map_race) {
	const char *iommu_mode;
	enum bar_kind bar;
	size_t align;
	int expect_errno;	/* 0: success or a retryable errno */
};

#define DMA_MAP_RACE_VARIANT(_mode, _errno)					\
FIXTURE_VARIANT_ADD(dma_map_race, _mode##_bar_1g) {				\
	.iommu_mode = #_mode, .bar = BAR_LARGEST, .align = SZ_1G,		\
	.expect_errno = _errno,							\
};										\
FIXTURE_VARIANT_ADD(dma_map_race, _mode##_edu_bar0) {				\
	.iommu_mode = #_mode, .bar = BAR_EDU0, .align = SZ_2M,			\
	.expect_errno = _errno,							\
}

DMA_MAP_RACE_VARIANT(vfio_type1_iommu, 0);
DMA_MAP_RACE_VARIANT(vfio_type1v2_iommu, 0);
/* iommufd pins user pages: a PFNMAP range is a bare EFAULT (seed 002). */
DMA_MAP_RACE_VARIANT(iommufd_compat_type1, EFAULT);
DMA_MAP_RACE_VARIANT(iommufd_compat_type1v2, EFAULT);
DMA_MAP_RACE_VARIANT(iommufd, EFAULT);

static void fixture_close(FIXTURE_DATA(dma_map_race) *self)
{
	edu_bar_pair_close(&self->pair);
	iommu_cleanup(&self->iommu);
}

FIXTURE_SETUP(dma_map_race)
{
	const char *edu_bdf, *bar_bdf = NULL;
	char why[256] = "", edu_why[256] = "";
	int ret;

	kmsg_open(&self->kmsg);
	self->iommu.container_fd = self->iommu.iommufd = -1;
	self->target = -1;
	self->rs = race_shared_alloc();
	self->st = mmap(NULL, sizeof(*self->st), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(NULL, self->rs);
	ASSERT_NE(MAP_FAILED, self->st);

	edu_bdf = devsel_edu(edu_why, sizeof(edu_why));
	if (variant->bar == BAR_EDU0 && !edu_bdf)
		SKIP(return, "%s", edu_why);
	if (variant->bar == BAR_LARGEST) {
		bar_bdf = devsel_bar(why, sizeof(why));
		if (!bar_bdf)
			SKIP(return, "%s", why);
	}
	ret = __iommu_init(&self->iommu, variant->iommu_mode, why, sizeof(why));
	if (!ret)
		ret = __edu_bar_pair_open(&self->pair, &self->iommu, edu_bdf, bar_bdf, why, sizeof(why));
	if (ret) {
		fixture_close(self);
		if (ret == -EOPNOTSUPP)
			SKIP(return, "%s", why);
		ASSERT_EQ(0, ret) TH_LOG("%s", why);
	}
	if (variant->bar == BAR_EDU0) {
		self->bar = VFIO_PCI_BAR0_REGION_INDEX;
		self->map_size = self->pair.edu_dev.regions[self->bar].size;
	} else {
		self->bar = vfio_pci_largest_bar(&self->pair.bar_dev);
		self->map_size = self->bar < 0 ? 0 : self->pair.bar_dev.regions[self->bar].size;
		if (self->map_size > SZ_1G)
			self->map_size = SZ_1G;
		if (self->map_size < SZ_2M) {
			fixture_close(self);
			SKIP(return, "%s has no mmap-able BAR of 2 MiB or more", bar_bdf);
		}
	}
}

FIXTURE_TEARDOWN(dma_map_race)
{
	int i;

	if (self->rs) {
		self->rs->stop = 1;
		for (i = 0; i < self->rs->nr_walkers; i++)
			if (race_kill_reap(self->rs->walkers[i].pid, 3000))
				self->stuck = true;
	}
	if (race_kill_reap(self->target, 3000))
		self->stuck = true;
	if (self->stuck)
		TH_LOG("the devices stay bound to vfio-pci: a process mapping a BAR is stuck in the kernel");
	else
		fixture_close(self);
	if (self->rs)
		race_shared_free(self->rs);
	KMSG_CHECK(&self->kmsg);
}

static bool errno_ok(const FIXTURE_VARIANT(dma_map_race) *variant, int err)
{
	if (variant->expect_errno)
		return err == variant->expect_errno;
	return err == 0 || err == EAGAIN || err == EBUSY || err == EINTR;
}

/* The first failure, in the words of the seed's reproducer. */
static void record_failure(struct map_stats *st, const char *fmt, ...)
{
	va_list ap;

	if (__atomic_exchange_n(&st->failed, 1, __ATOMIC_SEQ_CST))
		return;
	st->first_failure_ns = now_ns();
	va_start(ap, fmt);
	vsnprintf(st->first_failure, sizeof(st->first_failure), fmt, ap);
	va_end(ap);
}

struct target_ctx {
	FIXTURE_DATA(dma_map_race) *self;
	const FIXTURE_VARIANT(dma_map_race) *variant;
	volatile uint8_t *bar;
	uint8_t *pattern;	/* RAM, mapped at IOVA_RAM */
	bool verify;
};

/* One map of len bytes of the BAR mapping from off at iova: counts, and judges the errno. */
static int map_once(struct target_ctx *t, uint64_t iova, size_t off, size_t len)
{
	struct map_stats *st = t->self->st;
	int ret, err;

	__atomic_fetch_add(&st->attempts, 1, __ATOMIC_RELAXED);
	ret = __iommu_map(&t->self->iommu, (void *)(t->bar + off), iova, len);
	err = -ret;
	if (err >= 0 && err < MAX_ERRNO)
		__atomic_fetch_add(&st->by_errno[err], 1, __ATOMIC_RELAXED);
	if (!errno_ok(t->variant, err))
		record_failure(st, "dma_map FAILED iova=0x%llx: [Errno %d] %s",
			       (unsigned long long)iova, err, err ? strerror(err) : "mapped, expected an error");
	if (!ret)
		__atomic_fetch_add(&st->successes, 1, __ATOMIC_RELAXED);
	return ret;
}

static void unmap_once(struct target_ctx *t, uint64_t iova, size_t len)
{
	uint64_t unmapped = 0;

	if (__iommu_unmap(&t->self->iommu, iova, len, &unmapped) || unmapped != len) {
		__atomic_fetch_add(&t->self->st->unmap_failures, 1, __ATOMIC_RELAXED);
		record_failure(t->self->st, "dma_unmap FAILED iova=0x%llx: unmapped 0x%llx",
			       (unsigned long long)iova, (unsigned long long)unmapped);
	}
}

/*
 * The mapping must be the BAR: let the edu device write a window of its
 * buffer through IOVA_BAR + off and read it back through the CPU mapping.
 */
static void verify_once(struct target_ctx *t, uint64_t k)
{
	struct map_stats *st = t->self->st;
	uint32_t buf_off = (k * 64) % (PATTERN_LEN / 2), len = 512;
	uint64_t off = ((k * 7919) % (t->self->map_size / SZ_2M)) * SZ_2M + (k * 192) % SZ_4K;
	volatile uint8_t *dst = t->bar + off;
	uint32_t i;
	int ret;

	for (i = 0; i < len; i++)
		dst[i] = 0;
	ret = __edu_dma(&t->self->pair.edu, EDU_DEVICE_TO_RAM, IOVA_BAR + off, buf_off, len, 5000);
	if (ret) {
		record_failure(st, "edu DMA to iova=0x%llx: %s", (unsigned long long)(IOVA_BAR + off),
			       strerror(-ret));
		return;
	}
	for (i = 0; i < len; i++) {
		if (dst[i] != t->pattern[buf_off + i]) {
			__atomic_fetch_add(&st->mismatches, 1, __ATOMIC_RELAXED);
			record_failure(st, "verify FAILED iova=0x%llx: BAR byte %u is 0x%02x, the device wrote 0x%02x",
				       (unsigned long long)(IOVA_BAR + off + i), i, dst[i],
				       t->pattern[buf_off + i]);
			return;
		}
	}
	__atomic_fetch_add(&st->verified, 1, __ATOMIC_RELAXED);
}

static void fill_pattern(uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (i * 131 + 7) ^ (i >> 8);
}

/* Refault whatever a walk zaps: sweep the BAR one touch per 2 MiB. */
static void *refaulter(void *arg)
{
	struct target_ctx *t = arg;
	size_t off;

	while (!t->self->rs->stop) {
		for (off = 0; off < t->self->map_size; off += SZ_2M)
			(void)t->bar[off];
		__atomic_fetch_add(&t->self->rs->refaults, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/*
 * The zap window is one follow_pfnmap_start() of the leaf, whatever the
 * length of the map: map 2 MiB pieces of the huge-mapped BAR, as fast as
 * the IOMMU takes them, for many windows per second.
 */
static void *hammer(void *arg)
{
	struct target_ctx *t = arg;
	size_t len = t->self->map_size < SZ_2M ? t->self->map_size : SZ_2M;
	size_t n = t->self->map_size / len, off;
	uint64_t k;

	for (k = 0; !t->self->rs->stop; k++) {
		off = (k * 7919 % n) * len;
		if (!map_once(t, IOVA_BAR2 + off, off, len))
			unmap_once(t, IOVA_BAR2 + off, len);
	}
	return NULL;
}

/*
 * The process whose mm is walked: map the BAR, time one uncontended map,
 * then map and unmap all of it in a loop (verifying each map when it can)
 * with a refaulter and an unverified hammer of 2 MiB maps beside it.
 */
static void target_main(struct target_ctx *t, bool verify)
{
	FIXTURE_DATA(dma_map_race) *self = t->self;
	struct vfio_pci_device *dev = t->variant->bar == BAR_EDU0 ? &self->pair.edu_dev : &self->pair.bar_dev;
	pthread_t threads[2];
	struct mem_buf ram;
	char why[128];
	uint64_t k, t0;
	void *addr;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	addr = __vfio_pci_bar_map(dev, self->bar, self->map_size, t->variant->align);
	if (addr == MAP_FAILED) {
		record_failure(self->st, "mmap of BAR%d: %s", self->bar, strerror(errno));
		self->st->ready = 1;
		_exit(1);
	}
	t->bar = addr;
	self->rs->region_start = (uintptr_t)addr;
	self->rs->region_end = (uintptr_t)addr + self->map_size;

	/* The device writes windows of this pattern: load it into edu's buffer once. */
	t->verify = verify;
	if (verify) {
		if (__mem_buf_alloc(&ram, MEM_ANON, SZ_2M, why, sizeof(why)) ||
		    (fill_pattern(ram.addr, PATTERN_LEN),
		     __iommu_map(&self->iommu, ram.addr, IOVA_RAM, SZ_2M)) ||
		    __edu_dma(&self->pair.edu, EDU_RAM_TO_DEVICE, IOVA_RAM, 0, PATTERN_LEN, 5000)) {
			record_failure(self->st, "setting up the edu pattern failed");
			self->st->ready = 1;
			_exit(1);
		}
	}
	t->pattern = verify ? ram.addr : NULL;

	t0 = now_ns();
	if (!map_once(t, IOVA_BAR, 0, self->map_size))
		unmap_once(t, IOVA_BAR, self->map_size);
	self->st->uncontended_ns = now_ns() - t0;
	self->st->ready = 1;

	pthread_create(&threads[0], NULL, refaulter, t);
	pthread_create(&threads[1], NULL, hammer, t);
	for (k = 0; !self->rs->stop; k++) {
		if (map_once(t, IOVA_BAR, 0, self->map_size))
			continue;
		if (t->verify)
			verify_once(t, k);
		unmap_once(t, IOVA_BAR, self->map_size);
	}
	pthread_join(threads[0], NULL);
	pthread_join(threads[1], NULL);
	_exit(0);
}

static pid_t target_start(struct __test_metadata *_metadata, FIXTURE_DATA(dma_map_race) *self,
			  const FIXTURE_VARIANT(dma_map_race) *variant, bool verify)
{
	static struct target_ctx t;
	uint64_t deadline;
	pid_t pid;

	t = (struct target_ctx){ .self = self, .variant = variant };
	pid = fork();
	if (pid == 0) {
		target_main(&t, verify);
	}
	deadline = now_ns() + 30ULL * 1000000000;
	while (pid > 0 && !self->st->ready && now_ns() < deadline)
		usleep(10000);
	if (pid > 0 && !self->st->ready)
		TH_LOG("the target did not get ready in 30 s");
	return pid;
}

static void report_counts(FIXTURE_DATA(dma_map_race) *self, uint64_t elapsed)
{
	char errnos[256] = "", walks[160];
	size_t used = 0;
	int e;

	for (e = 1; e < MAX_ERRNO; e++)
		if (self->st->by_errno[e])
			used += snprintf(errnos + used, sizeof(errnos) - used, " %s=%llu",
					 strerrorname_np(e) ?: "?", (unsigned long long)self->st->by_errno[e]);
	race_walks_summary(self->rs, walks, sizeof(walks));
	ksft_print_msg("race: %.1f of %d s, %d walkers: walks %s, refault sweeps=%llu; dma_map attempts=%llu ok=%llu verified=%llu mismatches=%llu unmap failures=%llu, errno:%s; uncontended map %.1f ms\n",
		       elapsed / 1e9, race_params.duration_s, self->rs->nr_walkers, walks,
		       (unsigned long long)self->rs->refaults, (unsigned long long)self->st->attempts,
		       (unsigned long long)self->st->successes, (unsigned long long)self->st->verified,
		       (unsigned long long)self->st->mismatches,
		       (unsigned long long)self->st->unmap_failures, errnos[0] ? errnos : " none",
		       self->st->uncontended_ns / 1e6);
	if (self->st->failed)
		ksft_print_msg("first failure %.1f s into the race: %s\n",
			       self->st->race_start_ns && self->st->first_failure_ns > self->st->race_start_ns ?
			       (self->st->first_failure_ns - self->st->race_start_ns) / 1e9 : 0.0,
			       self->st->first_failure);
}

TEST_F_TIMEOUT(dma_map_race, map_under_walks, 3600)
{
	bool verify = self->pair.edu_open && variant->bar == BAR_LARGEST && !variant->expect_errno;
	uint64_t elapsed;
	int i, failures;

	if (!verify)
		TH_LOG("no P2P check of the mapped PFNs: %s",
		       variant->expect_errno ? "the map is expected to fail" :
		       variant->bar == BAR_EDU0 ? "a DMA into edu's own registers is no safe check" :
		       "no edu device to drive the DMA");
	self->target = target_start(_metadata, self, variant, verify);
	ASSERT_LT(0, self->target);
	ASSERT_EQ(0, self->st->failed) TH_LOG("%s", self->st->first_failure);

	self->st->race_start_ns = now_ns();
	for (i = 0; i < race_params.walkers; i++)
		ASSERT_EQ(0, race_walker_start(self->rs, self->target, i % WALK_NR_KINDS));
	failures = race_monitor(self->rs, &self->kmsg, &self->target,
				(uint64_t)race_params.duration_s * 1000000000ULL, HUNG_READ_MS, &elapsed);
	if (self->target > 0 && race_kill_reap(self->target, 10000) == 0)
		self->target = -1;
	report_counts(self, elapsed);
	ASSERT_EQ(0, failures);
	ASSERT_EQ(0, self->st->failed) TH_LOG("%s", self->st->first_failure);
	ASSERT_LT(0ULL, (unsigned long long)self->st->attempts);
	if (verify)
		ASSERT_LT(0ULL, (unsigned long long)self->st->verified);
}

/*
 * Retrying in the kernel is fine as long as the retry loop stays killable:
 * SIGKILL a mapper under twice the usual walk pressure and it must be gone
 * within three times one uncontended map of the same range (2 s at least).
 */
TEST_F_TIMEOUT(dma_map_race, mapper_killable, 3600)
{
	uint64_t bound_ns, t0, took;
	int i, ret;

	self->target = target_start(_metadata, self, variant, false);
	ASSERT_LT(0, self->target);
	for (i = 0; i < 2 * race_params.walkers && i < RACE_MAX_WALKERS; i++)
		ASSERT_EQ(0, race_walker_start(self->rs, self->target, i % WALK_NR_KINDS));
	/* Let the pressure build and maps go on for a while. */
	for (i = 0; i < 200 && self->st->attempts < 50; i++)
		usleep(10000);

	bound_ns = 3 * self->st->uncontended_ns;
	if (bound_ns < 2000000000ULL)
		bound_ns = 2000000000ULL;
	t0 = now_ns();
	ret = race_kill_reap(self->target, 30000);
	took = now_ns() - t0;
	if (!ret)
		self->target = -1;
	ksft_print_msg("killed the mapper after %llu map attempts under %d walkers: gone in %.1f ms (bound %.0f ms, uncontended map %.1f ms)\n",
		       (unsigned long long)self->st->attempts, self->rs->nr_walkers, took / 1e6,
		       bound_ns / 1e6, self->st->uncontended_ns / 1e6);
	ASSERT_EQ(0, ret) TH_LOG("the mapper did not die within 30 s of SIGKILL");
	ASSERT_LE(took, bound_ns);
}

int main(int argc, char **argv)
{
	devsel_parse(&argc, argv);
	race_parse_args(&argc, argv);
	return pfnmap_test_run(argc, argv);
}
