/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PFNMAP_STATE_H
#define PFNMAP_STATE_H

/*
 * A record on disk of every change the suite makes to the system, each
 * written before the change is made, so that what a killed test left behind
 * (a device bound to vfio-pci, a grown hugetlb pool, a module loaded) is
 * undone by the next run or by "run_tests.sh --cleanup".
 *
 * Each process that changes something owns one file, DIR/PID-STARTTIME
 * (DIR: $PFNMAP_STATE_DIR, default /run/pfnmap/state; STARTTIME from
 * /proc/PID/stat tells a reused pid apart). Its first line names the boot
 * and the run it belongs to; then one line per change, oldest first, saying
 * how to undo it:
 *
 *   boot BOOT_ID run RUN_ID
 *   rebind BDF DRIVER OVERRIDE	give BDF back to DRIVER with driver_override
 *				OVERRIDE ("-": none)
 *   write PATH VALUE		write VALUE (the rest of the line) to PATH
 *   rmmod MODULE		unload MODULE (the runner's module loads)
 *
 * A change its owner undid loses its line; a file with no change left is
 * removed. A file whose owner is dead is a leftover: its changes are undone
 * newest first, newest file first. A file from another boot is dropped,
 * its changes went with that boot.
 *
 * Only the owner writes its file, so no locking is needed: the cleanup
 * touches only files of dead owners. Undoing those is recover.h's: this
 * journal knows only its own kind of line ("write"), not PCI bindings.
 */

#include <stddef.h>
#include <sys/types.h>

#include "why.h"

/* One recorded change of this process; id 0: nothing recorded. */
struct state_entry {
	unsigned int id;
};

/* Query: the directory holding the records. */
const char *state_dir(void);

/*
 * Record how to undo a change before making it: fmt gives the line
 * ("rebind ...", "write ..."). -errno when the record cannot be written, in
 * which case the change must not be made.
 */
int __state_record(struct state_entry *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Record a change on behalf of another live process, owner (the runner, a
 * shell, records its module loads through vfio/pfnmap_state): line goes at
 * the end of owner's file. -errno (-ESRCH: no such process).
 */
int __state_append(pid_t owner, const char *line);

/* The change was undone by its owner: drop its line (best effort: a line left is undone again). */
void state_forget(struct state_entry *e);

/*
 * Read path, record "write PATH OLD", then write val to it. __state_undo()
 * puts the old value back. -errno.
 */
int __state_write(struct state_entry *e, const char *path, const char *val);

/* Undo a change this process recorded and drop its line; -errno (line kept). */
int __state_undo(struct state_entry *e);

/* Undo a "write PATH VALUE" line: write VALUE back; -errno with why filled in (cleared first). */
int __state_undo_write_line(const char *line, struct why *why);

/* For the recovery (recover.h), which reads the files of dead owners. */
#define STATE_LINE	512	/* the longest line, newline included */
#define STATE_MAX	64	/* the most changes one process records */
/* Query: start time (clock ticks since boot) of pid, 0 when it is gone or a zombie. */
unsigned long long state_proc_starttime(pid_t pid);
/* This boot's id, the first line of every record; "unknown" if unreadable (never fails). */
void state_boot_id(char *buf, size_t len);

#endif
