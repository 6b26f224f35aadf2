// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel-log check (lib/kmsg.c) turns red for every kind of report it
 * claims to catch: each sample, in the kernel's own words, is written into
 * the log through /dev/kmsg (at debug level, so the console and the VM
 * runner do not take it for a real crash) and must be counted; lines the
 * tests provoke on purpose (IOMMU faults, vfio-pci messages) must not. A
 * bad line passed over by __kmsg_wait_for() is kept; a helper's exit() still
 * prints what was seen; no /dev/kmsg is an error, never a quiet pass.
 * Runs as root, in the VM (scripts/check.d/kmsg.sh).
 */
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "kmsg.h"
#include "util.h"

static const char *const bad_lines[] = {
	"Oops: 0000 [#1] SMP NOPTI",
	"BUG: unable to handle page fault for address: ffffc90000a00000",
	"kernel BUG at mm/pagewalk.c:123!",
	"WARNING: drivers/vfio/pci/vfio_pci_core.c:1790 at vfio_pci_mmap_huge_fault+0x161/0x170, CPU#1: t/273",
	"WARNING: CPU: 1 PID: 273 at drivers/vfio/pci/vfio_pci_core.c:1790 vfio_pci_mmap_huge_fault+0x161/0x170",
	"general protection fault, probably for non-canonical address 0xdead000000000100: 0000 [#1] SMP",
	"Kernel panic - not syncing: Fatal exception",
	"watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [vfio_dma_map_ra:131]",
	"Watchdog detected hard LOCKUP on cpu 1",
	"INFO: task vfio_dma_map_ra:140 blocked for more than 20 seconds.",
	"rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:",
	"rcu: INFO: rcu_sched self-detected stall on CPU",
	"rcu: INFO: rcu_preempt detected expedited stalls on CPUs/tasks: { 1-... } 21003 jiffies s: 397 root: 0x2/.",
	"INFO: rcu_tasks detected stalls on tasks:",
	"rcu_tasks_wait_gp: rcu_tasks grace period number 9 (since boot) is 2603 jiffies old.",
	"UBSAN: array-index-out-of-bounds in drivers/vfio/pci/vfio_pci_core.c:1790:12",
	"BUG: KASAN: slab-use-after-free in vfio_pci_dma_buf_move+0x1c/0x80",
	"BUG: KFENCE: out-of-bounds read in vfio_pci_mmap_huge_fault+0x2e/0x100",
	"list_add corruption. prev->next should be next (ffff888100a0b8e8), but was 0000000000000000. (prev=ffff888100a0b8e8).",
	"list_del corruption, ffff888100a0b8e8->next is LIST_POISON1 (dead000000000100)",
	"refcount_t: underflow; use-after-free.",
	"WARNING: possible circular locking dependency detected",
	"WARNING: inconsistent lock state",
	"DEBUG_LOCKS_WARN_ON(1)",
	"BUG: sleeping function called from invalid context at kernel/locking/rwsem.c:1525",
	"BUG: scheduling while atomic: vfio_bar_mmap_t/105/0x00000002",
	"BUG: workqueue lockup - pool cpus=1 node=0 flags=0x0 nice=0 stuck for 31s!",
	"kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)",
};

/* What the tests provoke on purpose, or the kernel says in passing. */
static const char *const benign_lines[] = {
	"vfio-pci 0000:00:02.0: enabling device (0000 -> 0002)",
	"DMAR: [DMA Write NO_PASID] Request device [00:03.0] fault addr 0x100001000 [fault reason 0x05] PTE Write access is not set",
	"DMAR: DRHD: handling fault status reg 2",
	"pfnmap-kmsg-test: nothing wrong here",
};

/* One record at debug level: in the log, not on the console. */
static void kmsg_write(struct __test_metadata *_metadata, const char *line)
{
	char rec[512];
	int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	int n;

	ASSERT_LE(0, fd) TH_LOG("opening /dev/kmsg for writing: %s", strerror(errno));
	n = snprintf(rec, sizeof(rec), "<7>%s\n", line);
	ASSERT_EQ(n, write(fd, rec, n)) TH_LOG("writing to /dev/kmsg: %s", strerror(errno));
	close(fd);
}

TEST(each_report_is_caught)
{
	struct kmsg k;
	size_t i;

	ASSERT_EQ(0, __kmsg_open(&k));
	for (i = 0; i < ARRAY_LEN(bad_lines); i++) {
		int before = kmsg_scan_bad(&k);

		kmsg_write(_metadata, bad_lines[i]);
		EXPECT_EQ(before + 1, kmsg_scan_bad(&k)) TH_LOG("not caught: %s", bad_lines[i]);
		EXPECT_NE(NULL, strstr(k.report, bad_lines[i])) TH_LOG("not in the report: %s", bad_lines[i]);
	}
	for (i = 0; i < ARRAY_LEN(benign_lines); i++) {
		int before = kmsg_scan_bad(&k);

		kmsg_write(_metadata, benign_lines[i]);
		EXPECT_EQ(before, kmsg_scan_bad(&k)) TH_LOG("taken for a report: %s", benign_lines[i]);
	}
	kmsg_close(&k);
}

/* Waiting for one line must not skip the bad ones before it. */
TEST(wait_for_keeps_what_it_passes)
{
	char line[256];
	struct kmsg k;

	ASSERT_EQ(0, __kmsg_open(&k));
	kmsg_write(_metadata, "BUG: unable to handle page fault for address: 0000000000000008");
	kmsg_write(_metadata, "pfnmap-kmsg-test: the line waited for");
	ASSERT_EQ(0, __kmsg_wait_for(&k, "the line waited for", 2000, line, sizeof(line)));
	EXPECT_EQ(1, kmsg_scan_bad(&k)) TH_LOG("the BUG before the awaited line was lost");
	kmsg_close(&k);
}

/*
 * A helper's fatal error (PFNMAP_ASSERT: exit(1)) skips the fixture's
 * teardown, where the check runs: the exit handler must say it instead.
 */
TEST(exit_still_reports)
{
	char out[8192] = "";
	int pipefd[2], status;
	ssize_t n, len = 0;
	pid_t pid;

	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct kmsg k;

		dup2(pipefd[1], STDERR_FILENO);
		if (__kmsg_open(&k))
			_exit(3);
		kmsg_write(_metadata, "BUG: KASAN: use-after-free in pfnmap_kmsg_test+0x0/0x10");
		PFNMAP_ASSERT(0, "a helper gives up");
	}
	close(pipefd[1]);
	while ((n = read(pipefd[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += n;
	close(pipefd[0]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == PFNMAP_EXIT_FAIL);
	EXPECT_NE(NULL, strstr(out, "the kernel logged 1 bad line(s)")) TH_LOG("the exit said: %s", out);
	EXPECT_NE(NULL, strstr(out, "BUG: KASAN: use-after-free in pfnmap_kmsg_test")) TH_LOG("the exit said: %s", out);
}

/* Without /dev/kmsg (a private /dev without it) the cursor cannot open: an error, which KMSG_OPEN asserts on. */
TEST(no_kmsg_is_an_error)
{
	int status;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct kmsg k;

		if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount("none", "/dev", "tmpfs", 0, NULL))
			_exit(3);
		_exit(__kmsg_open(&k) == -ENOENT ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	if (WEXITSTATUS(status) == 3)
		SKIP(return, "no private mount namespace with its own /dev (unshare or mount refused)");
	ASSERT_EQ(0, WEXITSTATUS(status)) TH_LOG("kmsg_open() without /dev/kmsg did not fail with ENOENT");
}

TEST_HARNESS_MAIN
