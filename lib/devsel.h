/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PFNMAP_DEVSEL_H
#define PFNMAP_DEVSEL_H

#include <stddef.h>

#include "why.h"

/*
 * Which devices a test may use. Only devices the user named are touched:
 *   --edu=BDF / PFNMAP_EDU_BDF   a device that can DMA: one a driver of
 *                                lib/drivers/ takes (in the VM: the dma
 *                                device of vm/devices, edu)
 *   --bar=BDF / PFNMAP_BAR_BDF   a device with a large memory BAR (in the
 *                                VM: the bar device of vm/devices, ivshmem)
 *   --device=BDF / PFNMAP_BDF    any device: used for both roles it fits
 * BDF "none" names no device (the tests needing one SKIP). As the mainline
 * vfio selftests take them, BDFs (dddd:bb:dd.f) as the last arguments or
 * VFIO_SELFTESTS_BDF also name devices: one a DMA driver takes for the DMA
 * role, any other for the BAR role (VFIO_SELFTESTS_BDF: for both, like
 * --device).
 * devsel_parse() removes these options from argv before the harness sees
 * them, and exits with 1 on a malformed BDF (kselftest reads 2 as XFAIL):
 * a command-line parser, neither __ nor asserting (util.h).
 */
void devsel_parse(int *argc, char **argv);

/* Query: the device that does the DMA (dma_driver.h), or NULL with why filled. */
const char *devsel_dma(struct why *why);
/* Query: the device whose largest BAR the huge-mapping tests use, or NULL with why. */
const char *devsel_bar(struct why *why);

struct iommu;
struct vfio_pci_device;
/*
 * Open the BAR device in the first IOMMU mode the kernel has and find its
 * largest mmap-able BAR, which must hold min_size bytes: 0 with *bar set,
 * -EOPNOTSUPP with why filled (a SKIP), or -errno. Closed again on failure.
 */
int __devsel_bar_open(struct vfio_pci_device *dev, struct iommu *iommu, size_t min_size, int *bar,
		      struct why *why);

#endif
