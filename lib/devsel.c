// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devsel.h"
#include "dma_driver.h"
#include "pci_bind.h"
#include "util.h"
#include "vfio_pci.h"

static char dma_bdf[PCI_BDF_LEN], bar_bdf[PCI_BDF_LEN], any_bdf[PCI_BDF_LEN];

static void devsel_set(char *dst, const char *val, const char *what)
{
	/* "none": no device, said explicitly (run_tests.sh asks for one otherwise). */
	if (!strcmp(val, "none")) {
		dst[0] = '\0';
		return;
	}
	if (__pci_bdf_parse(val, dst)) {
		fprintf(stderr, "invalid BDF '%s' for %s: expected [dddd:]bb:dd.f or none\n", val, what);
		exit(PFNMAP_EXIT_FAIL);	/* a usage error; kselftest reads 2 as XFAIL */
	}
}

/* dddd:bb:dd.f, all of the argument: what mainline's is_bdf() accepts. */
static bool is_full_bdf(const char *s)
{
	unsigned int d, b, dev, f;
	int n = 0;

	return sscanf(s, "%4x:%2x:%2x.%1x%n", &d, &b, &dev, &f, &n) == 4 && n == (int)strlen(s);
}

static void devsel_assign(const char *arg)
{
	unsigned int vendor, device;
	char bdf[PCI_BDF_LEN];

	devsel_set(bdf, arg, "a BDF argument");
	if (!__pci_device_ids(bdf, &vendor, &device) && !__dma_driver_probe(vendor, device, NULL))
		memcpy(dma_bdf, bdf, sizeof(bdf));
	else
		memcpy(bar_bdf, bdf, sizeof(bdf));
}

void devsel_parse(int *argc, char **argv)
{
	static const struct { const char *opt, *env; char *dst; } sel[] = {
		{ "--edu=", "PFNMAP_EDU_BDF", dma_bdf },
		{ "--bar=", "PFNMAP_BAR_BDF", bar_bdf },
		{ "--device=", "PFNMAP_BDF", any_bdf },
	};
	int i, j, out = 1;

	for (j = 0; j < 3; j++) {
		const char *env = getenv(sel[j].env);

		if (env && *env)
			devsel_set(sel[j].dst, env, sel[j].env);
	}
	for (i = 1; i < *argc; i++) {
		for (j = 0; j < 3; j++) {
			size_t n = strlen(sel[j].opt);

			if (!strncmp(argv[i], sel[j].opt, n)) {
				devsel_set(sel[j].dst, argv[i] + n, sel[j].opt);
				break;
			}
		}
		if (j == 3)
			argv[out++] = argv[i];
	}
	/*
	 * The mainline vfio selftests' ways to name a device, so that their
	 * runners (run.sh -d BDF, which appends the BDFs to the command line)
	 * and labs can run ours: trailing BDF arguments, else
	 * $VFIO_SELFTESTS_BDF. Each goes to the role its ids fit: a device a
	 * DMA driver takes does the DMA, any other serves its BAR.
	 */
	while (out > 1 && is_full_bdf(argv[out - 1]))
		devsel_assign(argv[--out]);
	if (!dma_bdf[0] && !bar_bdf[0] && !any_bdf[0]) {
		const char *env = getenv("VFIO_SELFTESTS_BDF");

		if (env && *env)
			devsel_set(any_bdf, env, "VFIO_SELFTESTS_BDF");
	}
	argv[out] = NULL;
	*argc = out;
}

/* The device named for a role (or for any role), if it exists. */
static const char *devsel_pick(const char *role_bdf, const char *how, struct why *why,
			       unsigned int *vendor, unsigned int *device)
{
	const char *bdf = role_bdf[0] ? role_bdf : any_bdf[0] ? any_bdf : NULL;

	if (!bdf) {
		why_set(why, "no %s", how);
		return NULL;
	}
	if (__pci_device_ids(bdf, vendor, device)) {
		why_set(why, "no PCI device %s", bdf);
		return NULL;
	}
	return bdf;
}

const char *devsel_dma(struct why *why)
{
	unsigned int vendor, device;
	/* "edu" as the option is named; results.py and the README quote the reason. */
	const char *bdf = devsel_pick(dma_bdf, "edu device named (--edu=BDF or PFNMAP_EDU_BDF)",
				      why, &vendor, &device);

	if (bdf && __dma_driver_probe(vendor, device, NULL)) {
		why_set(why, "%s is %04x:%04x, which no DMA driver drives (drivers: %s)", bdf,
			vendor, device, dma_driver_names());
		return NULL;
	}
	return bdf;
}

const char *devsel_bar(struct why *why)
{
	unsigned int vendor, device;

	return devsel_pick(bar_bdf, "BAR device named (--bar=BDF or PFNMAP_BAR_BDF)",
			   why, &vendor, &device);
}

int __devsel_bar_open(struct vfio_pci_device *dev, struct iommu *iommu, size_t min_size, int *bar,
		      struct why *why)
{
	const char *bdf = devsel_bar(why);
	int ret;

	iommu->container_fd = iommu->iommufd = -1;
	if (!bdf)
		return -EOPNOTSUPP;
	/* Said here: trying every IOMMU mode would end on the last mode's reason. */
	if (access("/sys/bus/pci/drivers/vfio-pci", F_OK)) {
		why_set(why, "vfio-pci is not loaded (modprobe vfio-pci)");
		return -EOPNOTSUPP;
	}
	ret = __vfio_pci_device_open_any(dev, bdf, iommu, why);
	if (ret)
		return ret;
	*bar = vfio_pci_largest_bar(dev);
	if (*bar < 0 || dev->regions[*bar].size < min_size) {
		why_set(why, "%s has no mmap-able BAR of %zu MiB", bdf, min_size >> 20);
		vfio_pci_device_close(dev);
		iommu_cleanup(iommu);
		return -EOPNOTSUPP;
	}
	return 0;
}
