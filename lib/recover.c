// SPDX-License-Identifier: GPL-2.0
/*
 * Undoing what dead processes left in the record (state.h): above both the
 * journal (state.c), which knows nothing of PCI, and the binding code
 * (pci_bind.c), which knows how its own lines are undone. The one
 * implementation: the programs run it when they exit, and the runner
 * (run_tests.sh, POSIX sh) through vfio/pfnmap_state.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pci_bind.h"
#include "recover.h"
#include "state.h"
#include "util.h"

/* Unload a module the runner loaded; one already gone needs nothing. */
static int undo_rmmod(const char *line, struct why *why)
{
	char name[64], path[128];

	if (sscanf(line, "rmmod %63s", name) != 1) {
		why_set(why, "not an rmmod record: '%s'", line);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "/sys/module/%s", name);
	if (access(path, F_OK))
		return 0;
	/* O_NONBLOCK: a module in use says EWOULDBLOCK at once, never waits. */
	if (syscall(SYS_delete_module, name, O_NONBLOCK)) {
		int ret = -errno;

		why_set(why, "rmmod %s: %s", name, strerror(-ret));
		return ret;
	}
	return 0;
}

int __recover_undo_line(const char *line, struct why *why)
{
	why_clear(why);
	if (!strncmp(line, "rebind ", 7))
		return __pci_undo_rebind(line, why);
	if (!strncmp(line, "write ", 6))
		return __state_undo_write_line(line, why);
	if (!strncmp(line, "rmmod ", 6))
		return undo_rmmod(line, why);
	why_set(why, "unknown record '%s'", line);
	return -EINVAL;
}

static void say(const struct recover_opts *o, const char *fmt, ...)
{
	va_list ap;

	fputs(o->prefix, o->out);
	va_start(ap, fmt);
	vfprintf(o->out, fmt, ap);
	va_end(ap);
	fputc('\n', o->out);
	fflush(o->out);
}

/*
 * Undo a record file, newest change first, and again while a pass makes
 * progress (a module in use by one unloaded later in the pass); keep what
 * could not be undone. who: "pid N", "this run". Returns how many stay.
 */
int recover_file(const char *path, const char *who, const struct recover_opts *o)
{
	char boot[64], want_boot[64];
	char (*lines)[STATE_LINE];
	struct why *why;
	int n = 0, i, kept, pass_kept;
	bool *done, progress;
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return 0;
	lines = calloc(STATE_MAX + 1, STATE_LINE);
	why = calloc(STATE_MAX + 1, sizeof(*why));
	done = calloc(STATE_MAX + 1, sizeof(*done));
	if (!lines || !why || !done) {
		fclose(f);
		free(lines);
		free(why);
		free(done);
		return 1;
	}
	while (n <= STATE_MAX && fgets(lines[n], STATE_LINE, f)) {
		lines[n][strcspn(lines[n], "\n")] = '\0';
		n++;
	}
	fclose(f);
	state_boot_id(want_boot, sizeof(want_boot));
	if (n < 1 || sscanf(lines[0], "boot %63s", boot) != 1 || strcmp(boot, want_boot)) {
		say(o, "dropping %s: written during another boot, its changes went with it", path);
		unlink(path);
		kept = 0;
		goto out;
	}
	do {
		progress = false;
		pass_kept = 0;
		for (i = n - 1; i > 0; i--) {
			if (done[i])
				continue;
			if (__recover_undo_line(lines[i], &why[i])) {
				pass_kept++;
				continue;
			}
			say(o, "undid what %s left: %s", who, lines[i]);
			done[i] = progress = true;
		}
	} while (progress && pass_kept);
	kept = 0;
	for (i = n - 1; i > 0; i--) {
		if (done[i])
			continue;
		kept++;
		say(o, "could not undo '%s' (left by %s): %s", lines[i], who, why[i].msg);
	}
	if (!kept) {
		unlink(path);
	} else {
		char tmp[PATH_MAX + 8];

		snprintf(tmp, sizeof(tmp), "%s.tmp", path);
		f = fopen(tmp, "w");
		if (f) {
			for (i = 0; i < n; i++)
				if (!done[i])
					fprintf(f, "%s\n", lines[i]);
			if (!fclose(f))
				rename(tmp, path);
		}
	}
out:
	free(lines);
	free(why);
	free(done);
	return kept;
}

struct leftover {
	char name[NAME_MAX + 1];
	pid_t pid;
	unsigned long long start;
};

static int leftover_newest_first(const void *a, const void *b)
{
	const struct leftover *x = a, *y = b;

	return x->start < y->start ? 1 : x->start > y->start ? -1 : 0;
}

/* Count the changes in a live owner's file (its lines but the first). */
static int record_lines(const char *path)
{
	char line[STATE_LINE];
	int n = -1;
	FILE *f = fopen(path, "r");

	while (f && fgets(line, sizeof(line), f))
		n++;
	if (f)
		fclose(f);
	return n > 0 ? n : 0;
}

int recover_leftovers(pid_t self, const struct recover_opts *o)
{
	struct leftover *files = NULL;
	int n = 0, cap = 0, i, left = 0, lock;
	char path[PATH_MAX], who[32];
	struct dirent *de;
	DIR *dir;

	dir = opendir(state_dir());
	if (!dir)
		return 0;
	/*
	 * One recovery at a time (a program exiting while the runner cleans
	 * up): two would undo the same line twice and rewrite the same file.
	 */
	lock = dirfd(dir);
	while (flock(lock, LOCK_EX) && errno == EINTR)
		;
	while ((de = readdir(dir))) {
		unsigned long long start;
		int pid, end = 0;

		if (sscanf(de->d_name, "%d-%llu%n", &pid, &start, &end) != 2 || de->d_name[end])
			continue;
		if (pid == self)
			continue;
		snprintf(path, sizeof(path), "%s/%s", state_dir(), de->d_name);
		if (start && state_proc_starttime(pid) == start) {
			/* Its owner still runs: its changes are its own to undo. */
			if (o->report_live) {
				say(o, "pid %d is still running: its changes stay (%s)", pid, path);
				left += record_lines(path);
			}
			continue;
		}
		if (n == cap) {
			struct leftover *more = realloc(files, (cap = cap ? 2 * cap : 8) * sizeof(*files));

			if (!more)
				break;
			files = more;
		}
		snprintf(files[n].name, sizeof(files[n].name), "%s", de->d_name);
		files[n].pid = pid;
		files[n++].start = start;
	}
	qsort(files, n, sizeof(*files), leftover_newest_first);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", state_dir(), files[i].name);
		snprintf(who, sizeof(who), "pid %d", files[i].pid);
		left += recover_file(path, who, o);
	}
	free(files);
	closedir(dir);	/* and the lock with it */
	return left;
}

int state_recover(void)
{
	const struct recover_opts o = { .out = stderr, .prefix = "pfnmap: " };

	return recover_leftovers(getpid(), &o);
}

static pid_t recover_pid;

static void recover_at_exit(void)
{
	if (getpid() == recover_pid)
		state_recover();
}

void state_recover_at_exit(void)
{
	if (!recover_pid) {
		recover_pid = getpid();
		atexit(recover_at_exit);
	}
}
