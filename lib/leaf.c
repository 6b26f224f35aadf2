// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "leaf.h"
#include "util.h"

const char *leaf_name(enum leaf leaf)
{
	static const char *const names[] = {
		[LEAF_PTE] = "PTE (4 KiB)", [LEAF_PMD] = "PMD (2 MiB)", [LEAF_PUD] = "PUD (1 GiB)",
		[LEAF_UNKNOWN] = "unknown",
	};

	return leaf <= LEAF_UNKNOWN ? names[leaf] : "?";
}

static long minflt_self(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

void leaf_measure(volatile uint8_t *p, size_t size, struct leaf_proof *proof)
{
	long f0 = minflt_self();
	size_t off;

	for (off = 0; off < size; off += SZ_2M)
		(void)p[off];
	proof->faults_2m = minflt_self() - f0;
	f0 = minflt_self();
	for (off = SZ_2M; off < 2 * SZ_2M; off += SZ_4K)
		(void)p[off];
	proof->faults_4k = minflt_self() - f0;
	if (proof->faults_4k > 0)
		proof->leaf = LEAF_PTE;
	else if (size >= SZ_1G && (size_t)proof->faults_2m <= size / SZ_1G + 1)
		proof->leaf = LEAF_PUD;
	else
		proof->leaf = LEAF_PMD;
}

/*
 * A line of domain_translation_struct is one leaf (dump_page_info()):
 * "0xIOVA_PFN |" and the entries of levels 5, 4 and 3, then level 2's and
 * level 1's where the walk went that deep. Three entries: a 1 GiB leaf,
 * four: 2 MiB, five: 4 KiB.
 */
enum leaf iommu_leaf(const char *bdf, uint64_t iova, struct why *why)
{
	unsigned long long pfn, want = iova >> 12, e[5];
	char path[128], line[512];
	enum leaf leaf = LEAF_UNKNOWN;
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/sys/kernel/debug/iommu/intel/%s/domain_translation_struct", bdf);
	f = fopen(path, "re");
	if (!f) {
		why_set(why, "%s: %s (CONFIG_INTEL_IOMMU_DEBUGFS and a mounted debugfs show it)",
			path, strerror(errno));
		return LEAF_UNKNOWN;
	}
	while (leaf == LEAF_UNKNOWN && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "0x%llx |", &pfn) != 1 || pfn > want)
			continue;
		n = sscanf(strchr(line, '|') + 1, " 0x%llx 0x%llx 0x%llx 0x%llx 0x%llx",
			   &e[0], &e[1], &e[2], &e[3], &e[4]);
		if (n == 3 && want - pfn < 512 * 512)
			leaf = LEAF_PUD;
		else if (n == 4 && want - pfn < 512)
			leaf = LEAF_PMD;
		else if (n == 5 && pfn == want)
			leaf = LEAF_PTE;
	}
	fclose(f);
	if (leaf == LEAF_UNKNOWN)
		why_set(why, "%s does not map IOVA 0x%llx", path, (unsigned long long)iova);
	return leaf;
}

enum leaf iommu_max_leaf(const char *bdf, struct why *why)
{
	char path[160], buf[64];
	unsigned long long cap;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu/intel-iommu/cap", bdf);
	if (__sysfs_read(path, buf, sizeof(buf)) || sscanf(buf, "%llx", &cap) != 1) {
		why_set(why, "no %s (not an Intel IOMMU)", path);
		return LEAF_UNKNOWN;
	}
	return cap & (1ULL << 35) ? LEAF_PUD : cap & (1ULL << 34) ? LEAF_PMD : LEAF_PTE;
}
