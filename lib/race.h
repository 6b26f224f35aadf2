/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PFNMAP_RACE_H
#define PFNMAP_RACE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "slow.h"

/*
 * Page-table walkers for race tests: processes that read /proc/PID files of
 * a target process in a loop. They are separate processes so that a walker
 * the kernel kills mid-walk (holding the target's mmap lock) cannot take
 * the test down with it, and so the test can time each read.
 *
 * Only walks that really descend into a VM_PFNMAP mapping's page tables are
 * here: numa_maps, smaps and smaps_rollup walk a VMA with walk_page_vma(),
 * which does not skip PFNMAP VMAs, and split a PUD leaf on the way down
 * (walk_pud_range(): split_huge_pud() when the ops have a pmd_entry). Not
 * here: pagemap and PAGEMAP_SCAN (walk_page_range() calls walk_page_test(),
 * which skips VM_PFNMAP; PAGEMAP_SCAN's test_walk returns 1 for it), mincore()
 * (its pud_entry takes a PUD leaf whole, no split) and clear_refs (its
 * test_walk skips VM_PFNMAP). See README, "Walkers".
 *
 * Parameters: --duration=SECONDS / PFNMAP_RACE_DURATION,
 *             --walkers=N / PFNMAP_RACE_WALKERS,
 *             --walk=KIND[,KIND...] / PFNMAP_RACE_WALK: the kinds the
 *             walkers take in turn (race_parse_args()).
 */
enum walk_kind {
	WALK_NUMA_MAPS,
	WALK_SMAPS,
	WALK_SMAPS_ROLLUP,
	WALK_NR_KINDS,
};

#define RACE_MAX_WALKERS 16

struct walker_state {
	pid_t pid;
	enum walk_kind kind;
	volatile uint64_t walks;		/* completed reads */
	volatile uint64_t read_started_ns;	/* 0: not inside a read */
	volatile int error;			/* errno of a failed open/read */
	volatile int region_missing;		/* a read did not list the region under test */
};

/*
 * A call of the target's that must return within the hung bound like a
 * walker's read (a MAP_DMA): started_ns is set around it, 0 outside.
 */
#define RACE_MAX_OPS 4
struct race_op {
	volatile uint64_t started_ns;
	char what[32];			/* "VFIO_IOMMU_MAP_DMA" */
};

/* Shared (MAP_SHARED) between the test, its target and its walkers. */
struct race_shared {
	volatile int stop;
	volatile int target_failed;		/* the target saw its own failure: end the race */
	struct race_op ops[RACE_MAX_OPS];
	volatile uint64_t refaults;		/* refault sweeps by the target */
	/*
	 * Minor faults the target's refaulters took within their sweeps
	 * (getrusage() per thread around each): the mapping's refaults of
	 * what a walk split, and nothing else: the target's own count also
	 * has its stacks' and fork's, a few in every race.
	 */
	volatile uint64_t refault_faults;
	volatile uint64_t region_start;		/* what the pagemap walkers read */
	volatile uint64_t region_end;
	struct walker_state walkers[RACE_MAX_WALKERS];
	int nr_walkers;
};

struct race_params {
	int duration_s;
	int walkers;
	int nr_kinds;
	enum walk_kind kinds[RACE_MAX_WALKERS];	/* walker i reads kinds[i % nr_kinds] */
};

/*
 * The longest race a test may run, so that every program fits the
 * kselftest timeout in `settings` (660 s) at the longest: the MAP_DMA race
 * runs 10 variants of map_under_walks (a race: the whole duration in the
 * two with a zap window, a quarter, 5 s at least, in the eight controls,
 * race_duration_ns()) and mapper_killable (half of one in those two, a
 * quarter elsewhere, 5 s at least), with 10 s of set-up and reaping each:
 * 2 x (40 + 20 + 10) + 8 x (10 + 10 + 10) = 380 s. On a slow machine
 * (slow.h) the set-up and reaping may take 4 times as long, the races not:
 * 2 x (40 + 20 + 40) + 8 x (10 + 10 + 40) = 680 s, which `settings` does
 * not hold (its comment says what such a run needs). `settings` says the
 * same, and README ("Every wait is bounded").
 */
#define RACE_MAX_DURATION_S	40
/*
 * TEST_F_TIMEOUT of a race test: the race, its set-up and its reaping. The
 * harness timeouts of every test are stretched with the bounds inside them
 * (pfnmap_test_run()), so the 60 s for set-up and reaping become 240 s on
 * a slow machine and a test that fits here fits there.
 */
