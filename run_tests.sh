#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run the pfnmap selftests and print KTAP.
#
#   ./run_tests.sh [TEST...]           on this machine, with the devices named
#                                      by PFNMAP_EDU_BDF / PFNMAP_BAR_BDF /
#                                      PFNMAP_BDF (nothing else is touched;
#                                      PFNMAP_BDF=none: no device, tests SKIP)
#   ./run_tests.sh --vm [--kernel SPEC] [--modules DIR] [--expect FILE] [TEST...]
#                                      in a QEMU VM with emulated devices
#                                      (those of vm/devices; --devices LIST
#                                      picks some; vm/run.sh has every option)
#   ./run_tests.sh --list              the test programs
#   ./run_tests.sh --cleanup           undo what a killed run left behind
#
# TEST is a program name (vfio_edu_dma_test) or a sub-collection (vfio, mm).
# PFNMAP_TEST_ARGS is passed to every program (harness filters such as
# -vpud_1g, race options such as --duration=30).
# Exit: 0 no test failed, 1 a test failed, 2 bad usage, 4 a missing
# precondition (root, IOMMU, vfio-pci, a viable IOMMU group), with one line
# saying which.
# POSIX sh: the VM runs it under busybox.

cd "$(dirname "$0")" || exit 2

die() { echo "run_tests.sh: $2" >&2; exit "$1"; }

list_programs()
{
	for p in vfio/*_test mm/*_test; do
		[ -x "$p" ] && echo "$p"
	done
}

# --- The record of changes to the system (format: lib/state.h) ---
# Recorded and undone by the library's own code (lib/state.c, lib/recover.c)
# through its tool: one implementation for the programs and the runner.
STATE_DIR=${PFNMAP_STATE_DIR:-/run/pfnmap/state}
STATE_TOOL=./vfio/pfnmap_state
state_self=""

# Start time of a live (not zombie) process, empty when it is gone.
proc_start()
{
	_s=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	# comm may hold spaces and parentheses: the fields resume after the last ") ".
	_s=${_s##*") "}
	# shellcheck disable=SC2086
	set -- $_s
	case $1 in Z|X) return 0 ;; esac
	shift 19
	echo "$1"
}

# Record a change of this shell before making it.
state_add()
{
	"$STATE_TOOL" record $$ "$1" || return 1
	state_self=$STATE_DIR/$$-$(proc_start $$)
}

# Undo this shell's own record (what it says goes to stdout).
state_undo_self()
{
	[ -z "$state_self" ] || "$STATE_TOOL" undo $$ "this run"
}

pci_driver()
{
	_l=$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null) && echo "${_l##*/}"
}

# Kill what is left of a program run (a test child outlives the harness
# killed on timeout: it runs in a process group of its own).
kill_run()
{
	_pids=$(grep -l "PFNMAP_RUN_ID=$1" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3)
	[ -n "$_pids" ] || return 0
	# shellcheck disable=SC2086
	kill -9 $_pids 2>/dev/null
	_i=0
	while [ $_i -lt 50 ]; do
		_alive=""
		for _p in $_pids; do [ -n "$(proc_start "$_p")" ] && _alive="$_alive $_p"; done
		[ -n "$_alive" ] || return 0
		sleep 0.1; _i=$((_i + 1))
	done
	echo "pid(s)$_alive did not die: stuck in the kernel"
}

# Undo the records of dead processes, newest first (what it says goes to
# stdout); returns non-zero when a change stays undone.
state_cleanup()
{
	[ -d "$STATE_DIR" ] || return 0
	"$STATE_TOOL" recover $$
}

case ${1:-} in
--vm)	shift; exec bash vm/run.sh "$@" ;;
--list)	list_programs; exit 0 ;;
--cleanup)
	[ $# = 1 ] || die 2 "--cleanup takes no arguments"
	[ -x "$STATE_TOOL" ] || die 2 "no $STATE_TOOL: run 'make' first"
	log=$(mktemp "${TMPDIR:-/tmp}/pfnmap-cleanup.XXXXXX") || die 1 "mktemp failed"
	state_cleanup > "$log"
	left=$?
	sed 's/^/run_tests.sh --cleanup: /' "$log"
	rm -f "$log"
	if [ "$left" != 0 ]; then
		echo "run_tests.sh --cleanup: what is above could not be undone (records in $STATE_DIR)"
		exit 1
	fi
	echo "run_tests.sh --cleanup: nothing (more) to undo"
	exit 0 ;;
-h|--help)
	sed -n '3,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
