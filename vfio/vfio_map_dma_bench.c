// SPDX-License-Identifier: GPL-2.0
/*
 * A benchmark, not a test: how fast each IOMMU mode maps and unmaps
 * (VFIO_IOMMU_MAP_DMA / VFIO_IOMMU_UNMAP_DMA, IOMMU_IOAS_MAP / _UNMAP in
 * the iommufd mode) a BAR mapping whose CPU page tables hold PTE, PMD or
 * PUD leaves, against anonymous memory of the same size. type1 looks up a
 * PFNMAP range one leaf at a time, so the leaf size is what the BAR rows
 * compare. Figures depend on the machine: nothing here judges them.
 *
 * usage: vfio_map_dma_bench [--bar=BDF] [--iterations=N] [--size=MIB]
 *
 * Exit: 0 table printed; 4 no BAR device; 1 a figure could not be taken for
 * another reason than the iommufd modes' documented EFAULT for PFNMAP.
 */
#include <errno.h>
#include <linux/mman.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "kselftest.h"

#include "devsel.h"
#include "iommu.h"
#include "mem.h"
#include "state.h"
#include "util.h"
#include "vfio_pci.h"

#define IOVA		(1ULL << 34)	/* 1 GiB-aligned: the IOMMU may use its largest pages */
#define MAX_ITER	1000
#define HUGETLB_1G_POOL	"/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages"
#ifndef MAP_HUGE_1GB
#define MAP_HUGE_1GB	(30 << MAP_HUGE_SHIFT)
#endif

#define MODE_NAME(_name, ...)	#_name,
static const char *const modes[] = { IOMMU_MODES(MODE_NAME) };

enum backing { BAR, ANON, THP, HUGETLB_1G };

/*
 * The BAR rows place the mapping so that no leaf larger than the wanted
 * one fits (skew past an alignment boundary); the anonymous rows get their
 * page size from how they are allocated.
 */
static const struct row {
	const char *name;
	enum backing backing;
	size_t align, skew;
} rows[] = {
	{ .name = "BAR, 4 KiB-aligned", .backing = BAR, .align = SZ_2M, .skew = SZ_4K },
	{ .name = "BAR, 2 MiB-aligned", .backing = BAR, .align = SZ_1G, .skew = SZ_2M },
	{ .name = "BAR, 1 GiB-aligned", .backing = BAR, .align = SZ_1G },
	{ .name = "anon, 4 KiB pages", .backing = ANON },
	{ .name = "anon, THP", .backing = THP },
	{ .name = "anon, hugetlb 1 GiB", .backing = HUGETLB_1G },
};

struct region {
	void *addr;
	size_t len;		/* what to munmap */
	struct mem_buf thp;
	struct state_entry pool_state;	/* the 1 GiB pool grown: shrunk back, also after a kill */
	long faults;		/* minor faults pre-faulting it took */
};

