/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PFNMAP_KMSG_H
#define PFNMAP_KMSG_H

#include <stdbool.h>
#include <stddef.h>

/*
 * A cursor into the kernel log. kmsg_open() starts at the end of the log so
 * that only what a test provokes is seen.
 */
struct kmsg {
	int fd;
};

int kmsg_open(struct kmsg *k);
void kmsg_close(struct kmsg *k);

/*
 * Read all records that arrived since the last call; for each one that
 * kmsg_is_bad() flags, append it to report (if not NULL). Returns how many.
 */
int kmsg_scan_bad(struct kmsg *k, char *report, size_t len);

/* Read records until one contains needle, or timeout_ms passed: 0 or -ETIMEDOUT. */
int kmsg_wait_for(struct kmsg *k, const char *needle, int timeout_ms, char *line, size_t len);

/* Oops, BUG, WARNING, soft lockup, RCU stall, hung task, panic. */
bool kmsg_is_bad(const char *msg);

#endif
