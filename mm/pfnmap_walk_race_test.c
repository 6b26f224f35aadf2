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
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "iommu.h"
#include "leaf.h"
#include "pfnmap_test.h"
#include "race.h"
#include "util.h"
#include "vfio_pci.h"

/*
 * The walker loses only if it is preempted between zapping the leaf and
 * looking at the entry again, and a refaulter runs then: more refaulters
 * than vCPUs, and several mappings of the BAR (several leaves to split per
 * walk), make that likelier.
 */
#define REFAULTERS	4
#define COPIES		4


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
	/*
	 * The walkers zap what they walk, so the target must refault: true for
	 * PUD leaves only. walk_pud_range() splits a PUD leaf (for PFNMAP: a
	 * zap) before it walks below it; numa_maps' and smaps' pmd_entry take a
	 * PMD leaf whole under pmd_trans_huge_lock(), and walk_pmd_range()
	 * splits none without a pte_entry. The smaller variants walk a leaf or
	 * a table that stays: they catch a walker that mistakes one for the
	 * other (kernel/mutants/numa-maps-pmd-leaf.patch).
	 */
	bool walks_zap;
};

FIXTURE_VARIANT_ADD(walk_race, pud_1g) {
	.leaf = LEAF_PUD, .size = SZ_1G, .align = SZ_1G, .walks_zap = true,
};
FIXTURE_VARIANT_ADD(walk_race, pmd_2m) {
	.leaf = LEAF_PMD, .size = SZ_1G - SZ_2M, .align = SZ_1G, .skew = SZ_2M,
};
FIXTURE_VARIANT_ADD(walk_race, pte_4k) {
	.leaf = LEAF_PTE, .size = 64 * SZ_2M, .align = SZ_2M, .skew = SZ_4K,
};

FIXTURE_SETUP(walk_race)
{
	struct why why = { "" };
	int ret;

	KMSG_OPEN(&self->kmsg);
	self->iommu.container_fd = self->iommu.iommufd = -1;
	self->target = -1;
	self->rs = race_shared_alloc();
	ASSERT_NE(NULL, self->rs);
	ASSERT_EQ(0, pipe(self->report));

	/* Last: the harness runs no teardown after a failed setup. */
	ret = __devsel_bar_open(&self->dev, &self->iommu, variant->size + variant->skew, &self->bar,
				&why);
	if (ret == -EOPNOTSUPP)
		SKIP(return, "%s", why.msg);
	ASSERT_EQ(0, ret) TH_LOG("%s", why.msg);
	self->dev_open = true;
}

FIXTURE_TEARDOWN(walk_race)
{
	if (__race_kill_reap_all(self->rs, self->target, RACE_REAP_MS))
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
	uint64_t faults0;
	int c;

	while (!rs->stop) {
		faults0 = race_thread_minflt();
		for (c = 0; c < COPIES; c++)
			for (off = 0; off < size; off += SZ_2M)
				(void)target_region[c][off];
		__atomic_fetch_add(&rs->refault_faults, race_thread_minflt() - faults0, __ATOMIC_RELAXED);
		__atomic_fetch_add(&rs->refaults, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/*
 * The target: map the BAR COPIES times, measure which leaf the kernel
 * installed in each, report them, then refault whatever the walkers split
 * until told to stop.
 */
static void target_main(FIXTURE_DATA(walk_race) *self, const FIXTURE_VARIANT(walk_race) *variant)
{
	pthread_t threads[REFAULTERS];
	struct leaf_proof proof;
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
		leaf_measure(target_region[i], variant->size, &proof);
		dprintf(self->report[1], "copy %d %p %ld %ld %d\n", i, addr, proof.faults_2m,
			proof.faults_4k, proof.leaf);
	}
	/* The region first: the walkers start when the last report arrives. */
	self->rs->region_start = (uintptr_t)target_region[0];
	self->rs->region_end = (uintptr_t)target_region[0] + variant->size;
	dprintf(self->report[1], "ready\n");
	for (i = 0; i < REFAULTERS; i++)
		pthread_create(&threads[i], NULL, refaulter, self->rs);
	for (i = 0; i < REFAULTERS; i++)
		pthread_join(threads[i], NULL);
	_exit(0);
}

TEST_F_TIMEOUT(walk_race, walk_vs_refault, RACE_TEST_TIMEOUT_S)
{
	struct race_shared *rs = self->rs;
	long f2m, f4k;
	char line[160] = "", walks[160];
	enum leaf got, worst = variant->leaf;
	int i, copy, failures, g;
	uint64_t elapsed, duration;
	FILE *in;
	void *addr;

	self->target = fork();
	ASSERT_LE(0, self->target);
	if (self->target == 0)
		target_main(self, variant);

	close(self->report[1]);
	in = fdopen(self->report[0], "r");
	ASSERT_NE(NULL, in);
	/* Every copy must have the leaf of the variant: the race needs them all. */
	while (fgets(line, sizeof(line), in) &&
	       sscanf(line, "copy %d %p %ld %ld %d", &copy, &addr, &f2m, &f4k, &g) == 5) {
		got = g;
		TH_LOG("%s BAR%d copy %d at %p: %zu MiB, %zu MiB-aligned + %zu KiB: %ld faults for one touch per 2 MiB, %ld for every 4 KiB of 2 MiB: %s leaves",
		       self->dev.bdf, self->bar, copy, addr, variant->size >> 20, variant->align >> 20,
		       variant->skew >> 10, f2m, f4k, leaf_name(got));
		if (got != variant->leaf)
			worst = got;
	}
	fclose(in);
	ASSERT_EQ(0, strcmp(line, "ready\n")) TH_LOG("the target could not map the BAR: %s", line);
	if (worst != variant->leaf)
		SKIP(return, "wanted %s leaves, the kernel installed %s", leaf_name(variant->leaf),
		     leaf_name(worst));

	for (i = 0; i < race_params.walkers; i++)
		ASSERT_EQ(0, __race_walker_start(rs, self->target, i));

	/* Only a PUD leaf has the window (race.h): the others race a quarter. */
	duration = race_duration_ns(variant->walks_zap);
	failures = race_monitor(rs, &self->kmsg, &self->target, duration, RACE_HUNG_MS, &elapsed);
	race_walks_summary(rs, walks, sizeof(walks));
	ksft_print_msg("race: %.1f of %.0f s, %d walkers, %d refaulters, %s leaves: walks %s, sweeps=%llu, faults in the sweeps (refaults)=%llu, failures=%d\n",
		       elapsed / 1e9, duration / 1e9, rs->nr_walkers, REFAULTERS,
		       leaf_name(variant->leaf), walks, (unsigned long long)rs->refaults,
		       (unsigned long long)rs->refault_faults, failures);
	if (failures)
		ksft_print_msg("first failure %.1f s into the race\n", elapsed / 1e9);
	ASSERT_EQ(0, failures);
	/* A race that never ran proves nothing. */
	for (i = 0; i < rs->nr_walkers; i++)
		ASSERT_LT(0ULL, (unsigned long long)rs->walkers[i].walks)
			TH_LOG("the %s walker never finished a walk", walk_kind_name(rs->walkers[i].kind));
	if (variant->walks_zap)
		ASSERT_LT(0ULL, (unsigned long long)rs->refault_faults)
			TH_LOG("no walk split a leaf that the target then refaulted");
}

int main(int argc, char **argv)
{
	devsel_parse(&argc, argv);
	race_parse_args(&argc, argv);
	return pfnmap_test_run(argc, argv);
}
