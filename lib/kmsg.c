// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kmsg.h"
#include "util.h"

/*
 * What the kernel prints when it found itself broken. The prefixes are the
 * kernel's own: "BUG:" covers KASAN, KFENCE, "scheduling while atomic",
 * "sleeping function called from invalid context", "workqueue lockup" and
 * "soft lockup" (watchdog); "WARNING:" covers WARN(), lockdep's splats and
 * "suspicious RCU usage". lib/check/kmsg_selftest.c proves each one red.
 */
static const char *const bad_patterns[] = {
	"Oops",
	"BUG:",
	"kernel BUG at",
	"WARNING:",
	"general protection fault",
	"Kernel panic",
	"Unable to handle kernel",
	"soft lockup",
	"hard LOCKUP",
	"blocked for more than",			/* hung task */
	"detected stalls on CPUs",			/* RCU */
	"self-detected stall on CPU",
	"detected expedited stalls",
	"detected stalls on tasks",			/* RCU Tasks */
	"rcu_tasks grace period",			/* "... is N jiffies old" */
	"UBSAN:",
	"KASAN:",
	"KFENCE:",
	"list_add corruption",
	"list_del corruption",
	"refcount_t:",
	"DEBUG_LOCKS_WARN_ON",
	"possible circular locking dependency",
	"inconsistent lock state",
	"suspected memory leak",			/* kmemleak */
};

bool kmsg_is_bad(const char *msg)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(bad_patterns); i++)
		if (strstr(msg, bad_patterns[i]))
			return true;
	return false;
}

/* The cursor a helper's exit() must not leave unchecked. */
static struct kmsg *kmsg_open_cursor;

static void kmsg_at_exit(void)
{
	struct kmsg *k = kmsg_open_cursor;

	if (!k || k->fd < 0)
		return;
	if (kmsg_scan_bad(k))
		fprintf(stderr, "# the kernel logged %d bad line(s) during the test:\n%s", k->bad, k->report);
}

int __kmsg_open(struct kmsg *k)
{
	static bool registered;

	k->bad = 0;
	k->report[0] = '\0';
	k->fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (k->fd < 0)
		return -errno;
	if (lseek(k->fd, 0, SEEK_END) < 0) {
		int ret = -errno;

		close(k->fd);
		k->fd = -1;
		return ret;
	}
	/*
	 * Where debugfs is mounted: a WARN_ON_ONCE() hit by an earlier test
	 * (or at boot) would otherwise be silent in this one.
	 */
	__sysfs_write("/sys/kernel/debug/clear_warn_once", "1");
	kmsg_open_cursor = k;
	if (!registered)
		registered = !atexit(kmsg_at_exit);
	return 0;
}

void kmsg_close(struct kmsg *k)
{
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
	if (kmsg_open_cursor == k)
		kmsg_open_cursor = NULL;
}

/* Keep a record if it is bad, as a KTAP diagnostic line. */
static void kmsg_judge(struct kmsg *k, const char *msg)
{
	size_t used = strlen(k->report);

	if (!kmsg_is_bad(msg))
		return;
	k->bad++;
	if (used < sizeof(k->report) - 1)
		snprintf(k->report + used, sizeof(k->report) - used, "#   %s\n", msg);
}

/* One record, message text only (after the "prio,seq,ts,flags;" prefix); -EAGAIN when none. */
static int kmsg_next(struct kmsg *k, char *msg, size_t len)
{
	char rec[8192];
	ssize_t n;
	char *text;

	for (;;) {
		n = read(k->fd, rec, sizeof(rec) - 1);
		if (n >= 0)
			break;
		if (errno == EPIPE)	/* overwritten records: skip ahead */
			continue;
		return -errno;
	}
	rec[n] = '\0';
	text = strchr(rec, ';');
	text = text ? text + 1 : rec;
	text[strcspn(text, "\n")] = '\0';	/* drop continuation lines */
	snprintf(msg, len, "%.*s", (int)(len - 1), text);
	kmsg_judge(k, msg);
	return 0;
}

int kmsg_scan_bad(struct kmsg *k)
{
	char msg[1024];

	if (k->fd >= 0)
		while (kmsg_next(k, msg, sizeof(msg)) == 0)
			;
	return k->bad;
}

void kmsg_mark(const char *line)
{
	char buf[256];
	int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC), n;

	if (fd < 0)
		return;
	n = snprintf(buf, sizeof(buf), "<3>%s\n", line);
	if (write(fd, buf, n) != n)
		fprintf(stderr, "# cannot write to /dev/kmsg: %s\n", strerror(errno));
	close(fd);
}

int __kmsg_wait_for(struct kmsg *k, const char *needle, int timeout_ms, char *line, size_t len)
{
	uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000;
	char msg[1024];

	for (;;) {
		struct pollfd pfd = { .fd = k->fd, .events = POLLIN };
		int64_t left;

		while (kmsg_next(k, msg, sizeof(msg)) == 0) {
			if (strstr(msg, needle)) {
				if (line)
					snprintf(line, len, "%s", msg);
				return 0;
			}
		}
		left = (int64_t)(deadline - now_ns()) / 1000000;
		if (left <= 0)
			return -ETIMEDOUT;
		poll(&pfd, 1, (int)left);
	}
}
