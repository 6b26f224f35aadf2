// SPDX-License-Identifier: GPL-2.0
/*
 * Binding a PCI device to a driver through driver_override. Completion is
 * observed through KOBJECT_UEVENT netlink messages (read with libmnl) rather
 * than by polling sysfs, so a driver whose probe fails is told apart from a
 * slow one: the "bind" event carries the driver's name.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <libmnl/libmnl.h>
#include <limits.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pci_bind.h"
#include "util.h"

#define PCI_SYSFS "/sys/bus/pci/devices"

int __pci_bdf_parse(const char *in, char out[PCI_BDF_LEN])
{
	unsigned int dom = 0, bus, dev, fn;
	char tail;

	if (!in)
		return -EINVAL;
	if (sscanf(in, "%4x:%2x:%2x.%1u%c", &dom, &bus, &dev, &fn, &tail) != 4 &&
	    (dom = 0, sscanf(in, "%2x:%2x.%1u%c", &bus, &dev, &fn, &tail) != 3))
		return -EINVAL;
	if (dev > 0x1f || fn > 7 || strlen(in) > 12)
		return -EINVAL;
	snprintf(out, PCI_BDF_LEN, "%04x:%02x:%02x.%u", dom, bus, dev, fn);
	return 0;
}

bool pci_device_gone(const char *bdf)
{
	unsigned int vendor, device;

	return __pci_device_ids(bdf, &vendor, &device) == -ENODEV;
}

int __pci_device_ids(const char *bdf, unsigned int *vendor, unsigned int *device)
{
	char path[PATH_MAX], buf[32];
	int ret;

	snprintf(path, sizeof(path), PCI_SYSFS "/%s/vendor", bdf);
	ret = __sysfs_read(path, buf, sizeof(buf));
	if (ret)
		return ret == -ENOENT ? -ENODEV : ret;
	*vendor = strtoul(buf, NULL, 16);
	snprintf(path, sizeof(path), PCI_SYSFS "/%s/device", bdf);
	ret = __sysfs_read(path, buf, sizeof(buf));
	if (ret)
		return ret;
	*device = strtoul(buf, NULL, 16);
	return 0;
}

int __pci_iommu_group(const char *bdf)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), PCI_SYSFS "/%s/iommu_group", bdf);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	return atoi(strrchr(target, '/') + 1);
}

int __pci_driver_get(const char *bdf, char *buf, int len)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), PCI_SYSFS "/%s/driver", bdf);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0) {
		if (errno != ENOENT)
			return -errno;
		buf[0] = '\0';
		return 0;
	}
	target[n] = '\0';
	snprintf(buf, len, "%s", strrchr(target, '/') + 1);
	return 0;
}

struct uevent_match {
	const char *action;	/* "bind", "unbind" */
	const char *bdf;
	const char *driver;	/* NULL: any */
	bool found;
};

/*
 * A uevent message is "ACTION@DEVPATH\0KEY=VALUE\0...". Kernel messages come
 * from pid 0; the udev daemon rebroadcasts on another group, which we do not
 * join.
 */
static int uevent_check(const char *buf, size_t len, struct uevent_match *m)
{
	const char *p = buf, *end = buf + len;
	const char *devpath = NULL, *action = NULL, *driver = NULL;
	size_t bdflen = strlen(m->bdf);

	for (; p < end; p += strlen(p) + 1) {
		if (!strncmp(p, "ACTION=", 7))
			action = p + 7;
		else if (!strncmp(p, "DEVPATH=", 8))
			devpath = p + 8;
		else if (!strncmp(p, "DRIVER=", 7))
			driver = p + 7;
	}
	if (!action || !devpath || strcmp(action, m->action))
		return 0;
	if (strlen(devpath) < bdflen + 1 || strcmp(devpath + strlen(devpath) - bdflen, m->bdf) ||
	    devpath[strlen(devpath) - bdflen - 1] != '/')
		return 0;
	if (m->driver && (!driver || strcmp(driver, m->driver)))
		return 0;
	m->found = true;
	return 1;
}

