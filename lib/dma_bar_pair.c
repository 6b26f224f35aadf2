// SPDX-License-Identifier: GPL-2.0
#include "dma_bar_pair.h"

int __dma_bar_pair_open(struct dma_bar_pair *p, struct iommu *iommu, const char *dma_bdf,
			const char *bar_bdf, struct why *why)
{
	int ret;

	if (dma_bdf) {
		ret = __dma_device_open(&p->dma, &p->dma_dev, dma_bdf, iommu, why);
		if (ret)
			return ret;
		p->dma_open = true;
	}
	if (bar_bdf) {
		ret = __vfio_pci_device_open(&p->bar_dev, bar_bdf, iommu, why);
		if (ret)
			return ret;
		p->bar_open = true;
	}
	return 0;
}

void dma_bar_pair_close(struct dma_bar_pair *p)
{
	if (p->dma_open)
		dma_device_close(&p->dma);
	if (p->bar_open)
		vfio_pci_device_close(&p->bar_dev);
	p->dma_open = p->bar_open = false;
}
