// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "mem.h"
#include "util.h"

#define NR_HUGEPAGES "/proc/sys/vm/nr_hugepages"

const char *mem_backing_name(enum mem_backing backing)
{
	switch (backing) {
	case MEM_ANON: return "anonymous";
	case MEM_THP: return "THP";
	case MEM_HUGETLB_2M: return "hugetlb 2M";
	}
	return "?";
}

static void *map_hugetlb(struct mem_buf *buf, size_t size, struct why *why)
{
	long need = size / SZ_2M, have;
	char val[32];
	void *p;

	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE, -1, 0);
	if (p != MAP_FAILED)
		return p;
	have = sysfs_read_long(NR_HUGEPAGES);
	snprintf(val, sizeof(val), "%ld", have + need);
	if (have < 0 || __state_write(&buf->state, NR_HUGEPAGES, val)) {
		why_set(why, "no free 2 MiB hugetlb pages, and %s cannot be raised (or the change recorded)",
			NR_HUGEPAGES);
		return MAP_FAILED;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE, -1, 0);
	if (p == MAP_FAILED)
		why_set(why, "could not get %ld 2 MiB hugetlb page(s): %s", need, strerror(errno));
	return p;
}

static void *map_thp(size_t size, struct why *why)
{
	char mode[128];
	uintptr_t start;
	void *resv;

	if (__sysfs_read("/sys/kernel/mm/transparent_hugepage/enabled", mode, sizeof(mode)) ||
	    strstr(mode, "[never]")) {
		why_set(why, "transparent hugepages are disabled or absent");
		return MAP_FAILED;
	}
	resv = mmap(NULL, size + SZ_2M, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (resv == MAP_FAILED) {
		why_set(why, "mmap: %s", strerror(errno));
		return MAP_FAILED;
	}
	start = ALIGN_UP((uintptr_t)resv, SZ_2M);
	if (start > (uintptr_t)resv)
		munmap(resv, start - (uintptr_t)resv);
	munmap((void *)(start + size), (uintptr_t)resv + SZ_2M - start);
	if (madvise((void *)start, size, MADV_HUGEPAGE)) {
		why_set(why, "madvise(MADV_HUGEPAGE): %s", strerror(errno));
		munmap((void *)start, size);
		return MAP_FAILED;
	}
	return (void *)start;
}

int __mem_buf_alloc(struct mem_buf *buf, enum mem_backing backing, size_t size, struct why *why)
{
	void *p;

	memset(buf, 0, sizeof(*buf));
	buf->backing = backing;
	switch (backing) {
	case MEM_ANON:
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			why_set(why, "mmap: %s", strerror(errno));
		break;
	case MEM_THP:
		p = map_thp(size, why);
		break;
	case MEM_HUGETLB_2M:
		p = map_hugetlb(buf, size, why);
		break;
	default:
		p = MAP_FAILED;
	}
	if (p == MAP_FAILED) {
		mem_buf_free(buf);
		return -EOPNOTSUPP;
	}
	buf->addr = p;
	buf->size = size;
	memset(p, 0, size);
	return 0;
}

void mem_buf_free(struct mem_buf *buf)
{
	if (buf->addr)
		munmap(buf->addr, buf->size);
	buf->addr = NULL;
	/* The pool back to its size before; nothing when it was not grown. */
	__state_undo(&buf->state);
}
