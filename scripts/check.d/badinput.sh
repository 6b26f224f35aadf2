# shellcheck shell=bash
# Sourced by scripts/check.sh: every input is refused with a one-line reason
# and the exit code that fits (the runner: 2 usage, 4 missing precondition,
# 1 failure; a test program: 1 for a usage error too, 4 SKIP),
# and nothing is changed on the way. The table in README.md ("Bad input")
# lists these cases; check.sh has the first few (unknown kernel, missing
# bzImage, unknown test, malformed BDF to a program).

# bad_says WANT_RC TEXT COMMAND...: bad_input, and the one line says TEXT.
bad_says() {
	local want=$1 text=$2 out rc; shift 2
	out=$("$@" 2>&1); rc=$?
	echo "  $* -> exit $rc: $(echo "$out" | tail -n1)" >&2
	[ $rc = "$want" ] && [ "$(echo "$out" | wc -l)" = 1 ] && [[ $out == *"$text"* ]]
}

# Machine conditions, in the VM: the guest (scripts/guest/bad_machine.sh)
# runs each case and says BAD-OK or BAD-FAIL.
bad_machine() {
	local name=$1 out=$SUITE/output/check-bad-$1; shift
	mkdir -p "$SUITE/output"
	./run_tests.sh --vm --kernel debian-6.12 --out "$out" --env "PFNMAP_BAD=$name" \
		--guest-script scripts/guest/bad_machine.sh "$@" vfio_edu_dma_test > "$out.log" 2>&1
	tr -d '\r' < "$out/guest.ktap" | grep -E '^BAD-' | sed 's/^/  /' >&2
	tr -d '\r' < "$out/guest.ktap" | grep -qx 'BAD-RESULT pass'
}

# A file with a bzImage header that boots nothing: QEMU resets at once.
bad_truncated_kernel() {
	local tmp rc img
	img=$(find "$PFNMAP_CACHE/kernels" -name 'vmlinuz-*' -print -quit 2>/dev/null)
	[ -n "$img" ] || { echo "  no cached Debian kernel to truncate" >&2; return 1; }
	tmp=$(mktemp -d)
	head -c 2000000 "$img" > "$tmp/bzImage"
	./run_tests.sh --vm --kernel "$tmp/bzImage" --out "$tmp/out" vfio_edu_dma_test > "$tmp/log" 2>&1
	rc=$?
	grep -m1 'did not boot' "$tmp/log" | sed 's/^/  -> exit '$rc': /' >&2
	grep -q '^\[vm\] the kernel did not boot: init never started' "$tmp/log" && [ $rc = 1 ] &&
		[ "$(grep -c 'the kernel did not boot' "$tmp/log")" = 1 ]
	rc=$?
	rm -rf "$tmp"
	return $rc
}

bad_not_a_kernel() {
	local tmp rc
	tmp=$(mktemp -d)
	head -c 4096 /dev/urandom > "$tmp/bzImage"
	bad_says 2 "is not an x86 bzImage" ./run_tests.sh --vm --kernel "$tmp/bzImage"
	rc=$?
	rm -rf "$tmp"
	return $rc
}

step "bad input: no device named (real hardware)" bad_says 4 "no device named" ./run_tests.sh
step "bad input: malformed BDF to the runner" bad_says 2 "invalid BDF 'zz:99' for PFNMAP_BDF" \
	env PFNMAP_BDF=zz:99 ./run_tests.sh
step "bad input: BDF of no device" bad_says 2 "no PCI device ffff:ff:1f.7" \
	env PFNMAP_BDF=ffff:ff:1f.7 ./run_tests.sh
step "bad input: malformed VFIO_SELFTESTS_BDF (the mainline vfio selftests' variable)" \
	bad_says 2 "invalid BDF 'zz:99' for VFIO_SELFTESTS_BDF" env VFIO_SELFTESTS_BDF=zz:99 ./run_tests.sh
