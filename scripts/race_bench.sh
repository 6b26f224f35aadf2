#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Detection benchmark (not a test): run one race test N times in the VM on
# one kernel and print how often it caught the bug and how long that took:
# detection rate, median, p90 and maximum time to detect.
#
# usage: scripts/race_bench.sh KERNEL [RUNS] [PROGRAM:GLOB]
#   KERNEL: a kernel SPEC (run_tests.sh --vm --kernel), or mutant:NAME for
#           kernel/mutants/NAME.patch built on Debian's newest source
#   PROGRAM:GLOB: the test (default pfnmap_walk_race_test:walk_race.pud_1g.*)
#   e.g. scripts/race_bench.sh mutant:pagewalk-revert 20
#        scripts/race_bench.sh mutant:type1-retry-spin 20 \
#             vfio_dma_map_race_test:dma_map_race.vfio_type1v2_iommu_bar_1g.mapper_killable
# Time to detect: the race's own "first failure X s into the race", else
# (a test the kernel crashed in) the time from the test's start to the
# crash on the console. PFNMAP_RACE_DURATION, PFNMAP_RACE_WALKERS and
# PFNMAP_RACE_WALK, when set, go to the guest.
set -u
SUITE=$(cd "$(dirname "$0")/.." && pwd)
spec=${1:?usage: race_bench.sh KERNEL [RUNS] [PROGRAM:GLOB]}
runs=${2:-10} only=${3:-pfnmap_walk_race_test:walk_race.pud_1g.*}
case $spec in
mutant:*)
	patch=$SUITE/kernel/mutants/${spec#mutant:}.patch
	[ -f "$patch" ] || { echo "race_bench: no $patch" >&2; exit 2; }
	spec=$("$SUITE/scripts/build_kernel.sh" --patch "$patch" debian-backports) || exit 1 ;;
esac
env=()
for v in PFNMAP_RACE_DURATION PFNMAP_RACE_WALKERS PFNMAP_RACE_WALK; do
	[ -n "${!v:-}" ] && env+=(--env "$v=${!v}")
done
out=$(mktemp -d "${TMPDIR:-/tmp}/pfnmap-bench.XXXXXX")
for i in $(seq 1 "$runs"); do
	"$SUITE/run_tests.sh" --vm --kernel "$spec" --out "$out/$i" --hang-timeout 90 "${env[@]}" \
		--only "$only" "${only%%:*}" > "$out/$i.log" 2>&1
	# The same reading of a run as the kernel-mutant table's (select, detect_time).
	python3 "$SUITE/scripts/kernel_mutants.py" detect "$only" "$out/$i"
done > "$out/verdicts"
nl -w2 -s': ' "$out/verdicts" | sed 's/^/run /'
awk -v runs="$runs" -v what="$only on $spec" '
	$1 == "caught" { n++; t[n] = $2 }
	END {
		# sort the times
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (t[j] < t[i]) { x = t[i]; t[i] = t[j]; t[j] = x }
		if (n == 0) { printf "%s: caught in 0 of %d runs\n", what, runs; exit }
		med = (n % 2) ? t[(n + 1) / 2] : (t[n / 2] + t[n / 2 + 1]) / 2
		p90 = t[int(0.9 * n + 0.999)]
		printf "%s: caught in %d of %d runs; time to detect median %.1f s, p90 %.1f s, max %.1f s\n", what, n, runs, med, p90, t[n]
	}' "$out/verdicts"
# Keep what needs a look: the runs that gave no verdict.
grep -q 'output kept' "$out/verdicts" || rm -rf "$out"
