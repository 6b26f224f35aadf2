/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PFNMAP_PCI_BIND_H
#define PFNMAP_PCI_BIND_H

#include <stdbool.h>
#include <sys/types.h>

#include "slow.h"
#include "state.h"
#include "why.h"

#define PCI_BDF_LEN 16

/* What a device was bound to before a test changed it, to put it back. */
struct pci_binding {
	char bdf[PCI_BDF_LEN];
	char orig_driver[64];		/* "" when it had none */
	char orig_override[64];		/* "" when "(null)" */
	bool changed;
	struct state_entry state;	/* the on-disk record of the change */
};

/* Normalise "bb:dd.f" or "dddd:bb:dd.f" into out; -EINVAL if malformed. */
int __pci_bdf_parse(const char *in, char out[PCI_BDF_LEN]);

/* Fill vendor and device ids from sysfs; -errno (-ENODEV: no such device). */
int __pci_device_ids(const char *bdf, unsigned int *vendor, unsigned int *device);

/*
 * Query: the device is not there (any more): its sysfs node is gone, as
 * after a hot unplug. Not for a device that is there but misbehaves.
 */
bool pci_device_gone(const char *bdf);

/* IOMMU group number, or -errno: -ENOENT when the device has none (no IOMMU). */
int __pci_iommu_group(const char *bdf);

/* Current driver name into buf ("" when unbound); -errno. */
int __pci_driver_get(const char *bdf, char *buf, int len);

/*
 * Query: a process holding bdf through vfio (its group or its cdev open), 0
 * when none: unbinding a device vfio-pci still serves blocks until it is
 * released.
 */
pid_t pci_vfio_holder(const char *bdf);

/*
 * Bind bdf to driver through driver_override, waiting (through kobject
 * uevents) until the bind happened. Records the previous state in save, and
 * on disk (state.h) before changing anything, unless it was already bound to
 * driver. -ENOENT (nothing changed) when no such driver is registered;
 * -errno, -ETIMEDOUT.
 */
int __pci_driver_bind(const char *bdf, const char *driver, struct pci_binding *save, int timeout_ms);

/* Undo __pci_driver_bind(): rebind the original driver and override. */
int __pci_driver_restore(struct pci_binding *save, int timeout_ms);

/* The timeout_ms of the library's own binds and unbinds: 10 s, stretched on a slow machine. */
#define PCI_BIND_TIMEOUT_MS	(10000 * slow_factor())

/*
 * Undo a "rebind BDF DRIVER OVERRIDE" record a dead process left (state.h);
 * -EBUSY while a process still holds the device through vfio; -errno with
 * why filled in (cleared first).
 */
int __pci_undo_rebind(const char *line, struct why *why);

#endif