static struct mnl_socket *uevent_open(void)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_KOBJECT_UEVENT);

	if (!nl)
		return NULL;
	/* Group 1 carries the kernel's own uevents. */
	if (mnl_socket_bind(nl, 1, MNL_SOCKET_AUTOPID) < 0) {
		mnl_socket_close(nl);
		return NULL;
	}
	return nl;
}

static int uevent_wait(struct mnl_socket *nl, struct uevent_match *m, int timeout_ms)
{
	uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000;
	char buf[MNL_SOCKET_BUFFER_SIZE];

	while (!m->found) {
		struct pollfd pfd = { .fd = mnl_socket_get_fd(nl), .events = POLLIN };
		int64_t left = (int64_t)(deadline - now_ns()) / 1000000;
		ssize_t n;

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf) - 1);
		if (n < 0) {
			if (errno == ENOBUFS)	/* overrun: the event may be lost, sysfs decides */
				return -ENOBUFS;
			return -errno;
		}
		buf[n] = '\0';
		uevent_check(buf, n, m);
	}
	return 0;
}

static int pci_write_attr(const char *bdf, const char *attr, const char *val)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), PCI_SYSFS "/%s/%s", bdf, attr);
	return __sysfs_write(path, val);
}

/* Unbind from the current driver (if any) and wait for the unbind event. */
static int pci_unbind(struct mnl_socket *nl, const char *bdf, int timeout_ms)
{
	struct uevent_match m = { .action = "unbind", .bdf = bdf };
	char drv[64];
	int ret;

	ret = __pci_driver_get(bdf, drv, sizeof(drv));
	if (ret || !drv[0])
		return ret;
	ret = pci_write_attr(bdf, "driver/unbind", bdf);
	if (ret)
		return ret;
	ret = uevent_wait(nl, &m, timeout_ms);
	if (ret == -ENOBUFS || ret == -ETIMEDOUT) {
		/* Fall back on sysfs, the source of truth. */
		ret = __pci_driver_get(bdf, drv, sizeof(drv));
		if (!ret && drv[0])
			ret = -ETIMEDOUT;
	}
	return ret;
}

/* Set driver_override to driver ("" clears it) and probe; wait for bind. */
static int pci_probe_with(struct mnl_socket *nl, const char *bdf, const char *override,
			  const char *want_driver, int timeout_ms)
{
	struct uevent_match m = { .action = "bind", .bdf = bdf, .driver = want_driver };
	char drv[64];
	int ret;

	/* An empty write would be refused: "\n" clears the override. */
	ret = pci_write_attr(bdf, "driver_override", override[0] ? override : "\n");
	if (ret)
		return ret;
	ret = __sysfs_write("/sys/bus/pci/drivers_probe", bdf);
	if (ret && ret != -ENODEV)	/* -ENODEV: no driver wanted it */
		return ret;
	if (!want_driver)
		return 0;
	ret = uevent_wait(nl, &m, timeout_ms);
	if (ret == -ENOBUFS || ret == -ETIMEDOUT) {
		ret = __pci_driver_get(bdf, drv, sizeof(drv));
		if (!ret && strcmp(drv, want_driver))
			ret = -ETIMEDOUT;
	}
	return ret;
}

int __pci_driver_bind(const char *bdf, const char *driver, struct pci_binding *save, int timeout_ms)
{
	char path[PATH_MAX], cur[64];
	struct mnl_socket *nl;
	int ret;

	memset(save, 0, sizeof(*save));
	snprintf(save->bdf, sizeof(save->bdf), "%s", bdf);
	ret = __pci_driver_get(bdf, cur, sizeof(cur));
	if (ret)
		return ret;
	if (!strcmp(cur, driver))
		return 0;
	/* Unbinding for a driver that is not there would leave the device without one. */
	snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s", driver);
	if (access(path, F_OK))
		return -ENOENT;

	snprintf(save->orig_driver, sizeof(save->orig_driver), "%s", cur);
	snprintf(path, sizeof(path), PCI_SYSFS "/%s/driver_override", bdf);
	ret = __sysfs_read(path, save->orig_override, sizeof(save->orig_override));
	if (ret)
		return ret;
	if (!strcmp(save->orig_override, "(null)"))
		save->orig_override[0] = '\0';

	/* Listen before acting, so the event cannot pass unseen. */
	nl = uevent_open();
	if (!nl)
		return -errno;
	/* On disk before the change: a test killed from here on leaves a record to undo. */
	ret = __state_record(&save->state, "rebind %s %s %s", bdf, cur[0] ? cur : "-",
			   save->orig_override[0] ? save->orig_override : "-");
	if (ret) {
		mnl_socket_close(nl);
		return ret;
	}
	save->changed = true;
	ret = pci_unbind(nl, bdf, timeout_ms);
	if (!ret)
		ret = pci_probe_with(nl, bdf, driver, driver, timeout_ms);
	mnl_socket_close(nl);
	return ret;
}