static long minflt_self(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

/* One touch per 4 KiB: nothing left for the timed maps to fault in. */
static void prefault(volatile uint8_t *p, size_t size, bool write)
{
	size_t off;

	for (off = 0; off < size; off += SZ_4K) {
		if (write)
			p[off] = 1;
		else
			(void)p[off];
	}
}

static void *hugetlb_1g_map(struct region *r, size_t len, struct why *why)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_1GB, err;
	char val[32];
	long have;
	void *p;

	/* hugetlb reserves at mmap time: ENOMEM here means the pool is short. */
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (p != MAP_FAILED)
		return p;
	have = sysfs_read_long(HUGETLB_1G_POOL);
	if (have < 0) {
		why_set(why, "no 1 GiB hugetlb pages here (CPU or kernel without them)");
		return MAP_FAILED;
	}
	snprintf(val, sizeof(val), "%ld", have + (long)(len / SZ_1G));
	err = __state_write(&r->pool_state, HUGETLB_1G_POOL, val);
	if (err) {
		why_set(why, "cannot grow %s (or record the change): %s", HUGETLB_1G_POOL, strerror(-err));
		return MAP_FAILED;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (p == MAP_FAILED)
		why_set(why, "could not get %zu hugetlb page(s) of 1 GiB (boot with hugepagesz=1G hugepages=N): %s",
			len / SZ_1G, strerror(errno));
	return p;
}

/* Map and pre-fault size bytes of the row's memory; -EOPNOTSUPP with why for n/a. */
static int region_get(const struct row *row, struct vfio_pci_device *dev, int bar, size_t size,
		      struct region *r, struct why *why)
{
	long f0 = 0;

	memset(r, 0, sizeof(*r));
	r->len = size;
	switch (row->backing) {
	case BAR:
		r->addr = __vfio_pci_bar_map_skewed(dev, bar, size, row->align, row->skew);
		if (r->addr == MAP_FAILED)
			why_set(why, "mmap of BAR%d: %s", bar, strerror(errno));
		break;
	case ANON:
		r->addr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (r->addr == MAP_FAILED)
			why_set(why, "mmap: %s", strerror(errno));
		/*
		 * Where THP is always on it would take huge pages. Fails only
		 * without THP, where 4 KiB pages are all there is.
		 */
		else
			madvise(r->addr, size, MADV_NOHUGEPAGE);
		break;
	case THP:
		/* mem_buf pre-faults (memset) as it allocates: count around it. */
		f0 = minflt_self();
		if (__mem_buf_alloc(&r->thp, MEM_THP, ALIGN_UP(size, SZ_2M), why))
			return -EOPNOTSUPP;
		r->faults = minflt_self() - f0;
		r->addr = r->thp.addr;
		return 0;
	case HUGETLB_1G:
		r->len = ALIGN_UP(size, SZ_1G);
		r->addr = hugetlb_1g_map(r, r->len, why);
		break;
	}
	if (r->addr == MAP_FAILED) {
		r->addr = NULL;
		return -EOPNOTSUPP;
	}
	f0 = minflt_self();
	prefault(r->addr, size, row->backing != BAR);
	r->faults = minflt_self() - f0;
	return 0;
}

static void region_put(const struct row *row, struct region *r)
{
	if (row->backing == THP)
		mem_buf_free(&r->thp);
	else if (r->addr)
		munmap(r->addr, r->len);
	__state_undo(&r->pool_state);
	r->addr = NULL;
}

/*
 * Which leaves the kernel installed, from the faults one touch per 4 KiB
 * took: a fault installs one leaf. A stray fault or two (stack) is allowed.
 */
static void leaf_describe(size_t size, long faults, char *buf, size_t len)
{
	const char *leaf = "mixed";

	if (faults <= 0)
		leaf = "none";
	else if (size >= SZ_1G && (size_t)faults <= size / SZ_1G + 2)
		leaf = "PUD";
	else if (size >= SZ_2M && (size_t)faults <= size / SZ_2M + 2 && (size_t)faults >= size / SZ_2M)
		leaf = "PMD";
	else if ((size_t)faults >= size / SZ_4K)
		leaf = "PTE";
	snprintf(buf, len, "%s (%ld fault%s)", leaf, faults, faults == 1 ? "" : "s");
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Three significant digits, no exponent: the figures span 0.1 to 10000. */
static int gibs_format(char *buf, size_t len, double v)
{
	return snprintf(buf, len, "%.*f", v >= 100 ? 0 : v >= 10 ? 1 : v >= 1 ? 2 : 3, v);
}

/* "median [min, max]" of n GiB/s figures; sorts them. */
static void stats_format(double *v, int n, char *buf, size_t len)
{
	double med;
	int used;

	qsort(v, n, sizeof(*v), cmp_double);
	med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	used = gibs_format(buf, len, med);
	used += snprintf(buf + used, len - used, " [");
	used += gibs_format(buf + used, len - used, v[0]);
	used += snprintf(buf + used, len - used, ", ");
	used += gibs_format(buf + used, len - used, v[n - 1]);
	snprintf(buf + used, len - used, "]");
}

static const char *errno_name(int err)
{
	const char *name = strerrorname_np(err);

	return name ? name : "?";
}

#define ROW_FMT "%-24s %-21s %-20s %-27s %s\n"

/*
 * Time iterations map/unmap pairs of the region at IOVA. A refused map is
 * reported by its errno; it is a failure of the benchmark unless it is the
 * iommufd modes' EFAULT for a PFNMAP range.
 */
static bool row_measure(struct iommu *iommu, const struct row *row, struct region *r, size_t size,
			int iterations, const char *leaf)
{
	static double map_gibs[MAX_ITER], unmap_gibs[MAX_ITER];
	char map_cell[64] = "-", unmap_cell[64] = "-";
	uint64_t t0, t1, t2, unmapped;
	bool ok = true;
	int i, ret;

	for (i = 0; i < iterations; i++) {
		t0 = now_ns();
		ret = __iommu_map(iommu, r->addr, IOVA, size);
		t1 = now_ns();
		if (ret) {
			bool refusal = row->backing == BAR && ret == -EFAULT &&
				       iommu_mode_is_iommufd(iommu->mode);

			snprintf(map_cell, sizeof(map_cell), "%s%s", errno_name(-ret),
				 refusal ? " (PFNMAP refused)" : "");
			ok = refusal;
			break;
		}
		ret = __iommu_unmap(iommu, IOVA, size, &unmapped);
		t2 = now_ns();
		if (ret || unmapped != size) {
			snprintf(unmap_cell, sizeof(unmap_cell), "%s, unmapped %llu",
				 ret ? errno_name(-ret) : "short", (unsigned long long)unmapped);
			ok = false;
			break;
		}
		map_gibs[i] = (double)size / SZ_1G / ((t1 - t0) / 1e9);
		unmap_gibs[i] = (double)size / SZ_1G / ((t2 - t1) / 1e9);
	}
	if (i == iterations) {
		stats_format(map_gibs, iterations, map_cell, sizeof(map_cell));
		stats_format(unmap_gibs, iterations, unmap_cell, sizeof(unmap_cell));
	}
	printf(ROW_FMT, iommu->mode->name, row->name, leaf, map_cell, unmap_cell);
	fflush(stdout);
	return ok;
}

/* The reason without the mode name the library puts in front of it. */
static const char *why_strip(const char *mode, const char *why)
{
	size_t n = strlen(mode);

	return !strncmp(why, mode, n) && !strncmp(why + n, ": ", 2) ? why + n + 2 : why;
}

/* Every row in one mode; false when a figure could not be taken. */
static bool mode_run(const char *mode, const char *bdf, size_t size, int iterations)
{
	struct vfio_pci_device dev;
	struct iommu iommu;
	struct why why = { "" };
	char leaf[48];
	struct region r;
	bool ok = true;
	size_t i;
	int ret, bar;

	ret = __iommu_init(&iommu, mode, &why);
	if (!ret)
		ret = __vfio_pci_device_open(&dev, bdf, &iommu, &why);
	if (ret) {
		iommu_cleanup(&iommu);
		if (!why.msg[0])
			why_set(&why, "%s", strerror(-ret));
		printf("%-24s %s: %s\n", mode, ret == -EOPNOTSUPP ? "n/a" : "error",
		       why_strip(mode, why.msg));
		return ret == -EOPNOTSUPP;
	}
	bar = vfio_pci_largest_bar(&dev);
	for (i = 0; i < ARRAY_LEN(rows); i++) {
		if (rows[i].backing == BAR && (bar < 0 || dev.regions[bar].size < size)) {
			printf(ROW_FMT, mode, rows[i].name, "-", "n/a: BAR smaller than the size", "-");
			continue;
		}
		why_clear(&why);
		if (region_get(&rows[i], &dev, bar, size, &r, &why)) {
			printf("%-24s %-21s %-20s n/a: %s\n", mode, rows[i].name, "-", why.msg);
			region_put(&rows[i], &r);
			continue;
		}
		leaf_describe(size, r.faults, leaf, sizeof(leaf));
		if (!row_measure(&iommu, &rows[i], &r, size, iterations, leaf))
			ok = false;
		region_put(&rows[i], &r);
	}
	vfio_pci_device_close(&dev);
	iommu_cleanup(&iommu);
	return ok;
}

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s [--bar=BDF] [--iterations=N (1-%d, default 5)] [--size=MIB (default 1024)]\n",
		prog, MAX_ITER);
	exit(2);
}

