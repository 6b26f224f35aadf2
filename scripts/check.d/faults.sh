# shellcheck shell=bash
# Sourced by scripts/check.sh. Faults injected into a VM run: each must end
# in a clear report, the runner must neither hang nor stop early (the run
# goes on with the next program), and the exit code must say what happened.
# In the guest: a DMA that never completes and a /proc read that never
# returns (PFNMAP_FAULT_INJECT, lib/fault.h). Through the QEMU monitor: the
# edu device unplugged during the DMA test, the ivshmem device during a race
# test, the VM paused for a while, paused for good, and a guest panic.

# fault_case NAME WANT_RC 'PATTERN|...' -- RUNNER-ARGS...: every PATTERN
# (an extended regex) must appear in the run's output.
fault_case()
{
	local name=$1 want=$2 patterns=$3 out log rc start p line pats ok=0
	shift 4
	out=$SUITE/output/check-fault-$name log=$out.log
	mkdir -p "$SUITE/output"
	start=$(date +%s)
	# The bound is the point: a runner that hangs fails here instead of CI.
	timeout 900 ./run_tests.sh --vm --kernel debian-6.12 --out "$out" "$@" > "$log" 2>&1
	rc=$?
	echo "  $name: exit $rc (want $want) in $(( $(date +%s) - start ))s" >&2
	[ "$rc" = "$want" ] || ok=1
	IFS='|' read -r -a pats <<< "$patterns"
	for p in "${pats[@]}"; do
		line=$(cat "$log" "$out/results.ktap" 2>/dev/null | grep -m1 -E -- "$p")
		if [ -n "$line" ]; then
			echo "    ${line:0:200}" >&2
		else
			echo "    MISSING: $p" >&2; ok=1
		fi
	done
	[ $ok = 0 ] || tail -n 15 "$log" | sed 's/^/    | /' >&2
	return $ok
}

step "fault: a DMA that never completes is timed out and reported" fault_case dma-stall 1 \
	'the device did not complete it within 5 s|not ok 1 selftests: pfnmap/vfio: vfio_edu_dma_test' -- \
	--env PFNMAP_FAULT_INJECT=dma-stall --env PFNMAP_TEST_ARGS=-vvfio_type1v2_iommu_MEM_ANON vfio_edu_dma_test
step "fault: a /proc read that never returns is reported with where it waits" fault_case proc-read-hang 1 \
	'a read of /proc/[0-9]+/numa_maps has not returned for 10 s \(waiting in [a-z_]+\)|not ok 1 selftests: pfnmap/mm: pfnmap_walk_race_test' -- \
	--env PFNMAP_FAULT_INJECT=proc-read-hang --env PFNMAP_RACE_DURATION=14 --env PFNMAP_TEST_ARGS=-vpud_1g pfnmap_walk_race_test
step "fault: edu unplugged during the DMA test" fault_case unplug-edu 0 \
	'injecting fault unplug-edu|SKIP no PCI device at PFNMAP_EDU_BDF|# the DMA device.* is 0000:[0-9a-f:.]+ \(PFNMAP_EDU_BDF\)|^ok 1 selftests: pfnmap/vfio: vfio_edu_dma_test|^ok 2 selftests: pfnmap/vfio: vfio_iommufd_pfnmap_test' -- \
	--fault 'unplug-edu@selftests: pfnmap/vfio: vfio_edu_dma_test+8' vfio_edu_dma_test vfio_iommufd_pfnmap_test
step "fault: ivshmem unplugged during the walk race" fault_case unplug-ivshmem 0 \
	'injecting fault unplug-ivshmem|walk_race.pte_4k.walk_vs_refault # SKIP no PCI device at PFNMAP_BAR_BDF|^ok 1 selftests: pfnmap/mm: pfnmap_walk_race_test' -- \
	--env PFNMAP_RACE_DURATION=6 --fault 'unplug-ivshmem@RUN.*walk_race.pud_1g' pfnmap_walk_race_test
step "fault: the VM paused for 20 s, then continued" fault_case stop-cont 0 \
	'injecting fault stop-cont|^ok 1 selftests: pfnmap/vfio: vfio_edu_dma_test|expected: 50 results as expected' -- \
	--fault 'stop-cont@selftests: pfnmap/vfio: vfio_edu_dma_test+3' vfio_edu_dma_test
step "fault: the VM paused for good is declared hung, the run goes on" fault_case stop 1 \
	'the VM stopped responding \(no output for over 20s; last line: .*\) during vfio/vfio_edu_dma_test|vfio_edu_dma_test: [0-9]+ test\(s\) did not get to run; resuming them|restarting the VM for: vfio/vfio_edu_dma_test vfio/vfio_iommufd_pfnmap_test|^ok 2 selftests: pfnmap/vfio: vfio_iommufd_pfnmap_test' -- \
	--hang-timeout 20 --fault 'stop@selftests: pfnmap/vfio: vfio_edu_dma_test+3' vfio_edu_dma_test vfio_iommufd_pfnmap_test
step "fault: a guest kernel panic is reported, the run goes on" fault_case panic 1 \
	'the kernel crashed during vfio/vfio_edu_dma_test|Kernel panic - not syncing|vfio_edu_dma_test: [0-9]+ test\(s\) did not get to run; resuming them|# not ok [0-9]+ edu_[a-z]+\.[A-Za-z0-9_.]+ # CRASH: the VM ended during this test|^not ok 1 selftests: pfnmap/vfio: vfio_edu_dma_test # CRASH|^ok 2 selftests: pfnmap/vfio: vfio_iommufd_pfnmap_test' -- \
	--fault 'panic@selftests: pfnmap/vfio: vfio_edu_dma_test+3' vfio_edu_dma_test vfio_iommufd_pfnmap_test
