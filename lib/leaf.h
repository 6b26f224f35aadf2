/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PFNMAP_LEAF_H
#define PFNMAP_LEAF_H

#include <stddef.h>
#include <stdint.h>

#include "why.h"

/*
 * Which page size maps a range, on the CPU side and on the IOMMU side: the
 * premise of every huge-PFNMAP race, proven before a race is run.
 */
enum leaf { LEAF_PTE, LEAF_PMD, LEAF_PUD, LEAF_UNKNOWN };

const char *leaf_name(enum leaf leaf);	/* query: "PUD (1 GiB)" */

struct leaf_proof {
	long faults_2m;		/* minor faults for one touch per 2 MiB */
	long faults_4k;		/* then for every 4 KiB of the second 2 MiB */
	enum leaf leaf;
};

/*
 * Query: touch a fresh (never touched) mapping of size bytes and tell the leaf the
 * kernel installed by the minor faults this process took: one per GiB with
 * PUD leaves, one per 2 MiB with PMD leaves, then none for the 4 KiB
 * touches unless the leaves are PTEs. Other threads of the process must not
 * fault meanwhile. size must be at least 4 MiB.
 */
void leaf_measure(volatile uint8_t *p, size_t size, struct leaf_proof *proof);

/*
 * Query: the page size the IOMMU maps iova with in the domain of device bdf, read
 * from intel-iommu's debugfs (domain_translation_struct): LEAF_UNKNOWN with
 * why filled when it cannot be seen (no CONFIG_INTEL_IOMMU_DEBUGFS, debugfs
 * not mounted, another IOMMU, iova not mapped).
 */
enum leaf iommu_leaf(const char *bdf, uint64_t iova, struct why *why);

/*
 * Query: the largest page the IOMMU of device bdf can map with: the second-level
 * large page support of an Intel IOMMU's capability register (SLLPS, bits
 * 34 and 35: 2 MiB, 1 GiB). LEAF_UNKNOWN with why for another IOMMU.
 */
enum leaf iommu_max_leaf(const char *bdf, struct why *why);

#endif