int __pci_driver_restore(struct pci_binding *save, int timeout_ms)
{
	struct mnl_socket *nl;
	int ret;

	if (!save->changed)
		return 0;
	nl = uevent_open();
	if (!nl)
		return -errno;
	ret = pci_unbind(nl, save->bdf, timeout_ms);
	if (!ret)
		ret = pci_probe_with(nl, save->bdf, save->orig_override,
				     save->orig_driver[0] ? save->orig_driver : NULL, timeout_ms);
	mnl_socket_close(nl);
	if (!ret) {
		save->changed = false;
		state_forget(&save->state);
	}
	return ret;
}

/*
 * Whether /proc/PID/maps names one of targets, read in a child bounded by
 * timeout_ms: the read takes the process's mmap lock, which a process stuck
 * in the kernel may hold for good (the page-walk bug leaves exactly that).
 * 1 yes, 0 no, -ETIMEDOUT when the read did not finish (the child is killed;
 * the read waits killably). The child uses only async-signal-safe calls: the
 * caller may have threads.
 */
static int maps_mention(const char *pid, const char *const targets[], int nr, int timeout_ms)
{
	struct pollfd pfd = { .events = POLLIN };
	int fds[2], status, ret = -ETIMEDOUT;
	char verdict = '0';
	pid_t child;

	if (pipe(fds))
		return -errno;
	child = fork();
	if (child < 0) {
		ret = -errno;
		close(fds[0]);
		close(fds[1]);
		return ret;
	}
	if (!child) {
		static char buf[65536];
		char path[NAME_MAX + 16], *line, *nl;
		size_t have = 0;
		ssize_t n;
		int fd, i;

		close(fds[0]);
		snprintf(path, sizeof(path), "/proc/%s/maps", pid);
		fd = open(path, O_RDONLY);
		while (fd >= 0 && verdict == '0' &&
		       (n = read(fd, buf + have, sizeof(buf) - 1 - have)) > 0) {
			have += n;
			buf[have] = '\0';
			for (line = buf; verdict == '0' && (nl = strchr(line, '\n')); line = nl + 1) {
				*nl = '\0';
				for (i = 0; i < nr; i++) {
					size_t tl = strlen(targets[i]), ll = nl - line;

					if (ll >= tl && !strcmp(line + ll - tl, targets[i]))
						verdict = '1';
				}
			}
			have = buf + have - line;
			memmove(buf, line, have);
			if (have == sizeof(buf) - 1)
				have = 0;	/* a line longer than the buffer: no path of ours */
		}
		n = write(fds[1], &verdict, 1);
		_exit(n == 1 ? 0 : 1);
	}
	close(fds[1]);
	pfd.fd = fds[0];
	if (poll(&pfd, 1, timeout_ms) == 1 && read(fds[0], &verdict, 1) == 1)
		ret = verdict == '1';
	close(fds[0]);
	if (ret == -ETIMEDOUT)
		kill(child, SIGKILL);
	waitpid(child, &status, 0);
	return ret;
}

/*
 * Matches fds and mappings: a BAR mapping outlives the fd it came from. A
 * process whose mappings cannot be read in 5 s counts as a holder: it is
 * stuck in the kernel, maybe on the device, and an unbind would wait for it.
 */