-*)	die 2 "unknown option $1 (see --help)" ;;
esac

PFNMAP_TEST_ARGS=${PFNMAP_TEST_ARGS:-}
timeout=$(sed -n 's/^timeout=//p' settings 2>/dev/null)
timeout=${timeout:-300}
# As kselftest's runner (run_kselftest.sh -o, or the variable itself).
timeout=${kselftest_override_timeout:-$timeout}
# Seconds a program's output may stay open after it exited (see below).
held_grace=5

selected=""
for p in $(list_programs); do
	name=${p##*/}; coll=${p%%/*}
	if [ $# -eq 0 ]; then
		selected="$selected $p"
		continue
	fi
	for want in "$@"; do
		if [ "$want" = "$name" ] || [ "$want" = "$coll" ] || [ "$want" = "$p" ]; then
			selected="$selected $p"
			break
		fi
	done
done
for want in "$@"; do
	case " $selected " in
	*"/$want "*|*" $want/"*|*" $want "*) ;;
	*) die 2 "no test program '$want' (built? see --list)" ;;
	esac
done
[ -n "$selected" ] || die 2 "no test programs built: run 'make' first"
[ -x "$STATE_TOOL" ] || die 2 "no $STATE_TOOL (the record of changes): run 'make' first"

# --- Input: each program checks its options and environment (BDFs, race
# durations) when asked to list its tests; a refusal is a usage error. ---
no_device=0
if [ "${PFNMAP_BDF:-}" = none ]; then
	no_device=1
	unset PFNMAP_BDF
fi
errf=$(mktemp "${TMPDIR:-/tmp}/pfnmap-args.XXXXXX") || die 1 "mktemp failed"
for p in $selected; do
	# shellcheck disable=SC2086
	PFNMAP_STATE_DIR=/nonexistent ./$p $PFNMAP_TEST_ARGS -l > /dev/null 2> "$errf"
	rc=$?
	# A program's own refusal is one line (and exit 1: kselftest reads 2 as
	# XFAIL); the harness answers an option it does not know with its usage.
	case $rc in
	0|4) ;;
	1) if [ "$(wc -l < "$errf")" = 1 ]; then
		msg=$(cat "$errf"); rm -f "$errf"; die 2 "${msg#./}"
	   fi
	   rm -f "$errf"; die 2 "PFNMAP_TEST_ARGS '$PFNMAP_TEST_ARGS' is refused by ${p##*/} (see ./$p -h)" ;;
	*) rm -f "$errf"; die 2 "PFNMAP_TEST_ARGS '$PFNMAP_TEST_ARGS' is refused by ${p##*/} (see ./$p -h)" ;;
	esac
done
rm -f "$errf"

bdf_norm()
{
	# shellcheck disable=SC2046
	set -- $(echo "$1" | tr 'A-F:.' 'a-f  ')
	[ $# = 3 ] && set -- 0 "$@"
	printf '%04x:%02x:%02x.%u\n' "0x$1" "0x$2" "0x$3" "$4"
}

# The named devices; programs validated the syntax above.
bdfs=""
# (VFIO_SELFTESTS_BDF and bare BDF arguments: the mainline vfio selftests' way.)
for v in "${PFNMAP_EDU_BDF:-}" "${PFNMAP_BAR_BDF:-}" "${PFNMAP_BDF:-}" "${VFIO_SELFTESTS_BDF:-}" \
	 $(for a in $PFNMAP_TEST_ARGS; do case $a in
		--edu=*|--bar=*|--device=*) echo "${a#*=}" ;;
		[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]:[0-9a-fA-F][0-9a-fA-F]:[0-9a-fA-F][0-9a-fA-F].[0-7]) echo "$a" ;;
	   esac; done); do
	[ -n "$v" ] || continue
	b=$(bdf_norm "$v")
	[ -e "/sys/bus/pci/devices/$b" ] || die 2 "no PCI device $b (lspci -D lists this machine's devices)"
	case " $bdfs " in *" $b "*) ;; *) bdfs="$bdfs $b" ;; esac
