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

/*
 * How a reason names a device that was named for a role, without its BDF:
 * labs make a result's name of its SKIP reason (LKFT's parse-output.py
 * appends it), and a BDF would give the same test another name on every
 * machine. Queries; each also says the BDF in the log, once per process (a
 * harness test is one) and device, as a diagnostic line (why_note()):
 * "# the BAR device (1af4:1110) is 0000:00:03.0 (PFNMAP_BAR_BDF)".
 *   devsel_name()    the role and the PCI ids, with the DMA driver that
 *                    takes it: "the DMA device (edu 1234:11e8)", "the BAR
 *                    device (1af4:1110)", "the device (...)" for one named by
 *                    --device=, PFNMAP_BDF or VFIO_SELFTESTS_BDF; the role
 *                    alone when the ids cannot be read
 *   devsel_role()    the role alone, for a reason that quotes the ids itself
 *   devsel_origin()  what named it, for a device that is not there:
 *                    "PFNMAP_EDU_BDF", "--bar=BDF", "the BDF argument"
 */
const char *devsel_name(const char *bdf);
const char *devsel_role(const char *bdf);
const char *devsel_origin(const char *bdf);

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
