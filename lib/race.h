/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PFNMAP_RACE_H
#define PFNMAP_RACE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Page-table walkers for race tests: processes that read /proc/PID files of
 * a target process in a loop. They are separate processes so that a walker
 * the kernel kills mid-walk (holding the target's mmap lock) cannot take
 * the test down with it, and so the test can time each read.
 *
 * Parameters: --duration=SECONDS / PFNMAP_RACE_DURATION,
 *             --walkers=N / PFNMAP_RACE_WALKERS (race_parse_args()).
 */
enum walk_kind {
	WALK_NUMA_MAPS,
	WALK_SMAPS,
	WALK_SMAPS_ROLLUP,
	WALK_PAGEMAP,		/* read(), and PAGEMAP_SCAN where the kernel has it */
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

/* Shared (MAP_SHARED) between the test, its target and its walkers. */
struct race_shared {
	volatile int stop;
	volatile uint64_t refaults;		/* refault sweeps by the target */
	volatile uint64_t region_start;		/* what the pagemap walkers read */
	volatile uint64_t region_end;
	struct walker_state walkers[RACE_MAX_WALKERS];
	int nr_walkers;
};

struct race_params {
	int duration_s;
	int walkers;
};

/* Defaults, then environment, then argv (the options are removed). Exits 2 on bad values. */
void race_parse_args(int *argc, char **argv);
extern struct race_params race_params;

struct race_shared *race_shared_alloc(void);
void race_shared_free(struct race_shared *rs);

const char *walk_kind_name(enum walk_kind kind);

/* Fork a walker of kind reading /proc/target/...; -errno. */
int race_walker_start(struct race_shared *rs, pid_t target, enum walk_kind kind);

/* Send SIGKILL to pid and reap it within timeout_ms: 0, or -ETIMEDOUT when
 * the process is stuck where no signal reaches it. */
int race_kill_reap(pid_t pid, int timeout_ms);

/*
 * Read /proc/pid/file to the end in a child, bounded by timeout_ms:
 * 0, -ETIMEDOUT (the read hangs; the child is left behind), or -errno.
 */
int race_probe_read(pid_t pid, const char *file, int timeout_ms);

/*
 * Watch a race for duration_ns (or until the first failure): the kernel log
 * (Oops, BUG, WARNING, lockups, stalls), walkers that die or whose read does
 * not return within hung_ms, and the target dying (*target is set to -1 once
 * reaped). Each failure is printed as a KTAP diagnostic. Sets rs->stop, then
 * checks that a fresh read of /proc/TARGET/numa_maps returns. Returns the
 * number of failures; *elapsed_ns is how long the race ran.
 */
struct kmsg;
int race_monitor(struct race_shared *rs, struct kmsg *k, pid_t *target, uint64_t duration_ns,
		 int hung_ms, uint64_t *elapsed_ns);

/* Completed walks of one kind, over all walkers. */
uint64_t race_walks(struct race_shared *rs, enum walk_kind kind);
/* "numa_maps=N smaps=N smaps_rollup=N pagemap=N" */
void race_walks_summary(struct race_shared *rs, char *buf, int len);

/* Minor faults of a process so far (/proc/pid/stat), or -1. */
long race_minflt(pid_t pid);

/* The wait channel of a stuck process, for the report. */
void race_wchan(pid_t pid, char *buf, int len);

#endif
