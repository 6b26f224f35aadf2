#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of scripts/check.d/state.sh (POSIX sh, busybox): what a test
# changes in the system is undone after it is killed with SIGKILL, by
# "run_tests.sh --cleanup" and by the next run.
#
# Snapshot the state a test may change (each device's driver and
# driver_override, nr_hugepages, loaded modules), start a test, SIGKILL its
# whole session in the middle, show the state differs, undo, compare with the
# snapshot; last, a device a host driver held (pcieport), given back to it.
# Prints "STATE-OK ..." / "STATE-FAIL ..." per step and a last
# line "STATE-RESULT pass|fail".
cd /pfnmap || exit 1
STATE=/run/pfnmap/state
fail=0

ok()   { echo "STATE-OK $*"; }
bad()  { echo "STATE-FAIL $*"; fail=1; }

snapshot()
{
	for d in /sys/bus/pci/devices/*; do
		drv=$(readlink "$d/driver"); drv=${drv##*/}
		echo "device ${d##*/} driver=${drv:-none} override=$(cat "$d/driver_override")"
	done
	echo "nr_hugepages $(cat /proc/sys/vm/nr_hugepages)"
	echo "modules $(cut -d' ' -f1 /proc/modules | sort | tr '\n' ' ')"
}

# SIGKILL every process of a session: the harness runs each test in a
# process group of its own, so a group kill would miss it.
kill_session()
{
	for s in /proc/[0-9]*/stat; do
		f=$(cat "$s" 2>/dev/null) || continue
		pid=${f%% *}; f=${f##*") "}
		# state ppid pgrp session ...
		# shellcheck disable=SC2086
		set -- $f
		[ "$4" = "$sid" ] && [ "$pid" != $$ ] && kill -9 "$pid" 2>/dev/null
	done
}

# Running and not a zombie (this shell reaps its children lazily).
alive()
{
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	st=${st##*") "}
	[ "${st%% *}" != Z ]
}

# Start "$@" in a session of its own; when a record matching WANT appears,
# stop its owner at once (a hugetlb buffer lives for a fraction of a second),
# make sure the record is still there, wait DELAY seconds, kill the session.
kill_when()
{
	want=$1 delay=$2; shift 2
	setsid "$@" > /tmp/killed.log 2>&1 &
	sid=$!
	i=0 caught=""
	while [ $i -lt 12000 ] && [ -z "$caught" ]; do
		i=$((i + 1))
		f=$(grep -l "$want" "$STATE"/* 2>/dev/null | head -n1)
		if [ -z "$f" ]; then
			alive "$sid" || break	# it ended without making the change
			usleep 10000
			continue
		fi
		owner=${f##*/}; owner=${owner%-*}
		kill -STOP "$owner" 2>/dev/null
		if grep -q "$want" "$f" 2>/dev/null; then
			caught=$owner
		else
			kill -CONT "$owner" 2>/dev/null
		fi
	done
	if [ -n "$caught" ]; then
		if [ "$delay" != 0 ]; then
			kill -CONT "$caught"
			sleep "$delay"
			kill -STOP "$caught"
		fi
		kill_session
		sleep 1
		ok "killed session $sid ($*) with SIGKILL while its records said:"
		cat "$STATE"/* | sed 's/^/    /'
	else
		bad "no '$want' record appeared for: $*"
		tail -n 5 /tmp/killed.log
		kill_session
	fi
}

# state_vs_snapshot same|differs WHAT: the state against the snapshot, as wanted.
state_vs_snapshot()
{
	snapshot > /tmp/now
	if diff /tmp/before /tmp/now > /tmp/diff; then
		if [ "$1" = same ]; then ok "$2: the state equals the snapshot"
		else bad "$2: the kill left nothing to undo (the test was not caught in the middle)"; fi
	else
		if [ "$1" = same ]; then bad "$2: the state differs from the snapshot:"
		else ok "$2: the state differs from the snapshot:"; fi
		sed 's/^/    /' /tmp/diff
	fi
}
compare() { state_vs_snapshot same "$1"; }
differs() { state_vs_snapshot differs "$1"; }


# busybox modprobe wants /lib/modules/RELEASE with a modules.dep; init
# insmodded from a flat directory. vfio-pci goes, so the runner loads it.
rel=$(uname -r)
mkdir -p "/lib/modules/$rel"
cp /lib/modules/*.ko "/lib/modules/$rel/" 2>/dev/null
depmod
rmmod vfio_pci vfio_pci_core 2>/dev/null
[ -d /sys/bus/pci/drivers/vfio-pci ] && bad "vfio-pci could not be unloaded for the module step"

snapshot > /tmp/before
echo "# the snapshot:"
sed 's/^/#   /' /tmp/before

# 1. The runner loads vfio-pci and binds ivshmem; killed during the race.
kill_when rebind 2 env PFNMAP_EDU_BDF= PFNMAP_TEST_ARGS=--duration=40 ./run_tests.sh pfnmap_walk_race_test
differs "runner killed during the walk race"
./run_tests.sh --cleanup | sed 's/^/    /'
compare "after run_tests.sh --cleanup"

# 2. A test program alone, killed while it holds a grown hugetlb pool.
modprobe vfio-pci
snapshot > /tmp/before
kill_when nr_hugepages 0 vfio/vfio_edu_dma_test -v vfio_type1v2_iommu_MEM_HUGETLB_2M -v vfio_type1_iommu_MEM_HUGETLB_2M
differs "program killed holding hugetlb pages"
./run_tests.sh --cleanup | sed 's/^/    /'
compare "after run_tests.sh --cleanup"

# 3. The next run undoes what a killed one left, before it changes anything.
rmmod vfio_pci vfio_pci_core 2>/dev/null
snapshot > /tmp/before
kill_when nr_hugepages 0 env PFNMAP_BAR_BDF= PFNMAP_TEST_ARGS="-v vfio_type1v2_iommu_MEM_HUGETLB_2M -v vfio_type1_iommu_MEM_HUGETLB_2M" \
	./run_tests.sh vfio_edu_dma_test
differs "runner killed during the edu test"
env PFNMAP_BAR_BDF= PFNMAP_TEST_ARGS="-r edu_iova.vfio_type1v2_iommu.map_overlapping" ./run_tests.sh vfio_edu_dma_test > /tmp/next.log 2>&1
grep -q "an earlier run was killed: undid" /tmp/next.log &&
	ok "the next run said: $(grep -m1 'an earlier run was killed' /tmp/next.log)" ||
	bad "the next run did not undo the leftovers: $(tail -n 3 /tmp/next.log | tr '\n' ' ')"
grep -q '^ok 1 ' /tmp/next.log || bad "the next run's test did not pass: $(grep -m1 'ok 1' /tmp/next.log)"
compare "after the next run"
# 4. A device a host driver held goes back to it. QEMU's pcie-root-port,
# driven by the built-in pcieport: vfio-pci refuses a bridge, so the test
# waits 10 s for a bind that never comes, unbound, long enough to be killed.
port=""
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x1b36:0x000c ] && port=${d##*/}
done
if [ -n "$port" ]; then
	modprobe vfio-pci
	snapshot > /tmp/before
	grep "$port" /tmp/before | sed 's/^/# before: /'
	kill_when "rebind $port pcieport" 1 env PFNMAP_BAR_BDF= \
		mm/pfnmap_walk_race_test --bar="$port" -r walk_race.pte_4k.walk_vs_refault
	differs "program killed while binding $port"
	./run_tests.sh --cleanup | sed 's/^/    /'
	compare "after run_tests.sh --cleanup"
else
	bad "no pcie-root-port: state.sh passes one to QEMU"
fi

# 5. A program past the runner's timeout: timeout(1) ends the harness, whose
# test child (a process group of its own) races on; the runner must kill it
# and undo what it changed, with no cleanup command.
snapshot > /tmp/before
sed -i 's/^timeout=.*/timeout=8/' settings
env PFNMAP_EDU_BDF= PFNMAP_TEST_ARGS="--duration=40 -r walk_race.pud_1g.walk_vs_refault" \
	./run_tests.sh pfnmap_walk_race_test > /tmp/timeout.log 2>&1
grep -q '^not ok 1 .*# TIMEOUT 8 seconds' /tmp/timeout.log &&
	ok "the runner said: $(grep -m1 '^not ok 1' /tmp/timeout.log)" ||
	bad "no TIMEOUT verdict: $(tail -n 3 /tmp/timeout.log | tr '\n' '|')"
grep '^# state:' /tmp/timeout.log | sed 's/^/    /'
grep -q '^# state: undid what pid [0-9]* left: rebind' /tmp/timeout.log ||
	bad "the runner did not undo the timed-out test's binding"
compare "after the timed-out run"

[ -z "$(ls "$STATE" 2>/dev/null)" ] && ok "no record left in $STATE" || bad "records left: $(ls "$STATE")"

[ $fail = 0 ] && echo "STATE-RESULT pass" || echo "STATE-RESULT fail"
