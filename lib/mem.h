/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PFNMAP_MEM_H
#define PFNMAP_MEM_H

#include <stddef.h>

#include "state.h"
#include "why.h"

/* DMA targets in RAM, backed the ways a VMM's guest memory is. */
enum mem_backing {
	MEM_ANON,		/* 4 KiB pages */
	MEM_THP,		/* anonymous, madvise(MADV_HUGEPAGE) */
	MEM_HUGETLB_2M,		/* MAP_HUGETLB, 2 MiB pages */
};

struct mem_buf {
	void *addr;
	size_t size;
	enum mem_backing backing;
	struct state_entry state;	/* the on-disk record of raising it */
};

/*
 * Allocate and touch size bytes (a multiple of 2 MiB for the huge backings).
 * -EOPNOTSUPP with why filled when the backing is not available here: THP
 * disabled, no hugetlb pages to be had. A hugetlb pool the allocation needs
 * is grown for it (recorded on disk first, state.h) and shrunk back by
 * mem_buf_free().
 */
int __mem_buf_alloc(struct mem_buf *buf, enum mem_backing backing, size_t size, struct why *why);
/* Unmap, and shrink a grown pool back (best effort: a pool left grown is undone by the record). */
void mem_buf_free(struct mem_buf *buf);
/* Query: "anonymous", "THP", "hugetlb 2M". */
const char *mem_backing_name(enum mem_backing backing);

#endif
