// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fault.h"
#include "kmsg.h"
#include "race.h"
#include "util.h"

/*
 * Four walkers, two of them of numa_maps (the reader of the original
 * report): numa_maps, smaps, numa_maps, smaps_rollup.
 */
struct race_params race_params = {
	.duration_s = 20,	/* README, "Detection": the known-bad kernels fail within a few s */
	.walkers = 4,
	.nr_kinds = 4,
	.kinds = { WALK_NUMA_MAPS, WALK_SMAPS, WALK_NUMA_MAPS, WALK_SMAPS_ROLLUP },
};

static const char *const kind_names[] = {
	[WALK_NUMA_MAPS] = "numa_maps",
	[WALK_SMAPS] = "smaps",
	[WALK_SMAPS_ROLLUP] = "smaps_rollup",
};

static void usage_error(const char *fmt, const char *what, const char *val)
{
	fprintf(stderr, fmt, what, val);
	fputc('\n', stderr);
	exit(PFNMAP_EXIT_FAIL);
}

static int parse_positive(const char *val, const char *what, int max)
{
	char *end;
	long v = strtol(val, &end, 10);

	if (!*val || *end || v <= 0 || v > max) {
		fprintf(stderr, "invalid %s '%s': expected a whole number from 1 to %d\n", what, val, max);
		exit(PFNMAP_EXIT_FAIL);
	}
	return v;
}

static void parse_kinds(const char *val, const char *what)
{
	char buf[256], *tok, *save;
	int k;

	snprintf(buf, sizeof(buf), "%s", val);
	race_params.nr_kinds = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (k = 0; k < WALK_NR_KINDS && strcmp(tok, kind_names[k]); k++)
			;
		if (k == WALK_NR_KINDS || race_params.nr_kinds == RACE_MAX_WALKERS)
			usage_error("invalid %s '%s': expected numa_maps, smaps or smaps_rollup, comma-separated",
				    what, val);
		race_params.kinds[race_params.nr_kinds++] = k;
	}
	if (!race_params.nr_kinds)
		usage_error("invalid %s '%s': expected numa_maps, smaps or smaps_rollup, comma-separated",
			    what, val);
}