#define RACE_TEST_TIMEOUT_S	(RACE_MAX_DURATION_S + 60)

/*
 * The liveness bounds of a race (slow.h stretches them; the race's
 * duration is not): a walker's read of /proc/TARGET/... or a target's
 * call (rs->ops) that has not returned after RACE_HUNG_MS is hung (a walk
 * of 1 GiB takes well under a second), and a process killed with SIGKILL
 * that is not reaped within RACE_REAP_MS is stuck in the kernel.
 */
#define RACE_HUNG_MS		(10000 * slow_factor())
#define RACE_REAP_MS		(3000 * slow_factor())

/*
 * Defaults, then environment, then argv (the options are removed). A bad
 * value is a usage error: one line, and exit 1 (kselftest reads 2 as XFAIL).
 */
void race_parse_args(int *argc, char **argv);
extern struct race_params race_params;

struct race_shared *race_shared_alloc(void);
void race_shared_free(struct race_shared *rs);

const char *walk_kind_name(enum walk_kind kind);

/* Fork walker number i (its kind: race_params.kinds[i % nr_kinds]) reading /proc/target/...; -errno. */
int __race_walker_start(struct race_shared *rs, pid_t target, int i);

/* Send SIGKILL to pid and reap it within timeout_ms: 0, or -ETIMEDOUT when
 * the process is stuck where no signal reaches it. */
int __race_kill_reap(pid_t pid, int timeout_ms);

/*
 * The end of a race: sets rs->stop (rs may be NULL), sends SIGKILL to its
 * walkers and to target, and reaps them all within one timeout_ms. Returns
 * how many are stuck where no signal reaches them (0: none). One deadline
 * for all: a walk that hangs holds the target's mmap lock, so all of them
 * hang together, and a bound each would make the teardown five bounds long.
 */
int __race_kill_reap_all(struct race_shared *rs, pid_t target, int timeout_ms);


/*
 * How long a race runs. Where the variant has the window its bug needs
 * (a walk splits only PUD leaves of a PFNMAP, and only type1 follows the
 * PFNs a split leaves behind), the whole --duration: the detection curves
 * set it (README, "Beside the naive reproducer"). Elsewhere the race is a
 * control, the same walks and maps where no window exists, whose failures
 * show at the first walk or map (a WARNING in the BAR's fault handler in
 * 0.0-0.3 s, a walk that hangs on a PMD leaf from its first read: the
 * kernel mutants bar-fault-warn and numa-maps-pmd-leaf): a quarter of it,
 * RACE_CONTROL_MIN_NS at least, never more than --duration.
 */
#define RACE_CONTROL_MIN_NS	5000000000ULL
uint64_t race_duration_ns(bool window);

/*
 * Watch a race for duration_ns (or until the first failure): the kernel log
 * (Oops, BUG, WARNING, lockups, stalls), walkers that die or whose read does
 * not return within hung_ms, a target call (rs->ops) that does not return
 * within hung_ms, and the target dying (*target is set to -1 once reaped).
 * Each failure is printed as a KTAP diagnostic. Sets rs->stop, waits for
 * the reads and calls still in the kernel (each up to hung_ms from its
 * start), then checks that a fresh read of /proc/TARGET/numa_maps returns.
 * Returns the number of failures; *elapsed_ns is how long the race ran (to
 * the failure, where one was found after the time was up).
 */
struct kmsg;
int race_monitor(struct race_shared *rs, struct kmsg *k, pid_t *target, uint64_t duration_ns,
		 int hung_ms, uint64_t *elapsed_ns);

/* Completed walks of one kind, over all walkers. */
uint64_t race_walks(struct race_shared *rs, enum walk_kind kind);
/* "numa_maps=N smaps=N smaps_rollup=N", the kinds that ran */
void race_walks_summary(struct race_shared *rs, char *buf, int len);

/* The first of rs->ops in progress for over ms milliseconds, or NULL. */
struct race_op *race_op_hung(struct race_shared *rs, int ms);

/*
 * Query: the minor faults the calling thread has taken so far
 * (getrusage(RUSAGE_THREAD)). Read around an operation, the faults that
 * operation took, and none of another thread's or of the process's own
 * (its stacks, fork): the races count refaults with it.
 */
uint64_t race_thread_minflt(void);

/* The wait channel of a stuck process, for the report. */
void race_wchan(pid_t pid, char *buf, int len);

#endif
