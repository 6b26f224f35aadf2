# shellcheck shell=bash
# Sourced by scripts/check.sh: vm/devices, the one table of the VM's
# emulated devices, reads (with the runner's own reader, vm/devices.sh), and
# each of its dma-role devices is one a DMA driver of lib/drivers/ takes,
# asked of the drivers' own probe (lib/tests/dma_driver_probe): the table
# says which device the guest names for the DMA tests, the C drivers which
# devices they drive, and the two must agree (the DMA tests would SKIP a
# device no driver takes). The probe must also say no, to ids no driver
# takes, or its yes means nothing. And the runner's --devices and --fault
# refuse what the table does not have, before any VM.

devices_table()
{
	local d ids=() out rc
	# shellcheck source=vm/devices.sh
	. "$SUITE/vm/devices.sh"
	devices_load "$SUITE/vm/devices" || { echo "  $DEV_ERROR" >&2; return 1; }
	make -s -C "$SUITE/lib/tests" >/dev/null || return 1
	for d in "${DEV_NAMES[@]}"; do
		echo "  $d: ${DEV_IDS[$d]}, role ${DEV_ROLE[$d]}, QEMU ${DEV_DRIVER[$d]} (id ${DEV_QMP_ID[$d]})" >&2
		[ "${DEV_ROLE[$d]}" = dma ] && ids+=("${DEV_IDS[$d]}")
	done
	[ ${#ids[@]} -gt 0 ] || { echo "  no dma-role device: the DMA tests would all SKIP in the VM" >&2; return 1; }
	out=$("$SUITE/lib/tests/dma_driver_probe" "${ids[@]}"); rc=$?
	echo "$out" | sed 's/^/  dma-role, probed: /' >&2
	[ $rc = 0 ] || { echo "  a dma-role device of vm/devices that no driver of lib/drivers/ takes" >&2; return 1; }
	# ffff is no vendor's id (a PCI read from no device returns it).
	out=$("$SUITE/lib/tests/dma_driver_probe" ffff:ffff); rc=$?
	echo "  and ids no driver takes: $out (exit $rc)" >&2
	[ $rc = 1 ] && [ "$out" = "ffff:ffff none" ]
}

step "devices: vm/devices reads, and a DMA driver takes each dma-role device" devices_table
step "bad input: --devices with a name twice" bad_input 2 ./run_tests.sh --vm --devices edu,edu
step "bad input: --devices with an empty name" bad_input 2 ./run_tests.sh --vm --devices edu,
step "bad input: --devices none with a device" bad_input 2 ./run_tests.sh --vm --devices none,edu
step "bad input: --fault unplug- of a device vm/devices lacks" bad_input 2 ./run_tests.sh --vm --fault unplug-gpu@x
