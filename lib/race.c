// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fault.h"
#include "kmsg.h"
#include "race.h"
#include "util.h"

struct race_params race_params = {
	.duration_s = 20,	/* the known-bad kernels fail within 9 s (README) */
	.walkers = WALK_NR_KINDS,	/* one of each kind */
};

static int parse_positive(const char *val, const char *what, int max)
{
	char *end;
	long v = strtol(val, &end, 10);

	if (!*val || *end || v <= 0 || v > max) {
		fprintf(stderr, "invalid %s '%s': expected a whole number from 1 to %d\n", what, val, max);
		exit(2);
	}
	return v;
}

void race_parse_args(int *argc, char **argv)
{
	const char *env;
	int i, out = 1;

	env = getenv("PFNMAP_RACE_DURATION");
	if (env && *env)
		race_params.duration_s = parse_positive(env, "PFNMAP_RACE_DURATION", 3600);
	env = getenv("PFNMAP_RACE_WALKERS");
	if (env && *env)
		race_params.walkers = parse_positive(env, "PFNMAP_RACE_WALKERS", RACE_MAX_WALKERS);
	for (i = 1; i < *argc; i++) {
		if (!strncmp(argv[i], "--duration=", 11))
			race_params.duration_s = parse_positive(argv[i] + 11, "--duration", 3600);
		else if (!strncmp(argv[i], "--walkers=", 10))
			race_params.walkers = parse_positive(argv[i] + 10, "--walkers", RACE_MAX_WALKERS);
		else
			argv[out++] = argv[i];
	}
	argv[out] = NULL;
	*argc = out;
}

struct race_shared *race_shared_alloc(void)
{
	struct race_shared *rs = mmap(NULL, sizeof(*rs), PROT_READ | PROT_WRITE,
				      MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return rs == MAP_FAILED ? NULL : rs;
}

void race_shared_free(struct race_shared *rs)
{
	munmap(rs, sizeof(*rs));
}

const char *walk_kind_name(enum walk_kind kind)
{
	static const char *const names[] = {
		[WALK_NUMA_MAPS] = "numa_maps",
		[WALK_SMAPS] = "smaps",
		[WALK_SMAPS_ROLLUP] = "smaps_rollup",
		[WALK_PAGEMAP] = "pagemap",
	};

	return kind < WALK_NR_KINDS ? names[kind] : "?";
}

static int read_all(int fd)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	return n < 0 ? -errno : 0;
}

/*
 * Read fd to the end, looking for needle: 1 found, 0 not, -errno. The last
 * bytes of each chunk are kept, so a needle split across reads is found.
 */
static int read_find(int fd, const char *needle)
{
	size_t keep = strlen(needle), have = 0;
	char buf[65536 + 64];
	int found = 0;
	ssize_t n;

	while ((n = read(fd, buf + have, sizeof(buf) - have - 1)) > 0) {
		have += n;
		buf[have] = '\0';
		found = found || strstr(buf, needle);
		if (have > keep) {
			memmove(buf, buf + have - keep, keep);
			have = keep;
		}
	}
	return n < 0 ? -errno : found;
}

/*
 * pagemap walks only the range whose entries are read: read those of the
 * region under test, then scan it with PAGEMAP_SCAN where the kernel has it.
 */
static int walk_pagemap(int fd, uint64_t start, uint64_t end)
{
	static uint64_t ents[8192];
	uint64_t off;
	ssize_t n;

	for (off = start / 4096 * 8; off < end / 4096 * 8; off += sizeof(ents)) {
		n = pread(fd, ents, sizeof(ents), off);
		if (n <= 0)
			return n < 0 ? -errno : 0;
	}
#ifdef PAGEMAP_SCAN
	{
		struct page_region regions[64];
		struct pm_scan_arg arg = {
			.size = sizeof(arg),
			.start = start,
			.end = end,
			.vec = (uintptr_t)regions,
			.vec_len = ARRAY_LEN(regions),
			.category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_PFNZERO | PAGE_IS_HUGE,
			.return_mask = PAGE_IS_PRESENT | PAGE_IS_HUGE,
		};

		/* ENOTTY: a kernel without PAGEMAP_SCAN, the read() walk stands alone. */
		if (ioctl(fd, PAGEMAP_SCAN, &arg) < 0 && errno != ENOTTY)
			return -errno;
	}
#endif
	return 0;
}

