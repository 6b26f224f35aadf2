// SPDX-License-Identifier: GPL-2.0
/*
 * The on-disk record of the changes the suite makes to the system (format in
 * state.h). It knows the lines it writes itself ("write"); undoing what dead
 * processes left, PCI bindings included, is recover.c's. The runner's POSIX
 * sh cleanup reads the same files.
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

#include "state.h"
#include "util.h"

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
unsigned long long state_proc_starttime(pid_t pid)
{
	char path[64], buf[1024], *p, state;
	unsigned long long start;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (__sysfs_read(path, buf, sizeof(buf)))
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

void state_boot_id(char *buf, size_t len)
{
	if (__sysfs_read("/proc/sys/kernel/random/boot_id", buf, len))
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
	state_boot_id(boot, sizeof(boot));
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
	snprintf(st.path, sizeof(st.path), "%s/%d-%llu", state_dir(), pid, state_proc_starttime(pid));
}

int __state_record(struct state_entry *e, const char *fmt, ...)
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

int __state_append(pid_t owner, const char *line)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8], boot[64], buf[STATE_LINE];
	unsigned long long start = state_proc_starttime(owner);
	const char *run = getenv("PFNMAP_RUN_ID");
	FILE *in, *out;
	int ret, n = 0;

	if (!start)
		return -ESRCH;
	if (!*line || strlen(line) >= STATE_LINE - 1 || strchr(line, '\n'))
		return -EINVAL;
	ret = mkdir_p(state_dir());
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/%d-%llu", state_dir(), owner, start);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	out = fopen(tmp, "w");
	if (!out)
		return -errno;
	in = fopen(path, "r");
	while (in && fgets(buf, sizeof(buf), in)) {
		fputs(buf, out);
		n++;
	}
	if (in)
		fclose(in);
	if (!n) {
		state_boot_id(boot, sizeof(boot));
		fprintf(out, "boot %s run %s\n", boot, run && *run ? run : "-");
	} else if (n > STATE_MAX) {
		fclose(out);
		unlink(tmp);
		return -ENOSPC;
	}
	fprintf(out, "%s\n", line);
	if (fflush(out) || ferror(out)) {
		ret = errno ? -errno : -EIO;
		fclose(out);
		unlink(tmp);
		return ret;
	}
	fclose(out);
	return rename(tmp, path) ? -errno : 0;
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

int __state_write(struct state_entry *e, const char *path, const char *val)
{
	char old[256];
	int ret;

	e->id = 0;
	ret = __sysfs_read(path, old, sizeof(old));
	if (ret)
		return ret;
	ret = __state_record(e, "write %s %s", path, old);
	if (ret)
		return ret;
	ret = __sysfs_write(path, val);
	if (ret)
		state_forget(e);
	return ret;
}

int __state_undo(struct state_entry *e)
{
	char line[STATE_LINE] = "";
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
	ret = __state_undo_write_line(line, NULL);
	if (!ret)
		state_forget(e);
	return ret;
}

int __state_undo_write_line(const char *line, struct why *why)
{
	char path[PATH_MAX];
	const char *val;
	int ret;

	why_clear(why);
	if (sscanf(line, "write %4095s", path) != 1) {
		why_set(why, "not a write record: '%s'", line);
		return -EINVAL;
	}
	val = line + strlen("write ") + strlen(path);
	val += *val == ' ';
	ret = __sysfs_write(path, val);
	if (ret)
		why_set(why, "writing '%s' to %s: %s", val, path, strerror(-ret));
	return ret;
}
