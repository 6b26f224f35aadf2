#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run the pfnmap selftests and print KTAP.
#
#   ./run_tests.sh [TEST...]           on this machine, with the devices named
#                                      by PFNMAP_EDU_BDF / PFNMAP_BAR_BDF /
#                                      PFNMAP_BDF (nothing else is touched)
#   ./run_tests.sh --vm [--kernel SPEC] [--modules DIR] [--expect FILE] [TEST...]
#                                      in a QEMU VM with emulated devices
#   ./run_tests.sh --list              the test programs
#
# TEST is a program name (vfio_edu_dma_test) or a sub-collection (vfio, mm).
# PFNMAP_TEST_ARGS is passed to every program (harness filters such as
# -vpud_1g, race options such as --duration=30).
# POSIX sh: the VM runs it under busybox.

cd "$(dirname "$0")" || exit 2

list_programs()
{
	for p in vfio/*_test mm/*_test; do
		[ -x "$p" ] && echo "$p"
	done
}

case ${1:-} in
--vm)	shift; exec bash vm/run.sh "$@" ;;
--list)	list_programs; exit 0 ;;
-h|--help)
	sed -n '3,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
-*)	echo "run_tests.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
esac

PFNMAP_TEST_ARGS=${PFNMAP_TEST_ARGS:-}
timeout=$(sed -n 's/^timeout=//p' settings 2>/dev/null)
timeout=${timeout:-300}

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
	*) echo "run_tests.sh: no test program '$want' (built? see --list)" >&2; exit 2 ;;
	esac
done
if [ -z "$selected" ]; then
	echo "run_tests.sh: no test programs built: run 'make' first" >&2
	exit 2
fi

set -- $selected
echo "TAP version 13"
echo "1..$#"
n=0 failed=0
counts=$(mktemp "${TMPDIR:-/tmp}/pfnmap-counts.XXXXXX")
for p in "$@"; do
	n=$((n + 1))
	title="selftests: pfnmap/${p%%/*}: ${p##*/}"
	echo "# $title"
	# The program's exit code travels through a file: the pipe eats it.
	rcfile="$counts.rc"
	# shellcheck disable=SC2086
	{ timeout "$timeout" "./$p" $PFNMAP_TEST_ARGS 2>&1; echo $? > "$rcfile"; } | while IFS= read -r line; do
		echo "# $line"
		case $line in
		"ok "*"# SKIP"*) echo s >> "$counts" ;;
		"ok "*)          echo p >> "$counts" ;;
		"not ok "*)      echo f >> "$counts" ;;
		esac
	done
	rc=$(cat "$rcfile")
	case $rc in
	0)   echo "ok $n $title" ;;
	4)   echo "ok $n $title # SKIP" ;;
	124) echo "not ok $n $title # TIMEOUT $timeout seconds"; failed=1; echo f >> "$counts" ;;
	*)   echo "not ok $n $title # exit=$rc"; failed=1 ;;
	esac
done
echo "pfnmap: $(grep -c p "$counts") passed, $(grep -c f "$counts") failed, $(grep -c s "$counts") skipped"
rm -f "$counts" "$counts.rc"
exit $failed