static void walker_loop(struct race_shared *rs, struct walker_state *w, pid_t target)
{
	char path[64], needle[24];

	snprintf(path, sizeof(path), "/proc/%d/%s", target, walk_kind_name(w->kind));
	/* An injected hang: a FIFO nobody writes blocks the open for good. */
	if (w->kind == WALK_NUMA_MAPS && fault_injected("proc-read-hang")) {
		snprintf(path, sizeof(path), "/tmp/pfnmap-hang.%d", getpid());
		mkfifo(path, 0600);
	}
	/*
	 * numa_maps and smaps list the region by its start address: a walk
	 * that does not show it did not walk the mapping under test.
	 */
	while (!rs->stop) {
		int fd, ret;

		snprintf(needle, sizeof(needle), "%llx", (unsigned long long)rs->region_start);
		w->read_started_ns = now_ns();
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			ret = -errno;
		} else if (w->kind == WALK_PAGEMAP) {
			ret = walk_pagemap(fd, rs->region_start, rs->region_end);
			close(fd);
		} else if ((w->kind == WALK_NUMA_MAPS || w->kind == WALK_SMAPS) && rs->region_start) {
			ret = read_find(fd, needle);
			close(fd);
			if (ret == 0)
				w->region_missing = 1;
			ret = ret < 0 ? ret : 0;
		} else {
			ret = read_all(fd);
			close(fd);
		}
		w->read_started_ns = 0;
		if (ret) {
			w->error = -ret;
			break;
		}
		w->walks++;
	}
	_exit(0);
}

int race_walker_start(struct race_shared *rs, pid_t target, enum walk_kind kind)
{
	struct walker_state *w;
	pid_t pid;

	if (rs->nr_walkers >= RACE_MAX_WALKERS)
		return -ENOSPC;
	w = &rs->walkers[rs->nr_walkers];
	w->kind = kind;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* Do not outlive the test if it is killed. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		walker_loop(rs, w, target);
	}
	w->pid = pid;
	rs->nr_walkers++;
	return 0;
}

int race_kill_reap(pid_t pid, int timeout_ms)
{
	uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000;
	int status;

	if (pid <= 0)
		return 0;
	kill(pid, SIGKILL);
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid || (r < 0 && errno == ECHILD))
			return 0;
		if (now_ns() > deadline)
			return -ETIMEDOUT;
		usleep(10000);
	}
}

int race_probe_read(pid_t pid, const char *file, int timeout_ms)
{
	uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000;
	int status;
	pid_t child;

	child = fork();
	if (child < 0)
		return -errno;
	if (child == 0) {
		char path[64];
		int fd;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
		fd = open(path, O_RDONLY);
		_exit(fd < 0 ? 2 : read_all(fd) ? 3 : 0);
	}
	for (;;) {
		pid_t r = waitpid(child, &status, WNOHANG);

		if (r == child)
			return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
		if (now_ns() > deadline) {
			/* Stuck on the mmap lock: not reapable, leave it. */
			kill(child, SIGKILL);
			return -ETIMEDOUT;
		}
		usleep(10000);
	}
}

long race_minflt(pid_t pid)
{
	char path[64], buf[1024], *p;
	long minflt = -1;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (sysfs_read(path, buf, sizeof(buf)))
		return -1;
	/* Fields after the command name (which may hold spaces): state is field 3, minflt 10. */
	p = strrchr(buf, ')');
	if (!p)
		return -1;
	for (i = 2; p && i < 10; i++)
		p = strchr(p + 1, ' ');
	if (p)
		minflt = strtol(p + 1, NULL, 10);
	return minflt;
}

