// SPDX-License-Identifier: GPL-2.0
/*
 * A page walk of /proc/PID/{numa_maps,smaps,smaps_rollup,pagemap} splits a
 * huge PFNMAP leaf of a BAR mapping while the owner refaults it at once.
 * Without 3b89863c3fa4 ("mm/pagewalk: fix race between concurrent split and
 * refault") the walker descends into the refaulted PUD leaf as if it were a
 * PMD table: it oopses holding the owner's mmap lock, and every later /proc
 * read of the owner hangs.
 *
 * The owner of the mapping (the target) and the walkers are processes of
 * their own: the test process never touches the target's mm, so it can
 * still time out a hung read, report, and end.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "iommu.h"
#include "pfnmap_test.h"
#include "race.h"
#include "util.h"
#include "vfio_pci.h"

#define HUNG_READ_MS	10000	/* a walk of 1 GiB takes well under a second */
#define REAP_MS		3000
/*
 * The walker loses only if it is preempted between zapping the leaf and
 * looking at the entry again, and a refaulter runs then: more refaulters
 * than vCPUs, and several mappings of the BAR (several leaves to split per
 * walk), make that likelier.
 */
#define REFAULTERS	4
#define COPIES		4

enum leaf { LEAF_PTE, LEAF_PMD, LEAF_PUD };
static const char *const leaf_names[] = { "PTE (4 KiB)", "PMD (2 MiB)", "PUD (1 GiB)" };

FIXTURE(walk_race) {
	struct kmsg kmsg;
	struct iommu iommu;
	struct vfio_pci_device dev;
	bool dev_open;
	int bar;
	struct race_shared *rs;
	pid_t target;
	int report[2];		/* target -> test: the leaf it measured */
	bool stuck;		/* a process holding the BAR could not be reaped */
};

FIXTURE_VARIANT(walk_race) {
	enum leaf leaf;
	size_t size;
	size_t align;
	size_t skew;		/* offset from align: rules out larger leaves */
};

FIXTURE_VARIANT_ADD(walk_race, pud_1g) {
	.leaf = LEAF_PUD, .size = SZ_1G, .align = SZ_1G,
};
FIXTURE_VARIANT_ADD(walk_race, pmd_2m) {
	.leaf = LEAF_PMD, .size = SZ_1G - SZ_2M, .align = SZ_1G, .skew = SZ_2M,
};
FIXTURE_VARIANT_ADD(walk_race, pte_4k) {
	.leaf = LEAF_PTE, .size = 64 * SZ_2M, .align = SZ_2M, .skew = SZ_4K,
};

FIXTURE_SETUP(walk_race)
{
	char why[256] = "";
	int ret;

	kmsg_open(&self->kmsg);
	self->iommu.container_fd = self->iommu.iommufd = -1;
	self->target = -1;
	self->rs = race_shared_alloc();
	ASSERT_NE(NULL, self->rs);

	ret = devsel_bar_open(&self->dev, &self->iommu, variant->size + variant->skew, &self->bar,
			      why, sizeof(why));
	if (ret == -EOPNOTSUPP)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, ret) TH_LOG("%s", why);
	self->dev_open = true;
	ASSERT_EQ(0, pipe(self->report));
}

FIXTURE_TEARDOWN(walk_race)
{
	int i;

	if (self->rs) {
		self->rs->stop = 1;
		for (i = 0; i < self->rs->nr_walkers; i++)
			if (race_kill_reap(self->rs->walkers[i].pid, REAP_MS))
				self->stuck = true;
	}
	if (race_kill_reap(self->target, REAP_MS))
		self->stuck = true;
	if (self->dev_open && !self->stuck)
		vfio_pci_device_close(&self->dev);
	else if (self->stuck)
		TH_LOG("%s stays bound to vfio-pci: a process mapping its BAR is stuck in the kernel",
		       self->dev.bdf);
	iommu_cleanup(&self->iommu);
	if (self->rs)
		race_shared_free(self->rs);
	KMSG_CHECK(&self->kmsg);
}

static volatile uint8_t *target_region[COPIES];

