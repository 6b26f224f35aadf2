# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# Runs in the VM instead of run_tests.sh (run_tests.sh --vm --guest-script):
# the naive reproducer scripts/race_bench.sh --naive compares the race tests
# with. POSIX sh (busybox). The runner's TEST arguments are not used; the
# race's length comes through --env PFNMAP_RACE_DURATION, as the tests'.
naive=./extra/vfio_naive_reproducer
if [ ! -x "$naive" ]; then
	echo "# naive.sh: no $naive: pass --guest-file vfio/vfio_naive_reproducer"
	exit 2
fi
exec "$naive" --duration="${PFNMAP_RACE_DURATION:-20}"
