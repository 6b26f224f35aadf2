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

#define SZ_4K	0x1000UL
#define SZ_2M	0x200000UL
#define SZ_1G	0x40000000UL

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((uint64_t)(a) - 1))

/* Exit code for a broken environment in a helper that cannot SKIP itself. */
#define PFNMAP_EXIT_FAIL 1

/*
 * Helpers called from tests assert the way the mainline vfio selftests do:
 * print where and why, then exit the test process, which the harness reports
 * as a failure of the running test.
 */
#define PFNMAP_ASSERT(cond, fmt, ...) do {					\
	if (!(cond)) {								\
		fprintf(stderr, "%s:%u: %s: assertion '%s' failed: " fmt "\n",	\
			__FILE__, __LINE__, __func__, #cond, ##__VA_ARGS__);	\
		exit(PFNMAP_EXIT_FAIL);						\
	}									\
} while (0)

#define PFNMAP_ASSERT_OK(expr) do {						\
	int __rc = (expr);							\
	PFNMAP_ASSERT(__rc == 0, "%s returned %d (%s)", #expr, __rc,		\
		      __rc < 0 ? strerror(-__rc) : "");				\
} while (0)

/* Read a sysfs attribute into buf (trailing newline dropped); -errno. */
int sysfs_read(const char *path, char *buf, size_t len);
/* Write a string to a sysfs attribute; -errno. */
int sysfs_write(const char *path, const char *val);
/* A sysfs or procfs number: the value, or -1 when it cannot be read. */
long sysfs_read_long(const char *path);
/* The first entry of a directory (not . or ..) into buf; -errno, -ENOENT when empty. */
int sysfs_first_entry(const char *dir, char *buf, size_t len);
/* Monotonic time in nanoseconds. */
uint64_t now_ns(void);

#endif