int main(int argc, char **argv)
{
	int iterations = 5, i;
	size_t size = SZ_1G;
	struct why why = { "" };
	char *end;
	struct utsname u;
	const char *bdf;
	bool ok = true;
	size_t m;

	devsel_parse(&argc, argv);
	for (i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "--iterations=", 13)) {
			iterations = strtol(argv[i] + 13, &end, 10);
			if (*end || iterations < 1 || iterations > MAX_ITER)
				usage(argv[0]);
		} else if (!strncmp(argv[i], "--size=", 7)) {
			size = strtoul(argv[i] + 7, &end, 10) << 20;
			if (*end || !size || size % SZ_2M)
				usage(argv[0]);
		} else {
			usage(argv[0]);
		}
	}
	bdf = devsel_bar(&why);
	if (!bdf) {
		printf("# vfio_map_dma_bench: %s\n", why.msg);
		return KSFT_SKIP;
	}
	uname(&u);
	printf("# vfio_map_dma_bench: kernel %s, BAR device %s, %zu MiB per map at IOVA 0x%llx, %d iteration(s)\n",
	       u.release, bdf, size >> 20, IOVA, iterations);
	printf("# GiB/s as median [min, max]; leaf: what the faults of one touch per 4 KiB show\n");
	printf(ROW_FMT, "mode", "memory", "leaf", "map GiB/s", "unmap GiB/s");
	fflush(stdout);
	for (m = 0; m < ARRAY_LEN(modes); m++)
		if (!mode_run(modes[m], bdf, size, iterations))
			ok = false;
	return ok ? 0 : 1;
}
