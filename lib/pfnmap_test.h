/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PFNMAP_TEST_H
#define PFNMAP_TEST_H

/*
 * Glue between the library and kselftest_harness.h: include this after the
 * harness. Every fixture of the suite opens a kernel-log cursor in its setup
 * (KMSG_OPEN) and checks it in its teardown (KMSG_CHECK), so a test fails
 * when the kernel logged what kmsg_is_bad() names while it ran.
 */
#include "devsel.h"
#include "dma_driver.h"
#include "kmsg.h"
#include "pci_bind.h"
#include "race.h"
#include "recover.h"
#include "slow.h"
#include "state.h"

/*
 * In every fixture's setup, before anything changes: a test that cannot read
 * the kernel log cannot tell a crash from a pass, so that is a failure.
 */
#define KMSG_OPEN(k) do {							\
	int __ret = __kmsg_open(k);						\
	ASSERT_EQ(0, __ret) TH_LOG("opening /dev/kmsg: %s", strerror(-__ret));	\
} while (0)

/*
 * The end of a fixture's setup, after __foo() calls that return -errno and
 * fill a struct why (why.h), whose text (why.msg) is passed here: 0 goes
 * on; otherwise cleanup runs (the harness runs no teardown after a failed
 * setup), then -EOPNOTSUPP, a missing precondition that why names, SKIPs,
 * and any other error fails with why and the errno seen.
 */
#define SETUP_SKIP_OR_ASSERT(ret, why, cleanup) do {				\
	if (ret) {								\
		cleanup;							\
		if ((ret) == -EOPNOTSUPP)					\
			SKIP(return, "%s", why);				\
		ASSERT_EQ(0, ret) TH_LOG("%s (%s)", why, strerror(-(ret)));	\
	}									\
} while (0)

/* In every fixture's teardown, last. */
#define KMSG_CHECK(k) do {							\
	if (kmsg_scan_bad(k)) {							\
		TH_LOG("the kernel logged %d bad line(s) during the test:\n%s",	\
		       (k)->bad, (k)->report);					\
		_metadata->exit_code = KSFT_FAIL;				\
	}									\
	kmsg_close(k);								\
} while (0)

/*
 * --list-names: every test as fixture.variant.test, in the order the
 * harness runs them, one a line. The VM runner uses it to resume a program
 * after a kernel crash with the tests that did not get to run (-r NAME).
 */
static inline void pfnmap_list_names(void)
{
	struct __fixture_variant_metadata no_variant = { .name = "", }, *v;
	struct __fixture_metadata *f;
	struct __test_metadata *t;

	for (f = __fixture_list; f; f = f->next)
		for (v = f->variant ?: &no_variant; v; v = v->next)
			for (t = f->tests; t; t = t->next)
				printf("%s%s%s.%s\n", f->name, v->name[0] ? "." : "", v->name, t->name);
}

/*
 * On a slow machine (slow.h): each test's harness timeout stretched by the
 * factor of the bounds inside it, so that a test that fits its timeout
 * here fits it there too, and one line at the start saying so, so that a
 * lab's log shows that KSFT_MACHINE_SLOW was seen and honoured.
 */
static inline void pfnmap_slow_start(void)
{
	struct __fixture_metadata *f;
	struct __test_metadata *t;

	if (slow_factor() == 1)
		return;
	for (f = __fixture_list; f; f = f->next)
		for (t = f->tests; t; t = t->next)
			t->timeout *= slow_factor();
	ksft_print_msg("KSFT_MACHINE_SLOW=yes: time bounds x%d (DMA %d s, hung /proc read or MAP_DMA %d s, bind %d s, reap %d s; test timeouts %d s, races %d s); race durations not stretched (--duration=%d)\n",
		       slow_factor(), DMA_DRIVER_TIMEOUT_MS / 1000, RACE_HUNG_MS / 1000,
		       PCI_BIND_TIMEOUT_MS / 1000, RACE_REAP_MS / 1000,
		       TEST_TIMEOUT_DEFAULT * slow_factor(), RACE_TEST_TIMEOUT_S * slow_factor(),
		       race_params.duration_s);
	/* The harness forks each test: nothing of ours may wait in stdout's buffer then. */
	fflush(stdout);
}

/*
 * After the suite's own parsers took their options: the harness answers an
 * option it does not know with its whole usage and exit 1, but the suite's
 * options are the long ones, so a long option left here is a mistyped one
 * of ours: one line, and exit 1 like every usage error of a test program
 * (kselftest reads 2 as XFAIL). Then run the tests (their timeouts
 * stretched on a slow machine), and undo what a test killed on timeout
 * left behind (state.h).
 */
static inline int pfnmap_test_run(int argc, char **argv)
{
	int i;

	if (argc == 2 && !strcmp(argv[1], "--list-names")) {
		pfnmap_list_names();
		return 0;
	}

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (strncmp(argv[i], "--", 2))
			continue;
		fprintf(stderr, "%s: unknown option '%s' (the suite's: --edu=BDF --bar=BDF --device=BDF --duration=SECONDS --walkers=N --walk=KINDS)\n",
			argv[0], argv[i]);
		exit(KSFT_FAIL);
	}
	pfnmap_slow_start();
	state_recover_at_exit();
	return test_harness_run(argc, argv);
}

/* Every program takes the race options too: PFNMAP_TEST_ARGS goes to all. */
#define PFNMAP_TEST_MAIN							\
	int main(int argc, char **argv)						\
	{									\
		devsel_parse(&argc, argv);					\
		race_parse_args(&argc, argv);					\
		return pfnmap_test_run(argc, argv);				\
	}

#endif
