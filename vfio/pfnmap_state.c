// SPDX-License-Identifier: GPL-2.0
/*
 * The record of changes to the system (lib/state.h) for run_tests.sh, which
 * is POSIX sh: the runner records and undoes through the library's own code
 * (lib/state.c, lib/recover.c), so there is one implementation of it.
 *
 *   pfnmap_state record PID LINE   record LINE for the live process PID
 *                                  (the runner's module loads)
 *   pfnmap_state undo PID WHO      undo PID's own record, saying WHO left it
 *                                  ("this run")
 *   pfnmap_state recover SELF      undo what dead processes left, all but
 *                                  SELF's; name the records of live owners
 *
 * What it undid and what it could not go to stdout, a line each.
 * Exit: 0 nothing left undone, 1 something left (each said why), 2 usage.
 * Not a test: built and installed beside the tests, never run as one.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "recover.h"
#include "state.h"

static pid_t parse_pid(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0 || v > INT_MAX)
		return 0;
	return (pid_t)v;
}

static int usage(void)
{
	fprintf(stderr, "usage: pfnmap_state record PID LINE | undo PID WHO | recover SELF\n");
	return 2;
}

int main(int argc, char **argv)
{
	const struct recover_opts o = { .out = stdout, .prefix = "", .report_live = true };
	char path[PATH_MAX];
	pid_t pid;
	int ret;

	if (argc < 3 || !(pid = parse_pid(argv[2])))
		return usage();
	if (!strcmp(argv[1], "record") && argc == 4) {
		ret = __state_append(pid, argv[3]);
		if (ret)
			fprintf(stderr, "pfnmap_state: cannot record '%s' for pid %d in %s: %s\n",
				argv[3], pid, state_dir(), strerror(-ret));
		return ret ? 1 : 0;
	}
	if (!strcmp(argv[1], "undo") && argc == 4) {
		snprintf(path, sizeof(path), "%s/%d-%llu", state_dir(), pid, state_proc_starttime(pid));
		return recover_file(path, argv[3], &o) ? 1 : 0;
	}
	if (!strcmp(argv[1], "recover") && argc == 3)
		return recover_leftovers(pid, &o) ? 1 : 0;
	return usage();
}
