#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of scripts/check.d/badinput.sh (POSIX sh, busybox): machine
# conditions the suite must refuse with one line and exit 4, leaving every
# device as it was. PFNMAP_BAD (from --env) picks the machine:
#   group    an edu device behind a PCI bridge with a pci-serial card that
#            the host's serial driver holds (one IOMMU group), plus ivshmem:
#            not root, a group that is not viable, vfio-pci missing
#   noiommu  booted with intel_iommu=off: a device without an IOMMU group
# Prints "BAD-OK ..." / "BAD-FAIL ..." per case, then "BAD-RESULT pass|fail".
cd /pfnmap || exit 1
fail=0

drivers() { for d in /sys/bus/pci/devices/*; do l=$(readlink "$d/driver"); echo "${d##*/}=${l##*/}:$(cat "$d/driver_override")"; done; }

# expect NAME WANT_RC MESSAGE_PART COMMAND...: one line, that exit code, and no device changed.
expect()
{
	name=$1 want=$2 part=$3; shift 3
	before=$(drivers)
	out=$("$@" 2>&1); rc=$?
	lines=$(printf '%s\n' "$out" | wc -l)
	last=$(printf '%s\n' "$out" | tail -n1)
	if [ "$rc" = "$want" ] && [ "$lines" = 1 ] && [ "${last#*"$part"}" != "$last" ] && [ "$(drivers)" = "$before" ]; then
		echo "BAD-OK $name -> exit $rc: $last"
	else
		echo "BAD-FAIL $name -> exit $rc (want $want, 1 line with '$part', no device changed): $(printf '%s' "$out" | tail -n3 | tr '\n' '|')"
		fail=1
	fi
}

# A program named a device it cannot use: SKIP with the reason, the device given back.
expect_skip()
{
	name=$1 part=$2; shift 2
	before=$(drivers)
	out=$("$@" 2>&1); rc=$?
	# The harness exits 0 when every test it ran was skipped.
	if { [ "$rc" = 0 ] || [ "$rc" = 4 ]; } && printf '%s\n' "$out" | grep -q "SKIP.*$part" && [ "$(drivers)" = "$before" ]; then
		echo "BAD-OK $name -> exit $rc: $(printf '%s\n' "$out" | grep -m1 "SKIP.*$part")"
	else
		echo "BAD-FAIL $name -> exit $rc (want a SKIP '$part', device given back): $(printf '%s\n' "$out" | grep -m2 -E 'SKIP|not ok|FAIL' | tr '\n' '|')"
		fail=1
	fi
}

edu=${PFNMAP_EDU_BDF:-} bar=${PFNMAP_BAR_BDF:-}
case ${PFNMAP_BAD:-} in
group)
	serial=""
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x1b36:0x0002 ] && serial=${d##*/}
	done
	echo "# edu $edu, pci-serial $serial (driver $(readlink "/sys/bus/pci/devices/$serial/driver" | sed 's|.*/||')), ivshmem $bar"
	g1=$(readlink "/sys/bus/pci/devices/$edu/iommu_group"); g2=$(readlink "/sys/bus/pci/devices/$serial/iommu_group")
	[ -n "$g1" ] && [ "${g1##*/}" = "${g2##*/}" ] || { echo "BAD-FAIL edu and pci-serial are not in one group ($g1, $g2)"; fail=1; }

	# Not root: busybox su needs the user, and a readable root directory.
	chmod 755 /
	echo "nobody:x:65534:65534:nobody:/:/bin/sh" >> /etc/passwd
	expect "not root" 4 "needs root" \
		su -s /bin/sh nobody -c "cd /pfnmap && PFNMAP_BAR_BDF=$bar ./run_tests.sh pfnmap_walk_race_test"

	expect "group with a device bound to a host driver" 4 "is not viable: $serial is bound to serial" \
		env PFNMAP_BAR_BDF= ./run_tests.sh vfio_edu_dma_test
	expect_skip "the program on that group" "is not viable" \
		vfio/vfio_edu_dma_test -r edu_dma.vfio_type1v2_iommu_MEM_ANON.roundtrip_polled

	rmmod vfio_pci vfio_pci_core 2>/dev/null
	expect "vfio-pci missing" 4 "vfio-pci is not available" \
		env PFNMAP_EDU_BDF= ./run_tests.sh pfnmap_walk_race_test
	expect_skip "the program without vfio-pci" "vfio-pci is not loaded" \
		env PFNMAP_EDU_BDF= mm/pfnmap_walk_race_test -r walk_race.pte_4k.walk_vs_refault
	;;
noiommu)
	expect "device without an IOMMU group" 4 "$edu has no IOMMU group" ./run_tests.sh vfio_edu_dma_test
	expect_skip "the program on that device" "has no IOMMU group" \
		vfio/vfio_edu_dma_test -r edu_dma.vfio_type1v2_iommu_MEM_ANON.roundtrip_polled
	;;
*)	echo "BAD-FAIL PFNMAP_BAD='${PFNMAP_BAD:-}': expected group or noiommu"; fail=1 ;;
esac
[ $fail = 0 ] && echo "BAD-RESULT pass" || echo "BAD-RESULT fail"
