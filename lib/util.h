/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PFNMAP_UTIL_H
#define PFNMAP_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "why.h"

#define SZ_4K	0x1000UL
#define SZ_2M	0x200000UL
#define SZ_1G	0x40000000UL

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((uint64_t)(a) - 1))

/* Exit code for a broken environment in a helper that cannot SKIP itself. */
#define PFNMAP_EXIT_FAIL 1

/*
 * One rule for every function of the library, the mainline vfio selftests'
 * (tools/testing/selftests/vfio/lib):
 *
 *   __foo()  may fail, and says so to its caller: it returns 0 (or a result
 *            that cannot be negative: an fd, a count, an index) or -errno,
 *            and a reason in a struct why (why.h) where a SKIP or a failure
 *            message needs more than the errno. It never asserts and never
 *            exits, so setups, cleanups, children and atexit handlers can
 *            call it, and a test can expect a failure of it.
 *   foo()    the same when failing is the test's failure: it asserts
 *            (PFNMAP_ASSERT, below), and the message prints what was
 *            observed (the device, the address, the size, the errno), not
 *            just the expression that failed. Where nobody needs this form
 *            there is only __foo().
 *
 * Neither of these: queries, whose answer is a value, with a sentinel for
 * "unknown" that is not an errno (an index or -1, a pointer or NULL, an
 * enum's UNKNOWN, a bool, a count), void functions that cannot fail or are
 * best effort (closes, frees, undoes), and the command-line parsers, which
 * run before the harness and exit with a usage error. Each header says
 * which kind a function of it is where the name does not. Two exceptions,
 * each explained where it is declared: fdinfo_size() (dmabuf.h), a value
 * that may be -errno, and __vfio_pci_bar_map() (vfio_pci.h), which keeps
 * mmap()'s MAP_FAILED and errno.
 *
 * The asserts exit the test process, which the harness reports as a
 * failure of the running test.
 */
#define PFNMAP_ASSERT(cond, fmt, ...) do {					\
	if (!(cond)) {								\
		fprintf(stderr, "%s:%u: %s: assertion '%s' failed: " fmt "\n",	\
			__FILE__, __LINE__, __func__, #cond, ##__VA_ARGS__);	\
		exit(PFNMAP_EXIT_FAIL);						\
	}									\
} while (0)

/* Read a sysfs attribute into buf (trailing newline dropped); -errno. */
int __sysfs_read(const char *path, char *buf, size_t len);
/* Write a string to a sysfs attribute; -errno. */
int __sysfs_write(const char *path, const char *val);
/* Query: a sysfs or procfs number, or -1 when it cannot be read. */
long sysfs_read_long(const char *path);
/* The first entry of a directory (not . or ..) into buf; -errno, -ENOENT when empty. */
int __sysfs_first_entry(const char *dir, char *buf, size_t len);
/* Query: monotonic time in nanoseconds. */
uint64_t now_ns(void);

#endif