void race_wchan(pid_t pid, char *buf, int len)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/wchan", pid);
	if (sysfs_read(path, buf, len))
		snprintf(buf, len, "?");
}

#define PROBE_READ_MS 5000

static bool walker_hung(struct walker_state *w, int hung_ms)
{
	uint64_t t = w->read_started_ns;

	return t && now_ns() - t > (uint64_t)hung_ms * 1000000;
}

int race_monitor(struct race_shared *rs, struct kmsg *k, pid_t *target, uint64_t duration_ns,
		 int hung_ms, uint64_t *elapsed_ns)
{
	uint64_t start = now_ns(), end = start + duration_ns;
	char report[4096], wchan[64];
	int i, failures = 0, status;

	while (now_ns() < end && !failures) {
		usleep(20000);
		if (kmsg_scan_bad(k, report, sizeof(report))) {
			fprintf(stderr, "# the kernel logged during the race:\n%s", report);
			failures++;
		}
		for (i = 0; i < rs->nr_walkers; i++) {
			struct walker_state *w = &rs->walkers[i];

			if (w->pid <= 0)
				continue;
			if (waitpid(w->pid, &status, WNOHANG) == w->pid) {
				if (WIFSIGNALED(status))
					fprintf(stderr, "# walker of /proc/%d/%s was killed by signal %d after %llu walks\n",
						*target, walk_kind_name(w->kind), WTERMSIG(status),
						(unsigned long long)w->walks);
				else
					fprintf(stderr, "# walker of /proc/%d/%s stopped: %s\n",
						*target, walk_kind_name(w->kind), strerror(w->error));
				w->pid = -1;
				failures++;
			} else if (w->region_missing) {
				fprintf(stderr, "# a read of /proc/%d/%s did not show the mapping under test at 0x%llx\n",
					*target, walk_kind_name(w->kind), (unsigned long long)rs->region_start);
				w->region_missing = 0;
				failures++;
			} else if (walker_hung(w, hung_ms)) {
				race_wchan(w->pid, wchan, sizeof(wchan));
				fprintf(stderr, "# a read of /proc/%d/%s has not returned for %d s (waiting in %s)\n",
					*target, walk_kind_name(w->kind), hung_ms / 1000, wchan);
				failures++;
			}
		}
		if (*target > 0 && waitpid(*target, &status, WNOHANG) == *target) {
			fprintf(stderr, "# the target died (%s %d)\n", WIFSIGNALED(status) ? "signal" : "exit",
				WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
			*target = -1;
			failures++;
		}
	}
	rs->stop = 1;
	*elapsed_ns = now_ns() - start;

	/* A walker that died in the kernel may still hold the mmap lock: look once more. */
	if (*target > 0 && race_probe_read(*target, "numa_maps", PROBE_READ_MS) == -ETIMEDOUT) {
		fprintf(stderr, "# a fresh read of /proc/%d/numa_maps did not return within %d s: its mmap lock is held\n",
			*target, PROBE_READ_MS / 1000);
		failures++;
	}
	return failures;
}

uint64_t race_walks(struct race_shared *rs, enum walk_kind kind)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < rs->nr_walkers; i++)
		if (rs->walkers[i].kind == kind)
			n += rs->walkers[i].walks;
	return n;
}

void race_walks_summary(struct race_shared *rs, char *buf, int len)
{
	snprintf(buf, len, "numa_maps=%llu smaps=%llu smaps_rollup=%llu pagemap=%llu",
		 (unsigned long long)race_walks(rs, WALK_NUMA_MAPS),
		 (unsigned long long)race_walks(rs, WALK_SMAPS),
		 (unsigned long long)race_walks(rs, WALK_SMAPS_ROLLUP),
		 (unsigned long long)race_walks(rs, WALK_PAGEMAP));
}
