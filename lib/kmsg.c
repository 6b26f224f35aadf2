// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kmsg.h"
#include "util.h"

static const char *const bad_patterns[] = {
	"Oops",
	"BUG:",
	"kernel BUG at",
	"WARNING:",
	"general protection fault",
	"soft lockup",
	"hard LOCKUP",
	"rcu_sched detected stall",
	"rcu_preempt detected stall",
	"detected stalls on CPUs",
	"blocked for more than",
	"Kernel panic",
	"Unable to handle kernel",
};

bool kmsg_is_bad(const char *msg)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(bad_patterns); i++)
		if (strstr(msg, bad_patterns[i]))
			return true;
	return false;
}

int kmsg_open(struct kmsg *k)
{
	k->fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (k->fd < 0)
		return -errno;
	if (lseek(k->fd, 0, SEEK_END) < 0) {
		int ret = -errno;

		close(k->fd);
		k->fd = -1;
		return ret;
	}
	return 0;
}

void kmsg_close(struct kmsg *k)
{
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
}

/* One record, message text only (after the "prio,seq,ts,flags;" prefix). */
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
	return 0;
}

int kmsg_scan_bad(struct kmsg *k, char *report, size_t len)
{
	char msg[1024];
	int bad = 0;

	if (k->fd < 0)
		return 0;
	if (report && len)
		report[0] = '\0';
	while (kmsg_next(k, msg, sizeof(msg)) == 0) {
		if (!kmsg_is_bad(msg))
			continue;
		bad++;
		if (report) {
			size_t used = strlen(report);

			/* KTAP diagnostic lines, so the report nests in the test's output. */
			snprintf(report + used, len - used, "#   %s\n", msg);
		}
	}
	return bad;
}

int kmsg_wait_for(struct kmsg *k, const char *needle, int timeout_ms, char *line, size_t len)
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
