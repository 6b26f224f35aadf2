#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# QEMU side by side (a benchmark, not a test): for each QEMU (vm/qemu.sh:
# host, backports, or a path), BOOTS short VM runs (one small program) and
# one whole-suite run, on one kernel, one VM at a time. Prints a table: boot
# crashes, the short run's wall time (boot, one program, power-off), the
# whole suite's time and verdicts, and the race throughput of the suite run
# (walks and refaults per second in the PUD page-walk race, MAP_DMA calls
# per second in the edu_bar0 race, which runs its whole duration).
#
# usage: scripts/qemu_bench.sh [--kernel SPEC] [--boots N] [--tcg-thread single|multi] QEMU...
#   e.g. scripts/qemu_bench.sh --boots 20 host backports
#   --tcg-thread: vm/run.sh's, for every run of the table (default multi)
set -u
SUITE=$(cd "$(dirname "$0")/.." && pwd)
export PFNMAP_CACHE=${PFNMAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pfnmap}
kernel=debian-sid boots=10 qemus=() tcg=()
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernel=$2; shift 2 ;;
	--boots)  boots=$2; shift 2 ;;
	--tcg-thread) tcg=(--tcg-thread "$2"); shift 2 ;;
	-*)       echo "qemu_bench: unknown option $1" >&2; exit 2 ;;
	*)        qemus+=("$1"); shift ;;
	esac
done
[ ${#qemus[@]} -gt 0 ] || { echo "usage: qemu_bench.sh [--kernel SPEC] [--boots N] [--tcg-thread single|multi] QEMU..." >&2; exit 2; }
out=$(mktemp -d "${TMPDIR:-/tmp}/pfnmap-qemu-bench.XXXXXX")
echo "qemu_bench: kernel $kernel${tcg:+, TCG thread=${tcg[1]}}, $boots short runs and one suite run per QEMU; output in $out" >&2

row() {
	local q=$1 dir=$out/$1 i t0 times=() crashes=0 bootcrash=0 ver suite_t verdict
	dir=$out/${q//\//_}
	mkdir -p "$dir"
	ver=$(. "$SUITE/vm/qemu.sh"; qemu_resolve "$q" >/dev/null 2>&1 && "$QEMU" "${QEMU_ARGS[@]}" -version 2>/dev/null | head -n1 | sed 's/^QEMU emulator version //')
	for i in $(seq 1 "$boots"); do
		t0=$EPOCHREALTIME
		"$SUITE/run_tests.sh" --vm --qemu "$q" "${tcg[@]}" --kernel "$kernel" --out "$dir/boot$i" vfio_dmabuf_test > "$dir/boot$i.log" 2>&1
		times+=("$(awk "BEGIN { print $EPOCHREALTIME - $t0 }")")
		grep -q 'crashed while booting' "$dir/boot$i.log" && bootcrash=$((bootcrash + 1))
		grep -q 'the kernel crashed during\|stopped responding' "$dir/boot$i.log" && crashes=$((crashes + 1))
	done
	t0=$EPOCHREALTIME
	"$SUITE/run_tests.sh" --vm --qemu "$q" "${tcg[@]}" --kernel "$kernel" --out "$dir/suite" > "$dir/suite.log" 2>&1
	suite_t=$(awk "BEGIN { print $EPOCHREALTIME - $t0 }")
	verdict=$(grep -m1 '^expected:' "$dir/suite.log" | sed 's/^expected: //')
	/usr/bin/python3 - "$q" "$ver" "$bootcrash" "$crashes" "$suite_t" "$verdict" "$dir/suite/results.json" "${times[@]}" <<'PY'
import json, statistics, sys
q, ver, bootcrash, crashes, suite_t, verdict, rj = sys.argv[1:8]
times = sorted(float(t) for t in sys.argv[8:])
walks = refaults = maps = "-"
try:
    doc = json.load(open(rj))
    for r in doc["results"]:
        race = r.get("race") or {}
        if r["subtest"] == "walk_race.pud_1g.walk_vs_refault" and race.get("elapsed_s"):
            e = race["elapsed_s"]
            walks = f"{sum(race.get('walks', {}).values()) / e:.0f}"
            refaults = f"{race.get('faults_in_the_sweeps_refaults', 0) / e:.0f}"
        if r["subtest"] == "dma_map_race.vfio_type1v2_iommu_edu_bar0.map_under_walks" and race.get("elapsed_s"):
            maps = f"{race.get('dma_map', {}).get('attempts', 0) / race['elapsed_s']:.0f}"
except (OSError, ValueError, KeyError):
    pass
print(f"| {q} ({ver}) | {len(times)} | {bootcrash} | {crashes} | {statistics.median(times):.1f} s, max {times[-1]:.1f} s "
      f"| {float(suite_t):.0f} s | {verdict} | {walks} | {refaults} | {maps} |")
PY
}

echo "| QEMU | short runs | boot crashes | other crashes/hangs | short run (median, max) | suite | suite verdict | walks/s | refaults/s | MAP_DMA/s |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for q in "${qemus[@]}"; do
	row "$q"
done
