// SPDX-License-Identifier: GPL-2.0
/*
 * The on-disk record of the changes the suite makes to the system (format in
 * state.h). The runner's POSIX sh cleanup reads the same files.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pci_bind.h"
#include "state.h"
#include "util.h"

#define STATE_LINE	512
#define STATE_MAX	64

static struct {
	pthread_mutex_t lock;
	pid_t owner;		/* the records belong to this pid; a fork starts afresh */
	char path[PATH_MAX];
	unsigned int next_id;
	int n;
	struct { unsigned int id; char line[STATE_LINE]; } rec[STATE_MAX];
} st = { .lock = PTHREAD_MUTEX_INITIALIZER };

const char *state_dir(void)
{
	const char *dir = getenv("PFNMAP_STATE_DIR");

	return dir && *dir ? dir : "/run/pfnmap/state";
}

/* Start time (clock ticks since boot) of pid, 0 when it is gone or a zombie. */
static unsigned long long proc_starttime(pid_t pid)
{
	char path[64], buf[1024], *p, state;
	unsigned long long start;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (sysfs_read(path, buf, sizeof(buf)))
		return 0;
	/* comm may hold spaces and parentheses: the fields resume after the last ')'. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %c", &state) != 1 || state == 'Z' || state == 'X')
		return 0;
	for (i = 0, p++; i < 20 && p; i++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p, " %llu", &start) != 1)
		return 0;
	return start;
}

static void boot_id(char *buf, size_t len)
{
	if (sysfs_read("/proc/sys/kernel/random/boot_id", buf, len))
		snprintf(buf, len, "unknown");
}

static int mkdir_p(const char *dir)
{
	char tmp[PATH_MAX], *p;

	snprintf(tmp, sizeof(tmp), "%s", dir);
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return mkdir(tmp, 0755) && errno != EEXIST ? -errno : 0;
}

/* Write this process's file anew (or remove it when nothing is left). */
static int state_flush(void)
{
	char tmp[PATH_MAX + 8], boot[64];
	const char *run = getenv("PFNMAP_RUN_ID");
	FILE *f;
	int i, ret;

	if (!st.n)
		return unlink(st.path) && errno != ENOENT ? -errno : 0;
	ret = mkdir_p(state_dir());
	if (ret)
		return ret;
	/* rename() is atomic: a kill at any point leaves the old or the new record. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", st.path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	boot_id(boot, sizeof(boot));
	fprintf(f, "boot %s run %s\n", boot, run && *run ? run : "-");
	for (i = 0; i < st.n; i++)
		fprintf(f, "%s\n", st.rec[i].line);
	if (fflush(f) || ferror(f)) {
		ret = -errno;
		fclose(f);
		unlink(tmp);
		return ret ? ret : -EIO;
	}
	fclose(f);
	return rename(tmp, st.path) ? -errno : 0;
}

static void state_own(void)
{
	pid_t pid = getpid();

	if (st.owner == pid)
		return;
	st.owner = pid;
	st.n = 0;
	snprintf(st.path, sizeof(st.path), "%s/%d-%llu", state_dir(), pid, proc_starttime(pid));
}

int state_record(struct state_entry *e, const char *fmt, ...)
{
	char line[STATE_LINE];
	va_list ap;
	int ret;

	e->id = 0;
	va_start(ap, fmt);
	ret = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (ret < 0 || ret >= (int)sizeof(line) || strchr(line, '\n'))
		return -EINVAL;
	pthread_mutex_lock(&st.lock);
	state_own();
	if (st.n == STATE_MAX) {
		pthread_mutex_unlock(&st.lock);
		return -ENOSPC;
	}
	st.rec[st.n].id = ++st.next_id;
	snprintf(st.rec[st.n].line, STATE_LINE, "%s", line);
	st.n++;
	ret = state_flush();
	if (ret)
		st.n--;
	else
		e->id = st.next_id;
	pthread_mutex_unlock(&st.lock);
	return ret;
}

void state_forget(struct state_entry *e)
{
	int i;

	if (!e->id)
		return;
	pthread_mutex_lock(&st.lock);
	state_own();
	for (i = 0; i < st.n; i++) {
		if (st.rec[i].id != e->id)
			continue;
		memmove(&st.rec[i], &st.rec[i + 1], (st.n - i - 1) * sizeof(st.rec[0]));
		st.n--;
		state_flush();
		break;
	}
	pthread_mutex_unlock(&st.lock);
	e->id = 0;
}

int state_write(struct state_entry *e, const char *path, const char *val)
{
	char old[256];
	int ret;

	e->id = 0;
	ret = sysfs_read(path, old, sizeof(old));
	if (ret)
		return ret;
	ret = state_record(e, "write %s %s", path, old);
	if (ret)
		return ret;
	ret = sysfs_write(path, val);
	if (ret)
		state_forget(e);
	return ret;
}

int state_undo(struct state_entry *e)
{
	char line[STATE_LINE] = "", why[256];
	int i, ret;

	if (!e->id)
		return 0;
	pthread_mutex_lock(&st.lock);
	state_own();
	for (i = 0; i < st.n; i++)
		if (st.rec[i].id == e->id)
			snprintf(line, sizeof(line), "%s", st.rec[i].line);
	pthread_mutex_unlock(&st.lock);
	if (!line[0]) {
		e->id = 0;
		return 0;
	}
	ret = state_undo_line(line, why, sizeof(why));
	if (!ret)
		state_forget(e);
	return ret;
}

/* Reads the override too: a device whose state is already the recorded one needs nothing. */
static int undo_rebind(const char *bdf, const char *drv, const char *ovr, char *why, size_t len)
{
	struct pci_binding b = { .changed = true };
	char path[PATH_MAX], cur[64], cur_ovr[64];
	unsigned int vendor, device;
	pid_t holder;
	int ret;

	if (pci_device_ids(bdf, &vendor, &device) == -ENODEV)
		return 0;	/* the device went away, and its binding with it */
	snprintf(b.bdf, sizeof(b.bdf), "%s", bdf);
	snprintf(b.orig_driver, sizeof(b.orig_driver), "%s", strcmp(drv, "-") ? drv : "");
	snprintf(b.orig_override, sizeof(b.orig_override), "%s", strcmp(ovr, "-") ? ovr : "");
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", bdf);
	if (!pci_driver_get(bdf, cur, sizeof(cur)) && !sysfs_read(path, cur_ovr, sizeof(cur_ovr))) {
		if (!strcmp(cur_ovr, "(null)"))
			cur_ovr[0] = '\0';
		if (!strcmp(cur, b.orig_driver) && !strcmp(cur_ovr, b.orig_override))
			return 0;
	}
	/* Unbinding a device vfio-pci still serves blocks until it is released. */
	holder = pci_vfio_holder(bdf);
	if (holder > 0) {
		snprintf(why, len, "%s is in use by pid %d", bdf, holder);
		return -EBUSY;
	}
	ret = __pci_driver_restore(&b, 10000);
	if (ret)
		snprintf(why, len, "giving %s back to %s: %s", bdf, b.orig_driver[0] ? b.orig_driver : "no driver",
			 strerror(-ret));
	return ret;
}

int state_undo_line(const char *line, char *why, size_t len)
{
	char bdf[PCI_BDF_LEN], drv[64], ovr[64], path[PATH_MAX];
	const char *val;
	int ret;

	why[0] = '\0';
	if (sscanf(line, "rebind %15s %63s %63s", bdf, drv, ovr) == 3)
		return undo_rebind(bdf, drv, ovr, why, len);
	if (sscanf(line, "write %4095s", path) == 1) {
		val = line + strlen("write ") + strlen(path);
		val += *val == ' ';
		ret = sysfs_write(path, val);
		if (ret)
			snprintf(why, len, "writing '%s' to %s: %s", val, path, strerror(-ret));
		return ret;
	}
	if (!strncmp(line, "rmmod ", 6)) {
		snprintf(why, len, "module unloads are left to run_tests.sh --cleanup");
		return -EOPNOTSUPP;
	}
	snprintf(why, len, "unknown record '%s'", line);
	return -EINVAL;
}

struct leftover {
	char name[NAME_MAX + 1];
	unsigned long long start;
};

static int leftover_newest_first(const void *a, const void *b)
{
	const struct leftover *x = a, *y = b;

	return x->start < y->start ? 1 : x->start > y->start ? -1 : 0;
}

/* Undo one dead owner's file; returns how many changes stay. */
static int recover_file(const char *name)
{
	char path[PATH_MAX], boot[64], why[256], want_boot[64];
	char (*lines)[STATE_LINE] = NULL;
	int n = 0, i, kept = 0;
	bool *keep;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", state_dir(), name);
	f = fopen(path, "r");
	if (!f)
		return 0;
	lines = calloc(STATE_MAX + 1, STATE_LINE);
	keep = calloc(STATE_MAX + 1, sizeof(*keep));
	if (!lines || !keep) {
		fclose(f);
		free(lines);
		free(keep);
		return 1;
	}
	while (n <= STATE_MAX && fgets(lines[n], STATE_LINE, f)) {
		lines[n][strcspn(lines[n], "\n")] = '\0';
		n++;
	}
	fclose(f);
	boot_id(want_boot, sizeof(want_boot));
	if (n < 1 || sscanf(lines[0], "boot %63s", boot) != 1 || strcmp(boot, want_boot)) {
		fprintf(stderr, "pfnmap: dropping %s: from another boot, its changes went with it\n", path);
		unlink(path);
		goto out;
	}
	keep[0] = true;
	for (i = n - 1; i > 0; i--) {
		if (!state_undo_line(lines[i], why, sizeof(why))) {
			fprintf(stderr, "pfnmap: undid what pid %.*s left: %s\n",
				(int)strcspn(name, "-"), name, lines[i]);
			continue;
		}
		keep[i] = true;
		kept++;
		if (strncmp(lines[i], "rmmod ", 6))
			fprintf(stderr, "pfnmap: could not undo '%s' (left by pid %.*s): %s\n",
				lines[i], (int)strcspn(name, "-"), name, why);
	}
	if (!kept) {
		unlink(path);
	} else {
		char tmp[PATH_MAX + 8];

		snprintf(tmp, sizeof(tmp), "%s.tmp", path);
		f = fopen(tmp, "w");
		if (f) {
			for (i = 0; i < n; i++)
				if (keep[i])
					fprintf(f, "%s\n", lines[i]);
			if (!fclose(f))
				rename(tmp, path);
		}
	}
out:
	free(lines);
	free(keep);
	return kept;
}

int state_recover(void)
{
	struct leftover *files = NULL;
	int n = 0, cap = 0, i, left = 0;
	struct dirent *de;
	DIR *dir;

	dir = opendir(state_dir());
	if (!dir)
		return 0;
	while ((de = readdir(dir))) {
		unsigned long long start;
		int pid, end = 0;

		if (sscanf(de->d_name, "%d-%llu%n", &pid, &start, &end) != 2 || de->d_name[end])
			continue;
		if (pid == getpid() || (start && proc_starttime(pid) == start))
			continue;	/* ours, or its owner still runs */
		if (n == cap) {
			struct leftover *more = realloc(files, (cap = cap ? 2 * cap : 8) * sizeof(*files));

			if (!more)
				break;
			files = more;
		}
		snprintf(files[n].name, sizeof(files[n].name), "%s", de->d_name);
		files[n++].start = start;
	}
	closedir(dir);
	qsort(files, n, sizeof(*files), leftover_newest_first);
	for (i = 0; i < n; i++)
		left += recover_file(files[i].name);
	free(files);
	return left;
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
