/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PFNMAP_RECOVER_H
#define PFNMAP_RECOVER_H

/*
 * Undoing what killed processes left in the record (state.h), each line by
 * the code that wrote it ("rebind": pci_bind.h; "write": state.h; "rmmod":
 * here). The only implementation: the programs call it when they exit, the
 * runner through vfio/pfnmap_state.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "why.h"

struct recover_opts {
	FILE *out;		/* where it says what it undid and what it could not */
	const char *prefix;	/* before each line it says */
	bool report_live;	/* also name the records of owners still running */
};

/* Undo one line of a record; -errno with why filled in (cleared first). */
int __recover_undo_line(const char *line, struct why *why);

/*
 * Undo the record file at path, newest change first, passes repeated while
 * they make progress; the lines that could not be undone stay, each said
 * with its reason. A record of another boot is dropped. who names the owner
 * in what it says ("pid 703", "this run"). Query-like: returns how many
 * changes stay (a count, never -errno: what it could not undo it says).
 */
int recover_file(const char *path, const char *who, const struct recover_opts *o);

/*
 * Undo what dead processes left behind, newest file first, one recovery at a
 * time (a lock on the directory); self's own file is not touched. Returns
 * how many changes stay undone (with report_live, those of live owners too).
 */
int recover_leftovers(pid_t self, const struct recover_opts *o);

/* recover_leftovers() for a program: on stderr, "pfnmap: " first; the count. */
int state_recover(void);

/*
 * Run state_recover() when this process exits (the harness ends with
 * exit()), not when a child forked from it does.
 */
void state_recover_at_exit(void);

#endif