void race_parse_args(int *argc, char **argv)
{
	const char *env;
	int i, out = 1;

	env = getenv("PFNMAP_RACE_DURATION");
	if (env && *env)
		race_params.duration_s = parse_positive(env, "PFNMAP_RACE_DURATION", RACE_MAX_DURATION_S);
	env = getenv("PFNMAP_RACE_WALKERS");
	if (env && *env)
		race_params.walkers = parse_positive(env, "PFNMAP_RACE_WALKERS", RACE_MAX_WALKERS);
	env = getenv("PFNMAP_RACE_WALK");
	if (env && *env)
		parse_kinds(env, "PFNMAP_RACE_WALK");
	for (i = 1; i < *argc; i++) {
		if (!strncmp(argv[i], "--duration=", 11))
			race_params.duration_s = parse_positive(argv[i] + 11, "--duration", RACE_MAX_DURATION_S);
		else if (!strncmp(argv[i], "--walkers=", 10))
			race_params.walkers = parse_positive(argv[i] + 10, "--walkers", RACE_MAX_WALKERS);
		else if (!strncmp(argv[i], "--walk=", 7))
			parse_kinds(argv[i] + 7, "--walk");
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
	return kind < WALK_NR_KINDS ? kind_names[kind] : "?";
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
 * smaps_rollup: "START-END ---p 00000000 00:00 0   [rollup]" first, START
 * the first mapping's, END the last's: 1 when addr lies in it, 0 when not,
 * -errno. The rest is read too: the walk happens in the read.
 */
static int read_rollup_span(int fd, uint64_t addr)
{
	unsigned long long lo = 0, hi = 0;
	char buf[4096];
	ssize_t n;
	int found;

	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	found = sscanf(buf, "%llx-%llx", &lo, &hi) == 2 && addr >= lo && addr < hi;
	n = read_all(fd);
	return n < 0 ? n : found;
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
	 * A walk that does not show the region did not walk the mapping under
	 * test: numa_maps and smaps list it by its start address, smaps_rollup's
	 * first line spans from the first mapping to the last, so the start
	 * address lies between its two.
	 */
	while (!rs->stop) {
		int fd, ret;

		snprintf(needle, sizeof(needle), "%llx", (unsigned long long)rs->region_start);
		w->read_started_ns = now_ns();
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			ret = -errno;
		} else if (w->kind == WALK_SMAPS_ROLLUP) {
			ret = read_rollup_span(fd, rs->region_start);
			close(fd);
		} else {
			ret = read_find(fd, needle);
			close(fd);
		}
		w->read_started_ns = 0;
		if (ret == 0)
			w->region_missing = 1;
		if (ret < 0) {
			w->error = -ret;
			break;
		}
		w->walks++;
	}
	_exit(0);
}

int __race_walker_start(struct race_shared *rs, pid_t target, int i)
{
	struct walker_state *w;
	pid_t pid;

	if (rs->nr_walkers >= RACE_MAX_WALKERS)
		return -ENOSPC;
	w = &rs->walkers[rs->nr_walkers];
	w->kind = race_params.kinds[i % race_params.nr_kinds];
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

/*
 * SIGKILL to each pid > 0 of pids, then reap them all until the one
 * deadline: how many are left (each reaped one is set to 0 in pids).
 */
static int kill_reap_pids(pid_t *pids, int n, int timeout_ms)
{
	uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000;
	int i, left, status;

	for (i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGKILL);
	for (;;) {
		left = 0;
		for (i = 0; i < n; i++) {
			pid_t r;

			if (pids[i] <= 0)
				continue;
			r = waitpid(pids[i], &status, WNOHANG);
			if (r == pids[i] || (r < 0 && errno == ECHILD))
				pids[i] = 0;
			else
				left++;
		}
		if (!left || now_ns() > deadline)
			return left;
		usleep(10000);
	}
}

int __race_kill_reap(pid_t pid, int timeout_ms)
{
	return kill_reap_pids(&pid, 1, timeout_ms) ? -ETIMEDOUT : 0;
}

int __race_kill_reap_all(struct race_shared *rs, pid_t target, int timeout_ms)
{
	pid_t pids[RACE_MAX_WALKERS + 1];
	int i, n = 0;

	if (rs) {
		rs->stop = 1;
		for (i = 0; i < rs->nr_walkers; i++)
			pids[n++] = rs->walkers[i].pid;
	}
	pids[n++] = target;
	return kill_reap_pids(pids, n, timeout_ms);
}

/*
 * Read /proc/pid/file to the end in a child, bounded by timeout_ms:
 * 0, -ETIMEDOUT (the read hangs; the child is left behind), or -errno.
 */
static int race_probe_read(pid_t pid, const char *file, int timeout_ms)
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

uint64_t race_thread_minflt(void)
{
	struct rusage ru = {};

	getrusage(RUSAGE_THREAD, &ru);
	return ru.ru_minflt;
}

void race_wchan(pid_t pid, char *buf, int len)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/wchan", pid);
	if (__sysfs_read(path, buf, len))
		snprintf(buf, len, "?");
	else if (!strcmp(buf, "0"))	/* not sleeping: spinning in the kernel */
		snprintf(buf, len, "none: running");
}

/* A fresh read after the race, stretched on a slow machine (slow.h). */
#define PROBE_READ_MS (5000 * slow_factor())

struct race_op *race_op_hung(struct race_shared *rs, int ms)
{
	uint64_t now = now_ns();
	int i;

	for (i = 0; i < RACE_MAX_OPS; i++) {
		uint64_t t = rs->ops[i].started_ns;

		if (t && now > t && now - t > (uint64_t)ms * 1000000)
			return &rs->ops[i];
	}
	return NULL;
}

static bool walker_hung(struct walker_state *w, int hung_ms)
{
	uint64_t t = w->read_started_ns;

	return t && now_ns() - t > (uint64_t)hung_ms * 1000000;
}

/*
 * One look at walker w: 1 when it failed (printed), else 0. During the race
 * any exit of a walker is a failure; once stopping, walkers exit on their
 * own, and only one killed in its last read (the kernel's doing) or a read
 * still in the kernel past the bound counts.
 */
static int walker_check(struct race_shared *rs, struct walker_state *w, pid_t tpid, int hung_ms,
			bool stopping)
{
	char wchan[64];
	int status;

	if (waitpid(w->pid, &status, WNOHANG) == w->pid) {
		w->pid = -1;
		if (WIFSIGNALED(status)) {
			fprintf(stderr, "# walker of /proc/%d/%s was killed by signal %d after %llu walks\n",
				tpid, walk_kind_name(w->kind), WTERMSIG(status), (unsigned long long)w->walks);
			return 1;
		}
		if (stopping)
			return 0;
		fprintf(stderr, "# walker of /proc/%d/%s stopped: %s\n",
			tpid, walk_kind_name(w->kind), strerror(w->error));
		return 1;
	}
	if (!stopping && w->region_missing) {
		fprintf(stderr, "# a read of /proc/%d/%s did not show the mapping under test at 0x%llx\n",
			tpid, walk_kind_name(w->kind), (unsigned long long)rs->region_start);
		w->region_missing = 0;
		return 1;
	}
	if (walker_hung(w, hung_ms)) {
		race_wchan(w->pid, wchan, sizeof(wchan));
		fprintf(stderr, "# a read of /proc/%d/%s has not returned for %d s (waiting in %s)\n",
			tpid, walk_kind_name(w->kind), hung_ms / 1000, wchan);
		return 1;
	}
	return 0;
}

/* A target call (rs->ops) in the kernel past the bound: 1 (printed), else 0. */
static int op_check(struct race_shared *rs, int hung_ms)
{
	struct race_op *op = race_op_hung(rs, hung_ms);

	if (!op)
		return 0;
	fprintf(stderr, "# %s in the target has not returned for %d s\n", op->what, hung_ms / 1000);
	return 1;
}

int race_monitor(struct race_shared *rs, struct kmsg *k, pid_t *target, uint64_t duration_ns,
		 int hung_ms, uint64_t *elapsed_ns)
{
	uint64_t start = now_ns(), end = start + duration_ns;
	pid_t tpid = *target;	/* the target may exit once stopping; the messages name it */
	int i, failures = 0, status;
	bool busy;

	/* Only for the detection benchmark: its crash times start here. */
	if (getenv("PFNMAP_RACE_MARK"))
		kmsg_mark("pfnmap race: starts");

	while (now_ns() < end && !failures && !rs->target_failed) {
		usleep(20000);
		if (kmsg_scan_bad(k)) {
			fprintf(stderr, "# the kernel logged during the race:\n%s", k->report);
			failures++;
		}
		for (i = 0; i < rs->nr_walkers; i++)
			if (rs->walkers[i].pid > 0)
				failures += walker_check(rs, &rs->walkers[i], tpid, hung_ms, false);
		failures += op_check(rs, hung_ms);
		if (*target > 0 && waitpid(*target, &status, WNOHANG) == *target) {
			fprintf(stderr, "# the target died (%s %d)\n", WIFSIGNALED(status) ? "signal" : "exit",
				WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
			*target = -1;
			failures++;
		}
	}
	rs->stop = 1;
	*elapsed_ns = now_ns() - start;

	/*
	 * A read or call still in the kernel when the time is up is waited for,
	 * up to the hung bound from its start: a walk that hangs late in the
	 * race (or from the start of a short one) is reported as the hang it
	 * is, not by the fresh read below.
	 */
	for (busy = !failures && !rs->target_failed; busy && !failures; ) {
		busy = false;
		for (i = 0; i < rs->nr_walkers; i++) {
			struct walker_state *w = &rs->walkers[i];

			if (w->pid <= 0 || !w->read_started_ns)
				continue;
			failures += walker_check(rs, w, tpid, hung_ms, true);
			busy |= w->pid > 0;
		}
		/* A target may exit once told to stop; a signal is the kernel's doing. */
		if (*target > 0 && waitpid(*target, &status, WNOHANG) == *target) {
			if (WIFSIGNALED(status)) {
				fprintf(stderr, "# the target died (signal %d)\n", WTERMSIG(status));
				failures++;
			}
			*target = -1;
		}
		/* The target's calls, while it lives to finish them. */
		if (*target > 0) {
			failures += op_check(rs, hung_ms);
			for (i = 0; i < RACE_MAX_OPS; i++)
				busy |= rs->ops[i].started_ns != 0;
		}
		if (busy && !failures)
			usleep(20000);
	}
	/* A failure found here is timed when it was found, as in the race. */
	if (failures)
		*elapsed_ns = now_ns() - start;

	/* A walker that died in the kernel may still hold the mmap lock: look once more. */
	if (*target > 0 && race_probe_read(*target, "numa_maps", PROBE_READ_MS) == -ETIMEDOUT) {
		fprintf(stderr, "# a fresh read of /proc/%d/numa_maps did not return within %d s: its mmap lock is held\n",
			*target, PROBE_READ_MS / 1000);
		failures++;
	}
	return failures;
}

uint64_t race_duration_ns(bool window)
{
	uint64_t d = (uint64_t)race_params.duration_s * 1000000000ULL, q = d / 4;

	if (window)
		return d;
	if (q < RACE_CONTROL_MIN_NS)
		q = RACE_CONTROL_MIN_NS;
	return q < d ? q : d;
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
	int k, used = 0;

	buf[0] = '\0';
	for (k = 0; k < WALK_NR_KINDS; k++) {
		bool ran = false;
		int i;

		for (i = 0; i < rs->nr_walkers; i++)
			ran |= rs->walkers[i].kind == (enum walk_kind)k;
		if (ran && used < len)
			used += snprintf(buf + used, len - used, "%s%s=%llu", used ? " " : "",
					 kind_names[k], (unsigned long long)race_walks(rs, k));
	}
}