done

# --- Preconditions, each refused with one line and exit 4. Nothing has been
# changed yet, and only the named devices will be. ---
if [ -z "$bdfs" ] && [ $no_device = 0 ]; then
	die 4 "no device named: set PFNMAP_BDF=BDF (a device with a memory BAR), PFNMAP_EDU_BDF or PFNMAP_BAR_BDF (or VFIO_SELFTESTS_BDF); only named devices are touched (PFNMAP_BDF=none: run without one, tests SKIP)"
fi
if [ -n "$bdfs" ]; then
	[ "$(id -u)" = 0 ] || die 4 "needs root: the tests bind the named devices to vfio-pci and open /dev/vfio"
	for b in $bdfs; do
		g=$(readlink "/sys/bus/pci/devices/$b/iommu_group" 2>/dev/null) ||
			die 4 "$b has no IOMMU group: the IOMMU is off or absent (enable VT-d/AMD-Vi in the firmware, boot with intel_iommu=on or amd_iommu=on)"
		g=${g##*/}
		# vfio accepts a group only when no other device in it is driven by the host.
		for o in /sys/kernel/iommu_groups/"$g"/devices/*; do
			o=${o##*/}
			[ "$o" = "$b" ] && continue
			drv=$(pci_driver "$o")
			case $drv in
			""|vfio-pci|pci-stub|pcieport) ;;
			*) die 4 "IOMMU group $g of $b is not viable: $o is bound to $drv (unbind it first: nothing is unbound that you did not name)" ;;
			esac
		done
	done
fi

# Leftovers of a killed earlier run go before this run changes anything.
if [ -d "$STATE_DIR" ] && [ "$(id -u)" = 0 ]; then
	state_cleanup > "${TMPDIR:-/tmp}/pfnmap-cleanup.$$"
	[ -s "${TMPDIR:-/tmp}/pfnmap-cleanup.$$" ] &&
		sed 's/^/run_tests.sh: an earlier run was killed: /' "${TMPDIR:-/tmp}/pfnmap-cleanup.$$" >&2
	rm -f "${TMPDIR:-/tmp}/pfnmap-cleanup.$$"
fi

in_list() { case " $2 " in *" $1 "*) return 0 ;; esac; return 1; }

# vfio-pci (and type1) as modules: loaded here, recorded before, unloaded at the end.
vfio_load()
{
	[ -d /sys/bus/pci/drivers/vfio-pci ] && return 0
	command -v modprobe > /dev/null || die 4 "vfio-pci is not loaded, and there is no modprobe to load it"
	before=$(cut -d' ' -f1 /proc/modules 2>/dev/null | tr '\n' ' ')
	recorded=""
	for m in $(modprobe --show-depends vfio-pci vfio_iommu_type1 2>/dev/null |
		   sed -n 's|^insmod .*/\([^/]*\)\.ko.*|\1|p' | tr - _) vfio_pci vfio_iommu_type1; do
		in_list "$m" "$before $recorded" && continue
		state_add "rmmod $m" || die 4 "cannot record the module load in $STATE_DIR"
		recorded="$recorded $m"
	done
	out=$(modprobe vfio-pci 2>&1)
	rc=$?
	modprobe vfio_iommu_type1 > /dev/null 2>&1
	# Whatever else modprobe pulled in (soft dependencies) is recorded now.
	for m in $(cut -d' ' -f1 /proc/modules 2>/dev/null); do
		in_list "$m" "$before $recorded" || { state_add "rmmod $m"; recorded="$recorded $m"; }
	done
	if [ $rc != 0 ] || [ ! -d /sys/bus/pci/drivers/vfio-pci ]; then
		state_undo_self > /dev/null
		die 4 "vfio-pci is not available: modprobe vfio-pci: $(echo "${out:-loaded, but no driver registered}" | tail -n1) (a kernel without CONFIG_VFIO_PCI?)"
	fi
}
if [ -n "$bdfs" ]; then
	vfio_load
	[ -e /dev/vfio/vfio ] || [ -e /dev/iommu ] ||
		die 4 "neither /dev/vfio/vfio nor /dev/iommu: the kernel has no VFIO container and no iommufd"
fi