/* Sweep the mappings one touch per 2 MiB: whatever a walker zapped comes back within a sweep. */
static void *refaulter(void *arg)
{
	struct race_shared *rs = arg;
	size_t off, size = rs->region_end - rs->region_start;
	int c;

	while (!rs->stop) {
		for (c = 0; c < COPIES; c++)
			for (off = 0; off < size; off += SZ_2M)
				(void)target_region[c][off];
		__atomic_fetch_add(&rs->refaults, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static long minflt_self(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

/*
 * The target: map the BAR, measure which leaf the kernel installs, report
 * it, then refault whatever the walkers split until told to stop.
 */
static void target_main(FIXTURE_DATA(walk_race) *self, const FIXTURE_VARIANT(walk_race) *variant)
{
	long f0, faults_2m, faults_4k;
	pthread_t threads[REFAULTERS];
	size_t off;
	void *addr;
	int i;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (i = 0; i < COPIES; i++) {
		addr = __vfio_pci_bar_map_skewed(&self->dev, self->bar, variant->size, variant->align,
						 variant->skew);
		if (addr == MAP_FAILED) {
			dprintf(self->report[1], "mmap %s\n", strerror(errno));
			_exit(1);
		}
		target_region[i] = addr;
	}
	addr = (void *)target_region[0];

	/* One byte per 2 MiB: 1 fault per GiB with PUD leaves, one per 2 MiB below. */
	f0 = minflt_self();
	for (off = 0; off < variant->size; off += SZ_2M)
		(void)target_region[0][off];
	faults_2m = minflt_self() - f0;
	/* Every 4 KiB of the second 2 MiB: no new fault unless PTEs. */
	f0 = minflt_self();
	for (off = SZ_2M; off < 2 * SZ_2M; off += SZ_4K)
		(void)target_region[0][off];
	faults_4k = minflt_self() - f0;
	/* The region first: the walkers start when the report arrives. */
	self->rs->region_start = (uintptr_t)addr;
	self->rs->region_end = (uintptr_t)addr + variant->size;
	dprintf(self->report[1], "faults %ld %ld\n", faults_2m, faults_4k);
	for (i = 0; i < REFAULTERS; i++)
		pthread_create(&threads[i], NULL, refaulter, self->rs);
	for (i = 0; i < REFAULTERS; i++)
		pthread_join(threads[i], NULL);
	_exit(0);
}

static enum leaf leaf_measured(long faults_2m, long faults_4k, size_t size)
{
	if (faults_4k > 0)
		return LEAF_PTE;
	if ((size_t)faults_2m <= size / SZ_1G + 1 && size >= SZ_1G)
		return LEAF_PUD;
	return LEAF_PMD;
}

TEST_F_TIMEOUT(walk_race, walk_vs_refault, 3600)
{
	struct race_shared *rs = self->rs;
	long faults_2m = -1, faults_4k = -1, target_faults;
	char line[128] = "", walks[160];
	uint64_t elapsed;
	int i, failures;
	FILE *in;

	self->target = fork();
	ASSERT_LE(0, self->target);
	if (self->target == 0)
		target_main(self, variant);

	close(self->report[1]);
	in = fdopen(self->report[0], "r");
	if (!in || !fgets(line, sizeof(line), in) ||
	    sscanf(line, "faults %ld %ld", &faults_2m, &faults_4k) != 2)
		ASSERT_TRUE(false) TH_LOG("target could not map the BAR: %s", line);
	fclose(in);
	TH_LOG("%s BAR%d: %zu MiB mapped %d times, %zu MiB-aligned + %zu KiB: %ld faults for one touch per 2 MiB, %ld for every 4 KiB of 2 MiB: %s leaves",
	       self->dev.bdf, self->bar, variant->size >> 20, COPIES, variant->align >> 20, variant->skew >> 10,
	       faults_2m, faults_4k, leaf_names[leaf_measured(faults_2m, faults_4k, variant->size)]);
	if (leaf_measured(faults_2m, faults_4k, variant->size) != variant->leaf)
		SKIP(return, "wanted %s leaves, the kernel installed %s",
		     leaf_names[variant->leaf],
		     leaf_names[leaf_measured(faults_2m, faults_4k, variant->size)]);

	for (i = 0; i < race_params.walkers; i++)
		ASSERT_EQ(0, race_walker_start(rs, self->target, i % WALK_NR_KINDS));

	failures = race_monitor(rs, &self->kmsg, &self->target,
				(uint64_t)race_params.duration_s * 1000000000ULL, HUNG_READ_MS, &elapsed);
	target_faults = self->target > 0 ? race_minflt(self->target) : -1;
	race_walks_summary(rs, walks, sizeof(walks));
	ksft_print_msg("race: %.1f of %d s, %d walkers, %d refaulters, %s leaves: walks %s, sweeps=%llu, target minor faults (refaults)=%ld, failures=%d\n",
		       elapsed / 1e9, race_params.duration_s, rs->nr_walkers, REFAULTERS,
		       leaf_names[variant->leaf], walks, (unsigned long long)rs->refaults,
		       target_faults, failures);
	if (failures)
		ksft_print_msg("first failure %.1f s into the race\n", elapsed / 1e9);
	ASSERT_EQ(0, failures);
	/* A race that never ran proves nothing. */
	ASSERT_LT(0ULL, (unsigned long long)race_walks(rs, WALK_NUMA_MAPS));
	ASSERT_LT(0ULL, (unsigned long long)rs->refaults);
}

int main(int argc, char **argv)
{
	devsel_parse(&argc, argv);
	race_parse_args(&argc, argv);
	return pfnmap_test_run(argc, argv);
}