step "bad input: VFIO_SELFTESTS_BDF of no device" bad_says 2 "no PCI device ffff:ff:1f.7" \
	env VFIO_SELFTESTS_BDF=ffff:ff:1f.7 ./run_tests.sh

# The mainline vfio selftests' runner appends the device's BDF to the
# command line: a program takes it as the device for the role its ids fit.
# The SKIP reason says what named the device, the line before it the BDF
# (a reason holds no BDF: lib/devsel.h).
mainline_bdf_argument() {
	local out
	out=$(env -u PFNMAP_BDF -u PFNMAP_EDU_BDF -u PFNMAP_BAR_BDF -u VFIO_SELFTESTS_BDF \
		mm/pfnmap_walk_race_test -r walk_race.pte_4k.walk_vs_refault 0000:ff:1f.7 2>&1)
	echo "  mm/pfnmap_walk_race_test -r walk_race.pte_4k.walk_vs_refault 0000:ff:1f.7 -> $(echo "$out" | grep -m1 '^ok')" >&2
	echo "$out" | grep -qx 'ok 1 walk_race.pte_4k.walk_vs_refault # SKIP no PCI device at the BDF argument' &&
		echo "$out" | grep -qx '# the BAR device is 0000:ff:1f.7 (the BDF argument)'
}
step "bad input: a trailing BDF argument (mainline's run.sh) names the device" mainline_bdf_argument

step "bad input: race duration 0 (environment)" bad_says 2 "invalid PFNMAP_RACE_DURATION '0'" \
	env PFNMAP_RACE_DURATION=0 ./run_tests.sh
# A test program's usage error is a failure with its message (exit 1):
# kselftest reads 2 as XFAIL. The runner's own usage errors are exit 2.
step "bad input: negative race duration (option)" bad_says 1 "invalid --duration '-5'" \
	mm/pfnmap_walk_race_test --duration=-5
step "bad input: duration without '='" bad_says 1 "unknown option '--duration'" \
	mm/pfnmap_walk_race_test --duration 5
step "bad input: zero walkers" bad_says 2 "invalid --walkers '0'" \
	env PFNMAP_TEST_ARGS=--walkers=0 ./run_tests.sh
step "bad input: a walk that does not walk PFNMAP mappings" bad_says 1 "invalid --walk 'pagemap'" \
	mm/pfnmap_walk_race_test --walk=pagemap
step "bad input: harness option the programs refuse" bad_says 2 "is refused by" \
	env PFNMAP_TEST_ARGS=-x ./run_tests.sh
step "bad input: unknown runner option" bad_says 2 "unknown option --bogus" ./run_tests.sh --bogus
step "bad input: --cleanup with arguments" bad_says 2 "takes no arguments" ./run_tests.sh --cleanup now
step "bad input: negative walkers (environment)" bad_says 2 "invalid PFNMAP_RACE_WALKERS '-3'" \
	env PFNMAP_RACE_WALKERS=-3 ./run_tests.sh
step "bad input: --env without NAME=VALUE" bad_says 2 "--env needs NAME=VALUE" ./run_tests.sh --vm --env bad
step "bad input: unknown --devices" bad_says 2 "--devices needs" ./run_tests.sh --vm --devices gpu
step "bad input: bzImage that is not a kernel" bad_not_a_kernel
step "bad input: bzImage that boots nothing" bad_truncated_kernel
step "bad input: device without an IOMMU group (VM, intel_iommu=off)" bad_machine noiommu \
	--append intel_iommu=off
# edu and a pci-serial card behind one conventional PCI bridge share an IOMMU
# group; the serial driver (built into Debian's kernel) holds the card.
step "bad input: not root, group not viable, vfio-pci missing (VM)" bad_machine group \
	--devices ivshmem \
	--qemu-arg -device --qemu-arg pci-bridge,id=br1,chassis_nr=1,addr=0x10 \
	--qemu-arg -device --qemu-arg edu,bus=br1,addr=1,dma_mask=0xffffffffffffffff \
	--qemu-arg -device --qemu-arg pci-serial,bus=br1,addr=2
