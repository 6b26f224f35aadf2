/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PFNMAP_WHY_H
#define PFNMAP_WHY_H

/*
 * Why a call could not do what it was asked: the reason a __foo() gives
 * with its -errno (or a query with its "unknown"), which the test prints as
 * its SKIP reason or in its failure message. One type for every such
 * buffer of the library, filled by the function that knows the reason
 * (why_set()) and read by the caller (why.msg), so that no caller and
 * callee disagree on a length, and no reason comes out whole in one test
 * and cut short in another: the longest (a DMA-BUF mmap probe quoting a
 * /proc/self/maps path) fits with room to spare.
 *
 * Functions take a struct why * last; NULL when the caller has no use for
 * the reason. A function leaves why untouched when it succeeds, unless its
 * comment says otherwise, so that a caller may gather one reason over
 * several calls.
 */
#define WHY_LEN 512

struct why {
	char msg[WHY_LEN];
};

/* Set the reason, printf-style; nothing when why is NULL. */
void why_set(struct why *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * A detail of a reason that differs from machine to machine (a BDF, an
 * IOMMU group's number, an address): printed now as a diagnostic line on
 * stderr ("# ..."; KTAP keeps it as a comment beside the result), never
 * put in why->msg. A reason is the same on every machine that lacks the
 * same thing, because labs make a result's name of it (LKFT's
 * parse-output.py appends a SKIP's reason); the detail still reaches the
 * log, right before the SKIP it explains.
 */
void why_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* No reason (yet): for the functions that start from a clean slate. */
static inline void why_clear(struct why *why)
{
	if (why)
		why->msg[0] = '\0';
}


#endif
