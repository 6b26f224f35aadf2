/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PFNMAP_TEST_H
#define PFNMAP_TEST_H

/*
 * Glue between the library and kselftest_harness.h: include this after the
 * harness. Every fixture of the suite opens a kernel-log cursor in its setup
 * and calls KMSG_CHECK() in its teardown, so a test fails when the kernel
 * logged an Oops, BUG, WARNING, soft lockup, RCU stall or hung task while it
 * ran.
 */
#include "devsel.h"
#include "kmsg.h"

#define KMSG_CHECK(k) do {							\
	char __report[4096];							\
	int __bad = kmsg_scan_bad(k, __report, sizeof(__report));		\
	if (__bad) {								\
		TH_LOG("the kernel logged %d bad line(s) during the test:\n%s",	\
		       __bad, __report);					\
		_metadata->exit_code = KSFT_FAIL;				\
	}									\
	kmsg_close(k);								\
} while (0)

#define PFNMAP_TEST_MAIN							\
	int main(int argc, char **argv)						\
	{									\
		devsel_parse(&argc, argv);					\
		return test_harness_run(argc, argv);				\
	}

#endif
