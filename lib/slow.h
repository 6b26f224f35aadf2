/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PFNMAP_SLOW_H
#define PFNMAP_SLOW_H

/*
 * A slow machine, in kselftest's words: KSFT_MACHINE_SLOW=yes in the
 * environment (tools/testing/selftests/net/lib.sh, forwarding/lib.sh; set
 * by netdev's NIPA for its debug-kernel runs) says the kernel is a debug
 * build or runs emulated, so timing checks are to be relaxed.
 *
 * Here it stretches the suite's liveness bounds: how long a DMA, a /proc
 * read, a MAP_DMA, a bind, a reap, a killed mapper, a target's set-up, a
 * kernel-log line and each test as a whole (its harness timeout) may take
 * before the test calls it hung. Not the race durations: a race runs its
 * --duration, slow machine or not (the debug build's advice, README, is a
 * longer --duration, chosen by whoever runs it).
 *
 * By SLOW_FACTOR and no more, and never to infinity: the bounds are how a
 * kernel bug shows when nothing crashes (a /proc read that never returns
 * behind a dead walker's mmap lock, a MAP_DMA retry loop that outlives
 * SIGKILL), and a stretched bound still ends, so such a bug still fails
 * the test, 4 times later.
 *
 * 4: twice the slowdown the suite measured on its own debug build
 * (kernel/debug.config, lockdep and KASAN: vfio_bar_mmap_test 84 s instead
 * of 42 s under TCG, README "For kernel developers"), over bounds that
 * already stand far above what they bound (a walk of 1 GiB takes well under
 * a second, its bound is 10 s; a DMA of edu a few ms, its bound 5 s).
 */
#define SLOW_FACTOR	4

/*
 * Query: the factor every time bound of the suite is multiplied by:
 * SLOW_FACTOR when KSFT_MACHINE_SLOW is "yes", 1 otherwise (unset, empty,
 * or any other value, as mainline's checks read it). Read from the
 * environment at the first call, which each test program makes in main()
 * (pfnmap_test_run()), before any thread or fork.
 */
int slow_factor(void);

#endif
