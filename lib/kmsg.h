/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PFNMAP_KMSG_H
#define PFNMAP_KMSG_H

#include <stdbool.h>
#include <stddef.h>

/*
 * A cursor into the kernel log, and what it saw. __kmsg_open() starts at the
 * end of the log, so that only what a test provokes is seen, and re-arms
 * every WARN_ON_ONCE() site (debugfs clear_warn_once): a warning the kernel
 * already printed once this boot must show again in the test that hits it.
 *
 * Every record the cursor passes, by kmsg_scan_bad() or __kmsg_wait_for(),
 * is checked with kmsg_is_bad(); the bad ones are kept in report. If the
 * process exits before the test's own check (a helper's fatal error), an
 * exit handler prints what was kept and what is still unread.
 */
struct kmsg {
	int fd;
	int bad;		/* bad records seen so far */
	char report[4096];	/* their text, as KTAP diagnostic lines */
};

/*
 * 0, or -errno: without the kernel log a test cannot see a crash (the
 * fixtures' KMSG_OPEN asserts it).
 */
int __kmsg_open(struct kmsg *k);
void kmsg_close(struct kmsg *k);

/*
 * Query: read every record that arrived since the last call; how many were
 * bad, in all (a count, never an error: a cursor that cannot read has seen
 * nothing more).
 */
int kmsg_scan_bad(struct kmsg *k);

/*
 * Read records until one contains needle (copied to line), or timeout_ms
 * passed: 0 or -ETIMEDOUT. Bad records passed over on the way are kept.
 */
int __kmsg_wait_for(struct kmsg *k, const char *needle, int timeout_ms, char *line, size_t len);

/*
 * Write a line to the kernel log at KERN_ERR (the VM's console, loglevel=4,
 * shows err and worse only), for a benchmark to time a crash from a known
 * point by the console's own clock (scripts/race_bench.sh). Best effort.
 */
void kmsg_mark(const char *line);

/*
 * Query: whether msg is the kernel reporting itself broken: Oops, BUG
 * (KASAN, KFENCE, sleeping in atomic, ...), WARNING (lockdep splats among
 * them), panic, soft and hard lockups, hung tasks, RCU stalls (normal,
 * self-detected, expedited, RCU Tasks), UBSAN, list corruption,
 * refcount_t, kmemleak.
 */
bool kmsg_is_bad(const char *msg);

#endif
