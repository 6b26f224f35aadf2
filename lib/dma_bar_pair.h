/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PFNMAP_DMA_BAR_PAIR_H
#define PFNMAP_DMA_BAR_PAIR_H

#include <stdbool.h>
#include <stddef.h>

#include "dma_driver.h"
#include "vfio_pci.h"
#include "why.h"

/*
 * A device that can DMA and a device with a large BAR, in one IOMMU
 * context: the tests that have a device DMA into or through a BAR.
 */
struct dma_bar_pair {
	struct vfio_pci_device dma_dev, bar_dev;
	struct dma_driver dma;
	bool dma_open, bar_open;
};

/*
 * Open dma_bdf (bound to vfio-pci, its driver initialised) and bar_bdf in
 * iommu; either may be NULL. 0, -EOPNOTSUPP with why filled (SKIP), or
 * -errno. What was opened before a failure stays open for
 * dma_bar_pair_close().
 */
int __dma_bar_pair_open(struct dma_bar_pair *p, struct iommu *iommu, const char *dma_bdf,
			const char *bar_bdf, struct why *why);
/* Close what is open of the pair. */
void dma_bar_pair_close(struct dma_bar_pair *p);

#endif
