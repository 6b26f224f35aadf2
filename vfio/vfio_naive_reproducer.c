// SPDX-License-Identifier: GPL-2.0
/*
 * A benchmark baseline, not a test: the public reproducer of the huge-PFNMAP
 * page-walk races, written plainly, so scripts/race_bench.sh --naive can set
 * the suite's race tests beside it in the same VM and kernel.
 *
 * The reproducer posted with "vfio/type1: Retry follow_pfnmap_start() when
 * PFNMAP is zapped" (kvm@vger.kernel.org, 20260317-retry-pin-on-reclaimed-
 * pud-v1-1-1f0d0a23f78d@akamai.com, and the mm/pagewalk thread that led to
 * 3b89863c3fa4) is two loops: one reads /proc/PID/numa_maps of the process
 * holding the BAR mapping, the other maps the whole BAR for DMA and unmaps
 * it (VFIO_IOMMU_MAP_DMA / VFIO_IOMMU_UNMAP_DMA). That is all this does:
 * one reader process (open, read to the end, close: no fork and exec per
 * read as `cat` in a shell loop has, so if anything it reads faster than
 * the original), one mapper, no refaulting threads, no pressure on a
 * narrow window, type1v2 as a VMM uses it.
 *
 * It stops at the first failed MAP_DMA (the EINVAL of the type1 bug) or
 * after --duration seconds. A kernel without the page-walk fix crashes
 * instead: "pfnmap race: starts" in the kernel log marks the start (as
 * the race tests do with PFNMAP_RACE_MARK set), so the time to the crash
 * can be read off the console's timestamps.
 *
 * usage: vfio_naive_reproducer [--bar=BDF] [--duration=SECONDS]
 * Prints one line:
 *   naive: leaf=L maps=N reads=R elapsed_s=T caught=0|1[ first_failure_s=T errno=E]
 * Exit: 0 the race ran (caught or not: a figure, not a verdict), 4 no BAR
 * device or IOMMU mode, 1 the race could not be set up.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest.h"

#include "devsel.h"
#include "iommu.h"
#include "kmsg.h"
#include "leaf.h"
#include "util.h"
#include "vfio_pci.h"

#define IOVA	(1ULL << 34)	/* 1 GiB-aligned, as a VMM places guest RAM */

/* The reader: numa_maps of pid, whole, over and over, until killed. */
static void read_numa_maps(pid_t pid, volatile long *reads)
{
	char path[64], buf[4096];
	int fd;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	snprintf(path, sizeof(path), "/proc/%d/numa_maps", pid);
	for (;;) {
		fd = open(path, O_RDONLY);
		if (fd < 0)
			_exit(1);
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
		(*reads)++;
	}
}

int main(int argc, char **argv)
{
	struct vfio_pci_device dev = { 0 };
	struct iommu iommu = { 0 };
	struct leaf_proof proof;
	long duration = 20, maps = 0;
	volatile long *reads;
	uint64_t t0, deadline, first = 0;
	const char *bdf;
	struct why why = { "" };
	int bar, ret, err = 0;
	size_t size;
	uint8_t *va;
	pid_t reader;

	devsel_parse(&argc, argv);
	for (int i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "--duration=", 11) && atol(argv[i] + 11) > 0) {
			duration = atol(argv[i] + 11);
		} else {
			fprintf(stderr, "usage: %s [--bar=BDF] [--duration=SECONDS]\n", argv[0]);
			return KSFT_FAIL;
		}
	}
	bdf = devsel_bar(&why);
	if (!bdf) {
		printf("naive: SKIP %s\n", why.msg);
		return KSFT_SKIP;
	}
	ret = __iommu_init(&iommu, IOMMU_MODE_VFIO_TYPE1V2, &why);
	if (!ret)
		ret = __vfio_pci_device_open(&dev, bdf, &iommu, &why);
	if (ret == -EOPNOTSUPP) {
		printf("naive: SKIP %s\n", why.msg);
		return KSFT_SKIP;
	}
	if (ret) {
		printf("naive: cannot open %s in %s: %s\n", bdf, IOMMU_MODE_VFIO_TYPE1V2, strerror(-ret));
		return KSFT_FAIL;
	}
	bar = vfio_pci_largest_bar(&dev);
	if (bar < 0 || dev.regions[bar].size < 2 * SZ_2M) {
		printf("naive: %s has no mmap-able BAR of 4 MiB or more\n", bdf);
		vfio_pci_device_close(&dev);
		return KSFT_SKIP;
	}
	size = dev.regions[bar].size;
	/* The whole BAR, 1 GiB-aligned: PUD leaves, which the bugs need. */
	va = __vfio_pci_bar_map(&dev, bar, 0, size >= SZ_1G ? SZ_1G : SZ_2M);
	if (va == MAP_FAILED) {
		printf("naive: mmap of BAR%d of %s: %s\n", bar, bdf, strerror(errno));
		vfio_pci_device_close(&dev);
		return KSFT_FAIL;
	}
	/* Not part of the reproducer: which leaf it raced on, for the table. */
	leaf_measure(va, size, &proof);

	reads = mmap(NULL, sizeof(*reads), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (reads == MAP_FAILED) {
		printf("naive: mmap: %s\n", strerror(errno));
		goto fail;
	}
	/* Before the reader starts: a crash it causes comes after the mark. */
	kmsg_mark("pfnmap race: starts");
	t0 = now_ns();
	reader = fork();
	if (reader < 0) {
		printf("naive: fork: %s\n", strerror(errno));
		goto fail;
	}
	if (!reader)
		read_numa_maps(getppid(), reads);

	deadline = t0 + duration * 1000000000ULL;
	while (now_ns() < deadline) {
		ret = __iommu_map(&iommu, va, IOVA, size);
		maps++;
		if (ret) {
			first = now_ns();
			err = -ret;
			break;
		}
		__iommu_unmap(&iommu, IOVA, size, NULL);
	}
	kill(reader, SIGKILL);
	waitpid(reader, NULL, 0);
	kmsg_mark("pfnmap race: ends");

	printf("naive: leaf=%s maps=%ld reads=%ld elapsed_s=%.3f caught=%d", leaf_name(proof.leaf), maps,
	       *reads, ((first ? first : now_ns()) - t0) / 1e9, first != 0);
	if (first)
		printf(" first_failure_s=%.3f errno=%s", (first - t0) / 1e9, strerrorname_np(err) ?: "?");
	printf("\n");
	vfio_pci_bar_unmap(va, size);
	vfio_pci_device_close(&dev);
	iommu_cleanup(&iommu);
	return KSFT_PASS;
fail:
	/* The binding and the container are given back on every way out. */
	vfio_pci_bar_unmap(va, size);
	vfio_pci_device_close(&dev);
	iommu_cleanup(&iommu);
	return KSFT_FAIL;
}
