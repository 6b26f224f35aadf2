// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO_IOMMU_MAP_DMA of a BAR mapping while page walks of the same process
 * (/proc/PID/numa_maps and friends) split its huge leaves. type1 resolves the
 * PFNs with follow_pfnmap_start(), and faults the leaf in when a walk split
 * it; when a walk zapped the entry again between that fault-in and the
 * lookup, kernels without
 * "vfio/type1: Retry follow_pfnmap_start() when PFNMAP is zapped" fail the
 * map with EINVAL. A map must succeed or fail with a retryable errno, map
 * the right PFNs (checked by a DMA peer-to-peer into the BAR), and a
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

#include "dma_bar_pair.h"
#include "iommu.h"
#include "leaf.h"
#include "mem.h"
#include "pfnmap_test.h"
#include "race.h"
#include "util.h"
#include "vfio_pci.h"

#define IOVA_BAR	(1ULL << 34)		/* the verified mapper */
#define IOVA_BAR2	(1ULL << 35)		/* the unverified hammer */
#define IOVA_RAM	(1ULL << 33)		/* the P2P check's source pattern */
/* How long the target may take to map the BAR and prove the premises (slow.h stretches it). */
#define TARGET_READY_S	30
#define MAX_ERRNO	134
#define PATTERN_LEN	2048

/* The BAR device's largest BAR, or BAR0 of the DMA device (edu's registers). */
enum bar_kind { BAR_LARGEST, BAR_DMA0 };

struct map_stats {
	struct race_shared *rs;		/* shared, at the same address in the target */
	volatile uint64_t attempts, successes, unmap_failures;
	volatile uint64_t verified, hammer_verified, mismatches;
	volatile uint64_t by_errno[MAX_ERRNO];
	volatile uint64_t uncontended_ns;
	volatile uint64_t race_start_ns, first_failure_ns;
	volatile int ready;
	/*
	 * Minor faults the mappers took inside VFIO_IOMMU_MAP_DMA: type1's
	 * fault-ins (fixup_user_fault()) of a leaf a walk split, and nothing
	 * else (the target's own count also has its stacks' and fork's).
	 */
	volatile uint64_t fault_ins;
	char first_failure[256];
	volatile int failed;
	char first_mismatch[256];	/* the P2P check's own, whatever failed first */
	/* The premise, measured by the target before the race. */
	struct leaf_proof cpu;
	enum leaf iommu, iommu_max;
	struct why iommu_why;
};

FIXTURE(dma_map_race) {
	struct kmsg kmsg;
	struct iommu iommu;
	struct dma_bar_pair pair;
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
	enum leaf leaf;		/* the CPU leaf the race needs */
	int expect_errno;	/* 0: success or a retryable errno */
};

/*
 * bar_1g: the zap the bug needs is a walker splitting a PUD leaf, so the BAR
 * must be mapped with PUD leaves (proven, else SKIP). edu_bar0: BAR0 of
 * the DMA device (edu: 1 MiB of registers), PTE leaves that no walk zaps:
 * MAP_DMA of a small BAR under the same pressure, without the P2P check (a
 * DMA into the device's own registers proves nothing).
 */
/* iommufd pins user pages: a PFNMAP range is a bare EFAULT (README, "The bugs"). */
#define DMA_MAP_RACE_VARIANT(_mode, _container, _type, _iommufd)		\
FIXTURE_VARIANT_ADD(dma_map_race, _mode##_bar_1g) {				\
	.iommu_mode = #_mode, .bar = BAR_LARGEST, .align = SZ_1G,		\
	.leaf = LEAF_PUD, .expect_errno = _iommufd ? EFAULT : 0,		\
};										\
FIXTURE_VARIANT_ADD(dma_map_race, _mode##_edu_bar0) {				\
	.iommu_mode = #_mode, .bar = BAR_DMA0, .align = SZ_2M,			\
	.leaf = LEAF_PTE, .expect_errno = _iommufd ? EFAULT : 0,		\
};
IOMMU_MODES(DMA_MAP_RACE_VARIANT)

