#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Detection benchmark (not a test): run a race test N times in the VM on one
# kernel and print how often it caught the bug and how long that took.
#
# usage: scripts/race_bench.sh KERNEL-SPEC [RUNS] [PROGRAM] [TEST]
#   e.g. scripts/race_bench.sh ../shared/kernels/bzImage-6.12.117-pagewalk-revert 10
#        scripts/race_bench.sh debian-sid 10 vfio_dma_map_race_test vfio_type1v2_iommu_bar_1g.map_under_walks
# TEST is a harness variant name (default: the 1 GiB page-walk race); only
# that variant runs. PFNMAP_RACE_DURATION and PFNMAP_RACE_WALKERS, when set,
# are passed to the guest.
# The race duration is the test's default unless PFNMAP_RACE_DURATION is set
# (passed to the guest).
set -u
SUITE=$(cd "$(dirname "$0")/.." && pwd)
spec=${1:?usage: race_bench.sh KERNEL-SPEC [RUNS] [PROGRAM] [VARIANT]}
runs=${2:-10} prog=${3:-pfnmap_walk_race_test} variant=${4:-pud_1g}
env=(--env "PFNMAP_TEST_ARGS=-v$variant")
for v in PFNMAP_RACE_DURATION PFNMAP_RACE_WALKERS; do
	[ -n "${!v:-}" ] && env+=(--env "$v=${!v}")
done
out=$(mktemp -d "${TMPDIR:-/tmp}/pfnmap-bench.XXXXXX")
detected=0 times=()
for i in $(seq 1 "$runs"); do
	"$SUITE/run_tests.sh" --vm --kernel "$spec" --out "$out/$i" "${env[@]}" "$prog" > "$out/$i.log" 2>&1
	# The test's own report, within its block: "first failure 1.2 s into the race"
	block=$(awk -v v=".$variant." '/#  RUN / { on = index($0, v) > 0 } on' "$out/$i.log")
	t=$(sed -n -E 's/.*first failure ([0-9.]+) s into the race.*/\1/p' <<<"$block" | head -n1)
	if [ -n "$t" ]; then
		detected=$((detected + 1)); times+=("$t"); verdict="caught after ${t}s"
	elif grep -q 'the kernel crashed during' "$out/$i.log"; then
		detected=$((detected + 1)); verdict="kernel crashed (no race report)"
	elif [ -z "$block" ] || ! grep -q "ok [0-9]* selftests: pfnmap/" "$out/$i.log"; then
		# Keep what happened: it is worth a look.
		keep=${PFNMAP_BENCH_KEEP:-$SUITE/output/bench-odd}/run-$(date +%s)-$i
		mkdir -p "$keep" && cp -r "$out/$i" "$out/$i.log" "$keep/"
		verdict="did not finish: $(grep -m1 -E "run_tests.sh|\[vm\] .*(crash|QEMU|responding)" "$out/$i.log") (kept in $keep)"
	else
		verdict="passed"
	fi
	echo "run $i: $verdict"
done
stats="n/a n/a"
[ ${#times[@]} -gt 0 ] && stats=$(printf '%s\n' "${times[@]}" | sort -n | awk '{ v[NR] = $1 } END {
	if (NR == 0) { print "n/a n/a"; exit }
	m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
	printf "%.1fs %.1fs\n", m, v[NR] }')
echo "$prog $variant on $spec: detected in $detected of $runs runs; time to failure median ${stats% *}, max ${stats#* }"
rm -rf "$out"
