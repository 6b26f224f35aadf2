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

/*
 * A role a device is named for, and what reasons call it: its role and PCI
 * ids, never its BDF (devsel.h).
 */
struct devsel_role {
	const char *role;		/* "the DMA device" */
	char bdf[PCI_BDF_LEN];		/* "" when none is named */
	const char *origin;		/* what named it: "PFNMAP_EDU_BDF", "--edu=BDF" */
	char name[64];			/* role and ids, made when first asked for */
	bool said;			/* its BDF is in the log */
};

enum { ROLE_DMA, ROLE_BAR, ROLE_ANY, ROLE_OTHER };
static struct devsel_role roles[] = {
	[ROLE_DMA] = { .role = "the DMA device" },
	[ROLE_BAR] = { .role = "the BAR device" },
	[ROLE_ANY] = { .role = "the device" },
	/* A BDF that no option named: the last one asked about. */
	[ROLE_OTHER] = { .role = "the device", .origin = "its BDF" },
};

static void devsel_set(struct devsel_role *r, const char *val, const char *what, const char *origin)
{
	/* "none": no device, said explicitly (run_tests.sh asks for one otherwise). */
	if (!strcmp(val, "none")) {
		r->bdf[0] = '\0';
		return;
	}
	if (__pci_bdf_parse(val, r->bdf)) {
		fprintf(stderr, "invalid BDF '%s' for %s: expected [dddd:]bb:dd.f or none\n", val, what);
		exit(PFNMAP_EXIT_FAIL);	/* a usage error; kselftest reads 2 as XFAIL */
	}
	r->origin = origin;
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
	struct devsel_role got = { .role = NULL }, *r;
	unsigned int vendor, device;

	devsel_set(&got, arg, "a BDF argument", "the BDF argument");
	r = &roles[!__pci_device_ids(got.bdf, &vendor, &device) &&
		   !__dma_driver_probe(vendor, device, NULL) ? ROLE_DMA : ROLE_BAR];
	memcpy(r->bdf, got.bdf, sizeof(r->bdf));
	r->origin = got.origin;
}

void devsel_parse(int *argc, char **argv)
{
	static const struct { const char *opt, *env, *opt_origin; int role; } sel[] = {
		{ "--edu=", "PFNMAP_EDU_BDF", "--edu=BDF", ROLE_DMA },
		{ "--bar=", "PFNMAP_BAR_BDF", "--bar=BDF", ROLE_BAR },
		{ "--device=", "PFNMAP_BDF", "--device=BDF", ROLE_ANY },
	};
	int i, j, out = 1;

	for (j = 0; j < 3; j++) {
		const char *env = getenv(sel[j].env);

		if (env && *env)
			devsel_set(&roles[sel[j].role], env, sel[j].env, sel[j].env);
	}
	for (i = 1; i < *argc; i++) {
		for (j = 0; j < 3; j++) {
			size_t n = strlen(sel[j].opt);

			if (!strncmp(argv[i], sel[j].opt, n)) {
				devsel_set(&roles[sel[j].role], argv[i] + n, sel[j].opt, sel[j].opt_origin);
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
	if (!roles[ROLE_DMA].bdf[0] && !roles[ROLE_BAR].bdf[0] && !roles[ROLE_ANY].bdf[0]) {
		const char *env = getenv("VFIO_SELFTESTS_BDF");

		if (env && *env)
			devsel_set(&roles[ROLE_ANY], env, "VFIO_SELFTESTS_BDF", "VFIO_SELFTESTS_BDF");
	}
	argv[out] = NULL;
	*argc = out;
}

/*
 * The role bdf was named for (the first, when one device has two), its
 * name made, and its BDF said in the log once per process: each test of
 * the harness is a process of its own, so once per test.
 */
static struct devsel_role *devsel_role_of(const char *bdf)
{
	const struct dma_driver_ops *ops = NULL;
	unsigned int vendor, device;
	struct devsel_role *r;

	for (r = roles; r < &roles[ROLE_OTHER]; r++)
		if (r->bdf[0] && !strcmp(r->bdf, bdf))
			break;
	if (r == &roles[ROLE_OTHER] && strcmp(r->bdf, bdf)) {
		snprintf(r->bdf, sizeof(r->bdf), "%s", bdf);
		r->name[0] = '\0';
		r->said = false;
	}
	if (!r->name[0] && __pci_device_ids(r->bdf, &vendor, &device)) {
		snprintf(r->name, sizeof(r->name), "%s", r->role);
	} else if (!r->name[0]) {
		/* The driver's name too where a DMA driver takes it: "(edu 1234:11e8)". */
		__dma_driver_probe(vendor, device, &ops);
		snprintf(r->name, sizeof(r->name), "%s (%s%s%04x:%04x)", r->role, ops ? ops->name : "",
			 ops ? " " : "", vendor, device);
	}
	if (!r->said) {
		r->said = true;
		why_note("%s is %s (%s)", r->name, r->bdf, r->origin);
	}
	return r;
}

const char *devsel_name(const char *bdf)
{
	return devsel_role_of(bdf)->name;
}

const char *devsel_role(const char *bdf)
{
	return devsel_role_of(bdf)->role;
}

const char *devsel_origin(const char *bdf)
{
	return devsel_role_of(bdf)->origin;
}

/* The device named for a role (or for any role), if it exists. */
static const char *devsel_pick(const struct devsel_role *r, const char *how, struct why *why,
			       unsigned int *vendor, unsigned int *device)
{
	const char *bdf = r->bdf[0] ? r->bdf : roles[ROLE_ANY].bdf[0] ? roles[ROLE_ANY].bdf : NULL;

	if (!bdf) {
		why_set(why, "no %s", how);
		return NULL;
	}
	if (__pci_device_ids(bdf, vendor, device)) {
		why_set(why, "no PCI device at %s", devsel_origin(bdf));
		return NULL;
	}
	return bdf;
}

const char *devsel_dma(struct why *why)
{
	unsigned int vendor, device;
	/* "edu" as the option is named; results.py and the README quote the reason. */
	const char *bdf = devsel_pick(&roles[ROLE_DMA], "edu device named (--edu=BDF or PFNMAP_EDU_BDF)",
				      why, &vendor, &device);

	if (bdf && __dma_driver_probe(vendor, device, NULL)) {
		why_set(why, "%s is %04x:%04x, which no DMA driver drives (drivers: %s)", devsel_role(bdf),
			vendor, device, dma_driver_names());
		return NULL;
	}
	return bdf;
}

const char *devsel_bar(struct why *why)
{
	unsigned int vendor, device;

	return devsel_pick(&roles[ROLE_BAR], "BAR device named (--bar=BDF or PFNMAP_BAR_BDF)",
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
		why_set(why, "%s has no mmap-able BAR of %zu MiB", devsel_name(bdf), min_size >> 20);
		vfio_pci_device_close(dev);
		iommu_cleanup(iommu);
		return -EOPNOTSUPP;
	}
	return 0;
}
