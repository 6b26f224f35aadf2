# shellcheck shell=bash
# Sourced by scripts/check.sh: what a test changes in the system is undone
# after it is killed with SIGKILL, by "run_tests.sh --cleanup" and by the
# next run. The guest does the work (scripts/guest/state_kill.sh): snapshot
# drivers, driver_override, nr_hugepages and modules; kill a runner in the
# middle of the walk race, a program holding hugetlb pages, a runner in the
# edu test, a program binding a device a host driver held (a PCIe root
# port, pcieport); the state must differ after each kill and equal the
# snapshot after the cleanup.

state_killed_runs() {
	local out=$SUITE/output/check-state
	mkdir -p "$SUITE/output"
	./run_tests.sh --vm --kernel debian-6.12 --out "$out" \
		--qemu-arg -device --qemu-arg pcie-root-port,id=rp1,chassis=1,slot=1,addr=0x10 \
		--guest-script scripts/guest/state_kill.sh vfio_edu_dma_test > "$out.log" 2>&1
	tr -d '\r' < "$out/guest.ktap" | grep -E '^(STATE-|    )' >&2
	tr -d '\r' < "$out/guest.ktap" | grep -qx 'STATE-RESULT pass'
}

step "state: SIGKILLed runs are undone by --cleanup and by the next run (VM)" state_killed_runs