static void fixture_close(FIXTURE_DATA(dma_map_race) *self)
{
	dma_bar_pair_close(&self->pair);
	iommu_cleanup(&self->iommu);
}

FIXTURE_SETUP(dma_map_race)
{
	const char *dma_bdf, *bar_bdf = NULL;
	struct why why = { "" }, dma_why = { "" };
	int ret;

	KMSG_OPEN(&self->kmsg);
	self->iommu.container_fd = self->iommu.iommufd = -1;
	self->target = -1;
	self->rs = race_shared_alloc();
	self->st = mmap(NULL, sizeof(*self->st), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(NULL, self->rs);
	ASSERT_NE(MAP_FAILED, self->st);
	self->st->rs = self->rs;

	dma_bdf = devsel_dma(&dma_why);
	if (variant->bar == BAR_DMA0 && !dma_bdf)
		SKIP(return, "%s", dma_why.msg);
	if (variant->bar == BAR_LARGEST) {
		bar_bdf = devsel_bar(&why);
		if (!bar_bdf)
			SKIP(return, "%s", why.msg);
	}
	ret = __iommu_init(&self->iommu, variant->iommu_mode, &why);
	if (!ret)
		ret = __dma_bar_pair_open(&self->pair, &self->iommu, dma_bdf, bar_bdf, &why);
	SETUP_SKIP_OR_ASSERT(ret, why.msg, fixture_close(self));
	if (variant->bar == BAR_DMA0) {
		self->bar = VFIO_PCI_BAR0_REGION_INDEX;
		self->map_size = self->pair.dma_dev.regions[self->bar].size;
	} else {
		self->bar = vfio_pci_largest_bar(&self->pair.bar_dev);
		self->map_size = self->bar < 0 ? 0 : self->pair.bar_dev.regions[self->bar].size;
		if (self->map_size > SZ_1G)
			self->map_size = SZ_1G;
		if (self->map_size < SZ_2M) {
			fixture_close(self);
			SKIP(return, "%s has no mmap-able BAR of 2 MiB or more", devsel_name(bar_bdf));
		}
	}
}

FIXTURE_TEARDOWN(dma_map_race)
{
	if (__race_kill_reap_all(self->rs, self->target, RACE_REAP_MS))
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

/* The first failure, in the words of the public reproducer ("[dma_map] dma_map FAILED iova=...: [Errno 22] Invalid argument"). */
static void record_failure(struct map_stats *st, const char *fmt, ...)
{
	va_list ap;

	st->rs->target_failed = 1;
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
	pthread_mutex_t dma_lock;	/* one memcpy at a time: a driver drives one engine */
};

/* Which rs->ops slot each mapper times its calls in. */
enum { OP_MAPPER, OP_HAMMER };

/*
 * One map of len bytes of the BAR mapping from off at iova: counts, judges
 * the errno, and is timed in rs->ops[op] for the hung-call watch.
 */
static int map_once(struct target_ctx *t, int op, uint64_t iova, size_t off, size_t len)
{
	struct map_stats *st = t->self->st;
	struct race_op *o = &t->self->rs->ops[op];
	uint64_t faults0;
	int ret, err;

	__atomic_fetch_add(&st->attempts, 1, __ATOMIC_RELAXED);
	faults0 = race_thread_minflt();
	o->started_ns = now_ns();
	ret = __iommu_map(&t->self->iommu, (void *)(t->bar + off), iova, len);
	o->started_ns = 0;
	__atomic_fetch_add(&st->fault_ins, race_thread_minflt() - faults0, __ATOMIC_RELAXED);
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
 * The mapping must be the BAR: let the DMA device copy a window of the
 * pattern to iova + off and read it back through the CPU mapping at off. A
 * stale or wrong PFN in the IOMMU shows as a mismatch.
 */
static void verify_once(struct target_ctx *t, uint64_t iova, uint64_t off, uint64_t k,
			volatile uint64_t *count)
{
	struct map_stats *st = t->self->st;
	uint32_t src_off = (k * 64) % (PATTERN_LEN / 2), len = 512;
	volatile uint8_t *dst = t->bar + off;
	uint32_t i;
	int ret;

	pthread_mutex_lock(&t->dma_lock);
	for (i = 0; i < len; i++)
		dst[i] = 0;
	ret = __dma_driver_memcpy(&t->self->pair.dma, IOVA_RAM + src_off, iova + off, len,
				  DMA_DRIVER_TIMEOUT_MS);
	if (ret) {
		record_failure(st, "%s: %s", t->self->pair.dma.what, strerror(-ret));
		pthread_mutex_unlock(&t->dma_lock);
		return;
	}
	for (i = 0; i < len && dst[i] == t->pattern[src_off + i]; i++)
		;
	if (i < len) {
		char msg[sizeof(st->first_mismatch)];

		snprintf(msg, sizeof(msg), "verify FAILED iova=0x%llx: BAR byte 0x%llx is 0x%02x, the device wrote 0x%02x there",
			 (unsigned long long)(iova + off + i), (unsigned long long)(off + i), dst[i],
			 t->pattern[src_off + i]);
		if (!__atomic_fetch_add(&st->mismatches, 1, __ATOMIC_RELAXED))
			memcpy(st->first_mismatch, msg, sizeof(msg));
		record_failure(st, "%s", msg);
	} else {
		__atomic_fetch_add(count, 1, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&t->dma_lock);
}

static void fill_pattern(uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (i * 131 + 7) ^ (i >> 8);
}

/*
 * The zap window is one follow_pfnmap_start() of the leaf, whatever the
 * length of the map: map 2 MiB pieces of the huge-mapped BAR, as fast as
 * the IOMMU takes them, for many windows per second. One map in 64 is
 * checked by a DMA too, at a place of its own in the piece.
 */
static void *hammer(void *arg)
{
	struct target_ctx *t = arg;
	size_t len = t->self->map_size < SZ_2M ? t->self->map_size : SZ_2M;
	size_t n = t->self->map_size / len, off;
	uint64_t k;

	for (k = 0; !t->self->rs->stop; k++) {
		off = (k * 7919 % n) * len;
		if (map_once(t, OP_HAMMER, IOVA_BAR2 + off, off, len))
			continue;
		if (t->verify && k % 64 == 0)
			verify_once(t, IOVA_BAR2, off + (k * 448) % (len - SZ_4K), k,
				    &t->self->st->hammer_verified);
		unmap_once(t, IOVA_BAR2 + off, len);
	}
	return NULL;
}

/* One map of the whole BAR, checked by a DMA when it can be, and its unmap. */
static void mapper_round(struct target_ctx *t, uint64_t k)
{
	size_t size = t->self->map_size;

	if (map_once(t, OP_MAPPER, IOVA_BAR, 0, size))
		return;
	if (t->verify)
		verify_once(t, IOVA_BAR, ((k * 7919) % (size / SZ_2M)) * SZ_2M + (k * 192) % SZ_4K, k,
			    &t->self->st->verified);
	unmap_once(t, IOVA_BAR, size);
}

/* Map the pattern the P2P check has the device copy, at IOVA_RAM. */
static int pattern_load(struct target_ctx *t, struct mem_buf *ram)
{
	int ret;

	ret = __mem_buf_alloc(ram, MEM_ANON, SZ_2M, NULL);
	if (ret)
		return ret;
	fill_pattern(ram->addr, PATTERN_LEN);
	t->pattern = ram->addr;
	return __iommu_map(&t->self->iommu, ram->addr, IOVA_RAM, SZ_2M);
}

/*
 * The process whose mm is walked: map the BAR and prove its leaf, time one
 * uncontended map and see which page size the IOMMU used for it, then map
 * and unmap all of it in a loop (each map checked by a DMA when it can be)
 * with an unverified hammer of 2 MiB maps beside it. Nobody else touches
 * the BAR: the mappers' own fault-ins are the only refaults, so every map
 * after a walk's split finds the leaf gone and opens type1's window between
 * fault-in and lookup (about one map in three, by the fault-ins). A
 * refaulter thread beside them kept the leaf present and halved the catch
 * rate on Debian sid (README, "Beside the naive reproducer").
 */
static void target_main(struct target_ctx *t)
{
	FIXTURE_DATA(dma_map_race) *self = t->self;
	struct vfio_pci_device *dev = t->variant->bar == BAR_DMA0 ? &self->pair.dma_dev : &self->pair.bar_dev;
	pthread_t hammer_thread;
	struct mem_buf ram;
	uint64_t k, t0;
	void *addr;
	int ret;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	pthread_mutex_init(&t->dma_lock, NULL);
	snprintf(self->rs->ops[OP_MAPPER].what, sizeof(self->rs->ops[0].what), "VFIO_IOMMU_MAP_DMA of the BAR");
	snprintf(self->rs->ops[OP_HAMMER].what, sizeof(self->rs->ops[0].what), "VFIO_IOMMU_MAP_DMA of 2 MiB");
	addr = __vfio_pci_bar_map(dev, self->bar, self->map_size, t->variant->align);
	if (addr == MAP_FAILED) {
		record_failure(self->st, "mmap of BAR%d: %s", self->bar, strerror(errno));
		self->st->ready = 1;
		_exit(1);
	}
	t->bar = addr;
	self->rs->region_start = (uintptr_t)addr;
	self->rs->region_end = (uintptr_t)addr + self->map_size;
	/* The CPU leaf: one thread still, so every fault counted is the measurement's. */
	/* Below 4 MiB no PMD leaf fits with room to tell: PTEs, unmeasured. */
	if (self->map_size >= 2 * SZ_2M)
		leaf_measure(t->bar, self->map_size, &self->st->cpu);
	else
		self->st->cpu = (struct leaf_proof){ .leaf = LEAF_PTE, .faults_2m = -1, .faults_4k = -1 };

	if (t->verify && pattern_load(t, &ram)) {
		record_failure(self->st, "setting up the DMA pattern failed");
		self->st->ready = 1;
		_exit(1);
	}

	t0 = now_ns();
	ret = map_once(t, OP_MAPPER, IOVA_BAR, 0, self->map_size);
	self->st->uncontended_ns = now_ns() - t0;
	self->st->iommu = LEAF_UNKNOWN;
	if (!ret) {
		self->st->iommu = iommu_leaf(dev->bdf, IOVA_BAR, &self->st->iommu_why);
		unmap_once(t, IOVA_BAR, self->map_size);
	}
	self->st->iommu_max = iommu_max_leaf(dev->bdf, &self->st->iommu_why);

	self->st->ready = 1;

	pthread_create(&hammer_thread, NULL, hammer, t);
	for (k = 0; !self->rs->stop; k++)
		mapper_round(t, k);
	pthread_join(hammer_thread, NULL);
	_exit(0);
}

/*
 * Start the target and wait until it mapped the BAR and proved the
 * premises: 0, or SKIP/ASSERT through the harness.
 */
static pid_t target_start(FIXTURE_DATA(dma_map_race) *self, const FIXTURE_VARIANT(dma_map_race) *variant,
			  bool verify)
{
	static struct target_ctx t;
	uint64_t deadline;
	pid_t pid;

	t = (struct target_ctx){ .self = self, .variant = variant, .verify = verify };
	pid = fork();
	if (pid == 0)
		target_main(&t);
	deadline = now_ns() + (uint64_t)TARGET_READY_S * slow_factor() * 1000000000;
	while (pid > 0 && !self->st->ready && now_ns() < deadline)
		usleep(10000);
	return pid;
}

/*
 * Say what the target measured; an empty string when the premises hold,
 * else why not. The race needs the CPU leaf of the variant; the IOMMU side
 * is shown (the page size its page table has for the BAR, where debugfs
 * shows it), and is a missing premise only when the IOMMU cannot map that
 * large at all: an IOMMU that could but did not points at the kernel (a
 * misaligned PFN, say), which the P2P check then judges.
 */
static const char *premises(FIXTURE_DATA(dma_map_race) *self, const FIXTURE_VARIANT(dma_map_race) *variant,
			    struct why *why)
{
	struct map_stats *st = self->st;

	ksft_print_msg("%s BAR%d, %zu MiB mapped %zu MiB-aligned: %ld faults for one touch per 2 MiB, %ld for every 4 KiB of 2 MiB: %s leaves; the IOMMU maps it with %s pages%s%s (it can map up to %s)\n",
		       variant->bar == BAR_DMA0 ? self->pair.dma_dev.bdf : self->pair.bar_dev.bdf,
		       self->bar, self->map_size >> 20, variant->align >> 20, st->cpu.faults_2m,
		       st->cpu.faults_4k, leaf_name(st->cpu.leaf),
		       st->iommu == LEAF_UNKNOWN ? "unknown" : leaf_name(st->iommu),
		       st->iommu == LEAF_UNKNOWN && st->iommu_why.msg[0] ? ": " : "",
		       st->iommu == LEAF_UNKNOWN ? st->iommu_why.msg : "", leaf_name(st->iommu_max));
	why_clear(why);
	if (st->cpu.leaf != variant->leaf)
		why_set(why, "wanted %s leaves, the kernel installed %s", leaf_name(variant->leaf),
			leaf_name(st->cpu.leaf));
	else if (variant->leaf == LEAF_PUD && st->iommu_max == LEAF_PTE)
		why_set(why, "the IOMMU has no large pages (its capability register)");
	else if (st->iommu != LEAF_UNKNOWN && st->iommu_max != LEAF_UNKNOWN &&
		 st->iommu < (variant->leaf < st->iommu_max ? variant->leaf : st->iommu_max))
		ksft_print_msg("the IOMMU maps the BAR with smaller pages than it and the CPU side allow\n");
	return why->msg;
}

/* " EINVAL=2 EFAULT=5", or " none": the failed maps by errno. */
static const char *errno_summary(const struct map_stats *st, char *buf, size_t len)
{
	size_t used = 0;
	int e;

	buf[0] = 0;
	for (e = 1; e < MAX_ERRNO && used < len; e++)
		if (st->by_errno[e])
			used += snprintf(buf + used, len - used, " %s=%llu",
					 strerrorname_np(e) ?: "?", (unsigned long long)st->by_errno[e]);
	return buf[0] ? buf : " none";
}

static void report_counts(FIXTURE_DATA(dma_map_race) *self, uint64_t elapsed, uint64_t duration,
			  uint64_t refaults)
{
	char errnos[256], walks[160];

	race_walks_summary(self->rs, walks, sizeof(walks));
	ksft_print_msg("race: %.1f of %.0f s, %d walkers: walks %s, fault-ins in MAP_DMA (refaults)=%llu; dma_map attempts=%llu ok=%llu verified=%llu hammer verified=%llu mismatches=%llu unmap failures=%llu, errno:%s; uncontended map %.1f ms\n",
		       elapsed / 1e9, duration / 1e9, self->rs->nr_walkers, walks,
		       (unsigned long long)refaults, (unsigned long long)self->st->attempts,
		       (unsigned long long)self->st->successes, (unsigned long long)self->st->verified,
		       (unsigned long long)self->st->hammer_verified,
		       (unsigned long long)self->st->mismatches,
		       (unsigned long long)self->st->unmap_failures, errno_summary(self->st, errnos, sizeof(errnos)),
		       self->st->uncontended_ns / 1e6);
	if (self->st->failed)
		ksft_print_msg("first failure %.1f s into the race: %s\n",
			       self->st->race_start_ns && self->st->first_failure_ns > self->st->race_start_ns ?
			       (self->st->first_failure_ns - self->st->race_start_ns) / 1e9 : 0.0,
			       self->st->first_failure);
}

TEST_F_TIMEOUT(dma_map_race, map_under_walks, RACE_TEST_TIMEOUT_S)
{
	bool verify = self->pair.dma_open && variant->bar == BAR_LARGEST && !variant->expect_errno;
	struct why why;
	uint64_t elapsed, duration;
	uint64_t faults0, refaults;
	int i, failures;

	if (!verify)
		TH_LOG("no P2P check of the mapped PFNs: %s",
		       variant->expect_errno ? "the map is expected to fail" :
		       variant->bar == BAR_DMA0 ? "a DMA into the device's own registers is no safe check" :
		       "no device to drive the DMA");
	self->target = target_start(self, variant, verify);
	ASSERT_LT(0, self->target);
	ASSERT_TRUE(self->st->ready)
		TH_LOG("the target did not get ready in %d s", TARGET_READY_S * slow_factor());
	ASSERT_EQ(0, self->st->failed) TH_LOG("%s", self->st->first_failure);
	if (premises(self, variant, &why)[0])
		SKIP(return, "%s", why.msg);

	faults0 = self->st->fault_ins;
	self->st->race_start_ns = now_ns();
	for (i = 0; i < race_params.walkers; i++)
		ASSERT_EQ(0, __race_walker_start(self->rs, self->target, i));
	/*
	 * The window is a type1 map of a PUD leaf (below): there the whole
	 * duration, a control race elsewhere (race.h).
	 */
	duration = race_duration_ns(variant->leaf == LEAF_PUD && !variant->expect_errno);
	failures = race_monitor(self->rs, &self->kmsg, &self->target, duration, RACE_HUNG_MS, &elapsed);
	refaults = self->st->fault_ins - faults0;
	if (self->target > 0 && __race_kill_reap(self->target, 10000 * slow_factor()) == 0)
		self->target = -1;
	report_counts(self, elapsed, duration, refaults);
	ASSERT_EQ(0, failures);
	/* The P2P check's verdict first: a wrong PFN is worse than a failed map. */
	ASSERT_EQ(0ULL, (unsigned long long)self->st->mismatches) TH_LOG("first mismatch: %s", self->st->first_mismatch);
	ASSERT_EQ(0, self->st->failed) TH_LOG("%s", self->st->first_failure);
	ASSERT_LT(0ULL, (unsigned long long)self->st->attempts);
	/*
	 * The race happened only if the walks split the leaf and the mappers
	 * faulted it in again. Walks split only PUD leaves of a PFNMAP (PMD and
	 * PTE ones they leave alone), and iommufd fails before it faults.
	 */
	if (variant->leaf == LEAF_PUD && !variant->expect_errno)
		ASSERT_LT(0ULL, (unsigned long long)refaults)
			TH_LOG("no walk split a leaf that the mappers then faulted in again");
	if (verify) {
		ASSERT_LT(0ULL, (unsigned long long)self->st->verified);
		ASSERT_LT(0ULL, (unsigned long long)self->st->hammer_verified);
	}
}

/*
 * A map that retries inside the kernel must stay killable. The target
 * runs its mappers under twice the walk pressure with nobody else to
 * refault: a retry that waits for someone else to refault the zapped entry
 * spins for good (and holds the container's lock, so the other mapper
 * blocks behind it). SIGKILL it when a map has been in the kernel for
 * longer than the bound, or after the pressure ran a quarter of --duration
 * (5 s at least): it must be gone within three times one uncontended map of
 * the range, 2 s at least. The bound is stretched on a slow machine
 * (slow.h), the pressure is not: it is the race's duration.
 */
TEST_F_TIMEOUT(dma_map_race, mapper_killable, RACE_TEST_TIMEOUT_S)
{
	uint64_t bound_ns, t0, t_race, took, pressure_ns, t_test = now_ns();
	int i, ret, hung_s, more_ms, left_ms;
	char line[256], errnos[256];
	struct why why;
	struct race_op *op = NULL;

	self->target = target_start(self, variant, false);
	ASSERT_LT(0, self->target);
	ASSERT_TRUE(self->st->ready)
		TH_LOG("the target did not get ready in %d s", TARGET_READY_S * slow_factor());
	if (premises(self, variant, &why)[0])
		SKIP(return, "%s", why.msg);
	for (i = 0; i < 2 * race_params.walkers && i < RACE_MAX_WALKERS; i++)
		ASSERT_EQ(0, __race_walker_start(self->rs, self->target, i));

	bound_ns = 3 * self->st->uncontended_ns;
	if (bound_ns < 2000000000ULL)
		bound_ns = 2000000000ULL;
	bound_ns *= slow_factor();
	/*
	 * Only a map that follows a huge leaf has the zap window, and without
	 * a refaulter a walk lands in it only now and then (on a kernel
	 * without the retry each landing is an EINVAL, counted below): half
	 * the duration there, a quarter elsewhere, 5 s at least.
	 */
	pressure_ns = (uint64_t)race_params.duration_s * 1000000000ULL /
		      (!variant->expect_errno && self->st->cpu.leaf != LEAF_PTE ? 2 : 4);
	if (pressure_ns < 5000000000ULL)
		pressure_ns = 5000000000ULL;
	for (t_race = t0 = now_ns(); now_ns() - t0 < pressure_ns && !op; usleep(10000))
		op = race_op_hung(self->rs, bound_ns / 1000000);

	t0 = now_ns();
	ret = __race_kill_reap(self->target, bound_ns / 1000000);
	took = now_ns() - t0;
	ksft_print_msg("killed the mapper after %llu map attempts (errno:%s) under %d walkers%s%s%s: %s %.1f ms (bound %.0f ms, uncontended map %.1f ms)\n",
		       (unsigned long long)self->st->attempts, errno_summary(self->st, errnos, sizeof(errnos)),
		       self->rs->nr_walkers,
		       op ? " while its " : "", op ? op->what : "", op ? " had been in the kernel past the bound" : "",
		       ret ? "still there after" : "gone in", took / 1e6, bound_ns / 1e6,
		       self->st->uncontended_ns / 1e6);
	if (!ret) {
		self->target = -1;
		ASSERT_LE(took, bound_ns);
		return;
	}
	ksft_print_msg("first failure %.1f s into the race: %s\n", (now_ns() - t_race) / 1e9,
		       op ? "a map stayed in the kernel past the bound, and SIGKILL did not end it" :
		       "the mapper outlived SIGKILL");
	/*
	 * Still there: give it 30 s more, then the kernel's own word on why
	 * (its hung-task report, hung_task_timeout_secs after the task
	 * blocked: the kernel's clock, so only our 10 s beyond it stretch).
	 * Finite on a slow machine too: a mapper that never dies fails.
	 */
	more_ms = 30000 * slow_factor();
	ret = __race_kill_reap(self->target, more_ms);
	if (!ret)
		self->target = -1;
	/*
	 * The report can come later than the test may run (120 s by default,
	 * past RACE_TEST_TIMEOUT_S): wait only for what is left of the
	 * harness timeout, less 20 s for the set-up before t_test and the
	 * teardown after, so that the failure below is the verdict and not
	 * the harness's TIMEOUT, which would hide it.
	 */
	hung_s = (int)sysfs_read_long("/proc/sys/kernel/hung_task_timeout_secs");
	left_ms = (RACE_TEST_TIMEOUT_S - 20) * 1000 * slow_factor() - (int)((now_ns() - t_test) / 1000000);
	if (left_ms > (hung_s + 10 * slow_factor()) * 1000)
		left_ms = (hung_s + 10 * slow_factor()) * 1000;
	if (ret && hung_s > 0 && left_ms > 0 &&
	    !__kmsg_wait_for(&self->kmsg, "blocked for more than", left_ms, line, sizeof(line)))
		TH_LOG("the kernel: %s", line);
	ASSERT_EQ(0, ret) TH_LOG("the mapper did not die within %.0f s of SIGKILL", (bound_ns / 1e6 + more_ms) / 1e3);
	ASSERT_LE(took, bound_ns) TH_LOG("the mapper died %.1f ms after SIGKILL", took / 1e6);
}

int main(int argc, char **argv)
{
	devsel_parse(&argc, argv);
	race_parse_args(&argc, argv);
	return pfnmap_test_run(argc, argv);
}