run_id=""
# shellcheck disable=SC2317 # called from the traps
finish()
{
	[ -z "${counts:-}" ] || : > "$counts.rc.done"
	[ -z "$run_id" ] || kill_run "$run_id" | sed 's/^/# state: /'
	state_cleanup | sed 's/^/# state: /'
	state_undo_self | sed 's/^/# state: /'
}
trap 'finish; exit 130' INT
trap 'finish; exit 143' TERM HUP

set -- $selected
echo "TAP version 13"
echo "1..$#"
n=0 failed=0
counts=$(mktemp "${TMPDIR:-/tmp}/pfnmap-counts.XXXXXX")
for p in "$@"; do
	n=$((n + 1))
	title="selftests: pfnmap/${p%%/*}: ${p##*/}"
	echo "# $title"
	# The trailing dot keeps run 1 from matching run 10.
	run_id=$$.$n.
	# The program's exit code travels through a file: the pipe eats it.
	rcfile="$counts.rc"
	echo 1 > "$rcfile"
	rm -f "$rcfile.done" "$rcfile.timeout" "$rcfile.exited" "$rcfile.held"
	# After a kernel crash the VM runner resumes a program with the tests
	# that did not get to run: resume/PROGRAM lists them (fixture.variant.test).
	resume=""
	[ -f "resume/${p##*/}" ] && resume=$(sed 's/^/-r /' "resume/${p##*/}" | tr '\n' ' ')
	# In the background, so a signal to this shell is handled at once.
	# shellcheck disable=SC2086
	{ PFNMAP_RUN_ID=$run_id "./$p" $PFNMAP_TEST_ARGS $resume 2>&1; echo $? > "$rcfile"; : > "$rcfile.exited"; } | while IFS= read -r line; do
		echo "# $line"
		case $line in
		"ok "*"# SKIP"*) echo s >> "$counts" ;;
		"ok "*)          echo p >> "$counts" ;;
		"not ok "*)      echo f >> "$counts" ;;
		esac
	done &
	pipe=$!
	# The timeout kills every process of the run: timeout(1) would reach the
	# harness only, and the test child it forked (a process group of its
	# own) would race on, holding the pipe open and the device bound.
	# A program that has exited while a process it left still holds the
	# pipe is over too: after a grace of $held_grace s the reader is stopped
	# and kill_run below ends that process, or says it is stuck in the
	# kernel (the bugs these tests look for), which no timeout would end.
	(
		i=0 e=0
		while [ $i -lt "$timeout" ] && [ ! -e "$rcfile.done" ]; do
			sleep 1; i=$((i + 1))
			[ -e "$rcfile.exited" ] || continue
			e=$((e + 1))
			[ $e -ge "$held_grace" ] || continue
			: > "$rcfile.held"; kill "$pipe" 2>/dev/null
			break
		done
		[ -e "$rcfile.done" ] || [ -e "$rcfile.held" ] || { : > "$rcfile.timeout"; kill_run "$run_id" > /dev/null; }
	) &
	dog=$!
	wait $pipe 2>/dev/null
	: > "$rcfile.done"
	wait $dog
	[ -e "$rcfile.held" ] && echo "# ${p##*/}: exited with $(cat "$rcfile"), but what it left kept its output open for $held_grace s: ending it"
	# What a killed or timed-out program left: its processes, then its changes.
	{ kill_run "$run_id"; state_cleanup; } | sed 's/^/# state: /'
	run_id=""
	rc=$(cat "$rcfile")
	[ -e "$rcfile.timeout" ] && rc=124
	case $rc in
	0)   echo "ok $n $title" ;;
	4)   echo "ok $n $title # SKIP" ;;
	124) echo "not ok $n $title # TIMEOUT $timeout seconds"; failed=1; echo f >> "$counts" ;;
	*)   echo "not ok $n $title # exit=$rc"; failed=1 ;;
	esac
done
state_undo_self | sed 's/^/# state: /'
echo "pfnmap: $(grep -c p "$counts") passed, $(grep -c f "$counts") failed, $(grep -c s "$counts") skipped"
rm -f "$counts" "$counts.rc" "$counts.rc.done" "$counts.rc.timeout" "$counts.rc.exited" "$counts.rc.held"
exit $failed