static bool proc_refers_to(const char *pid, const char *const targets[], int nr)
{
	char path[PATH_MAX], link[PATH_MAX];
	struct dirent *de;
	bool found = false;
	DIR *dir;
	int i;

	snprintf(path, sizeof(path), "/proc/%s/fd", pid);
	dir = opendir(path);
	while (dir && !found && (de = readdir(dir))) {
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/%s/fd/%s", pid, de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		for (i = 0; i < nr; i++)
			found |= !strcmp(link, targets[i]);
	}
	if (dir)
		closedir(dir);
	return found || maps_mention(pid, targets, nr, 5000 * slow_factor()) != 0;
}

pid_t pci_vfio_holder(const char *bdf)
{
	char path[PATH_MAX], group[64] = "", cdev[NAME_MAX + 32] = "";
	const char *targets[2];
	struct dirent *de;
	pid_t holder = 0;
	int nr = 0, g;
	DIR *dir;

	g = __pci_iommu_group(bdf);
	if (g >= 0) {
		snprintf(group, sizeof(group), "/dev/vfio/%d", g);
		targets[nr++] = group;
	}
	snprintf(path, sizeof(path), PCI_SYSFS "/%s/vfio-dev", bdf);
	dir = opendir(path);
	while (dir && (de = readdir(dir)))
		if (!strncmp(de->d_name, "vfio", 4))
			snprintf(cdev, sizeof(cdev), "/dev/vfio/devices/%s", de->d_name);
	if (dir)
		closedir(dir);
	if (cdev[0])
		targets[nr++] = cdev;
	if (!nr)
		return 0;
	dir = opendir("/proc");
	while (dir && !holder && (de = readdir(dir))) {
		if (!isdigit((unsigned char)de->d_name[0]) || atoi(de->d_name) == getpid())
			continue;
		if (proc_refers_to(de->d_name, targets, nr))
			holder = atoi(de->d_name);
	}
	if (dir)
		closedir(dir);
	return holder;
}

/*
 * The undo of a "rebind" line (written by __pci_driver_bind()). Reads the
 * override too: a device whose state is already the recorded one needs nothing.
 */
int __pci_undo_rebind(const char *line, struct why *why)
{
	struct pci_binding b = { .changed = true };
	char path[PATH_MAX], cur[64], cur_ovr[64], bdf[PCI_BDF_LEN], drv[64], ovr[64];
	unsigned int vendor, device;
	pid_t holder;
	int ret;

	why_clear(why);
	if (sscanf(line, "rebind %15s %63s %63s", bdf, drv, ovr) != 3) {
		why_set(why, "not a rebind record: '%s'", line);
		return -EINVAL;
	}
	if (__pci_device_ids(bdf, &vendor, &device) == -ENODEV)
		return 0;	/* the device went away, and its binding with it */
	snprintf(b.bdf, sizeof(b.bdf), "%s", bdf);
	snprintf(b.orig_driver, sizeof(b.orig_driver), "%s", strcmp(drv, "-") ? drv : "");
	snprintf(b.orig_override, sizeof(b.orig_override), "%s", strcmp(ovr, "-") ? ovr : "");
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", bdf);
	if (!__pci_driver_get(bdf, cur, sizeof(cur)) && !__sysfs_read(path, cur_ovr, sizeof(cur_ovr))) {
		if (!strcmp(cur_ovr, "(null)"))
			cur_ovr[0] = '\0';
		if (!strcmp(cur, b.orig_driver) && !strcmp(cur_ovr, b.orig_override))
			return 0;
	}
	/* Unbinding a device vfio-pci still serves blocks until it is released. */
	holder = pci_vfio_holder(bdf);
	if (holder > 0) {
		why_set(why, "%s is in use by pid %d", bdf, holder);
		return -EBUSY;
	}
	ret = __pci_driver_restore(&b, PCI_BIND_TIMEOUT_MS);
	if (ret)
		why_set(why, "giving %s back to %s: %s", bdf, b.orig_driver[0] ? b.orig_driver : "no driver",
			strerror(-ret));
	return ret;
}
