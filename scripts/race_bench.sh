#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Detection benchmark (not a test): run a race test N times in the VM on one
# kernel and print how often it caught the bug and how long that took.
#
# usage: scripts/race_bench.sh KERNEL-SPEC [RUNS] [PROGRAM] [VARIANT]
#   e.g. scripts/race_bench.sh ../shared/kernels/bzImage-6.12.117-pagewalk-revert 10
# The race duration is the test's default unless PFNMAP_RACE_DURATION is set
# (passed to the guest).
set -u
SUITE=$(cd "$(dirname "$0")/.." && pwd)
spec=${1:?usage: race_bench.sh KERNEL-SPEC [RUNS] [PROGRAM] [VARIANT]}
runs=${2:-10} prog=${3:-pfnmap_walk_race_test} variant=${4:-pud_1g}
out=$(mktemp -d "${TMPDIR:-/tmp}/pfnmap-bench.XXXXXX")
detected=0 times=()
for i in $(seq 1 "$runs"); do
	"$SUITE/run_tests.sh" --vm --kernel "$spec" --out "$out/$i" "$prog" > "$out/$i.log" 2>&1
	# The race's own report: "race: 3.2 of 10 s, ... failures=N"
	line=$(grep -A200 "RUN .*$variant" "$out/$i.log" | grep -m1 '# race: ')
	t=$(sed -E 's/.*race: ([0-9.]+) of.*/\1/' <<<"$line")
	f=$(sed -E 's/.*failures=([0-9]+).*/\1/' <<<"$line")
	if [ -n "$line" ] && [ "${f:-0}" -gt 0 ]; then
		detected=$((detected + 1)); times+=("$t"); verdict="caught after ${t}s"
	elif grep -q 'the kernel crashed during' "$out/$i.log"; then
		detected=$((detected + 1)); verdict="kernel crashed (no race report)"
	else
		verdict="passed${line:+ (${t}s)}"
	fi
	echo "run $i: $verdict"
done
stats=$(printf '%s\n' "${times[@]}" | sort -n | awk '{ v[NR] = $1 } END {
	if (NR == 0) { print "n/a n/a"; exit }
	m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
	printf "%.1fs %.1fs\n", m, v[NR] }')
echo "$prog.$variant on $spec: detected in $detected of $runs runs; time to failure median ${stats% *}, max ${stats#* }"
rm -rf "$out"
