#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Detection benchmark (not a test): run one race test N times in the VM on
# one kernel and print how often it caught the bug and how long that took:
# detection rate, median, p90 and maximum time to detect.
#
# usage: scripts/race_bench.sh [--naive] KERNEL [RUNS] [PROGRAM:GLOB]
#   KERNEL: a kernel SPEC (run_tests.sh --vm --kernel), or mutant:NAME for
#           kernel/mutants/NAME.patch built on Debian's newest source
#   PROGRAM:GLOB: the test (default pfnmap_walk_race_test:walk_race.pud_1g.*)
#   e.g. scripts/race_bench.sh mutant:pagewalk-revert 20
#        scripts/race_bench.sh mutant:type1-retry-spin 20 \
#             vfio_dma_map_race_test:dma_map_race.vfio_type1v2_iommu_bar_1g.mapper_killable
# Time to detect: the race's own "first failure X s into the race", else
# (a test the kernel crashed in) the time from the race's start to the
# crash, both by the kernel's clock on the console (PFNMAP_RACE_MARK). PFNMAP_RACE_DURATION, PFNMAP_RACE_WALKERS and
# PFNMAP_RACE_WALK, when set, go to the guest.
#
# --naive: each run has a second boot, of the same VM and kernel, with
# vfio/vfio_naive_reproducer (the public reproducer: one numa_maps reader,
# one MAP_DMA/UNMAP loop of the whole BAR, type1v2) for the same duration,
# and the figures are printed side by side. Failures per second: the catches over the seconds raced (to the
# first failure, or the whole duration), the same measure for both.
set -u
SUITE=$(cd "$(dirname "$0")/.." && pwd)
naive=
[ "${1:-}" = --naive ] && { naive=1; shift; }
spec=${1:?usage: race_bench.sh [--naive] KERNEL [RUNS] [PROGRAM:GLOB]}
runs=${2:-10} only=${3:-pfnmap_walk_race_test:walk_race.pud_1g.*}
case $spec in
mutant:*)
	patch=$SUITE/kernel/mutants/${spec#mutant:}.patch
	[ -f "$patch" ] || { echo "race_bench: no $patch" >&2; exit 2; }
	spec=$("$SUITE/scripts/build_kernel.sh" --patch "$patch" debian-backports) || exit 1 ;;
esac
# The race's start in the kernel log: crash times by the console's clock.
env=(--env PFNMAP_RACE_MARK=1)
for v in PFNMAP_RACE_DURATION PFNMAP_RACE_WALKERS PFNMAP_RACE_WALK; do
	[ -n "${!v:-}" ] && env+=(--env "$v=${!v}")
done
duration=${PFNMAP_RACE_DURATION:-20}
[ -n "$naive" ] && { make -s -C "$SUITE" all >/dev/null || { echo "race_bench: build failed: run 'make'" >&2; exit 1; }; }
out=$(mktemp -d "${TMPDIR:-/tmp}/pfnmap-bench.XXXXXX")
: > "$out/verdicts.naive"
for i in $(seq 1 "$runs"); do
	"$SUITE/run_tests.sh" --vm --kernel "$spec" --out "$out/$i" --hang-timeout 90 "${env[@]}" \
		--only "$only" "${only%%:*}" > "$out/$i.log" 2>&1
	# The same reading of a run as the kernel-mutant table's (select, detect_time).
	python3 "$SUITE/scripts/kernel_mutants.py" detect "$only" "$out/$i" | tee -a "$out/verdicts" |
		sed "s/^/run $i: /"
	[ -n "$naive" ] || continue
	# One program named keeps the runner to one boot; the guest script
	# runs the reproducer instead of it.
	"$SUITE/run_tests.sh" --vm --kernel "$spec" --out "$out/n$i" --hang-timeout 90 "${env[@]}" \
		--guest-script "$SUITE/scripts/guest/naive.sh" --guest-file "$SUITE/vfio/vfio_naive_reproducer" \
		vfio_edu_dma_test > "$out/n$i.log" 2>&1
	python3 "$SUITE/scripts/kernel_mutants.py" detect-naive "$out/n$i" | tee -a "$out/verdicts.naive" |
		sed "s/^/run $i, naive: /"
done
# summary WHAT VERDICTS: detection rate, time to detect, failures per second.
summary() {
	awk -v runs="$runs" -v what="$1" -v dur="$duration" '
	NF { total++ }
	$1 == "caught" { n++; t[n] = $2; raced += $2 }
	$1 == "passed" { raced += dur }
	END {
		# A GLOB of several tests gives a verdict per test and run.
		of = total == runs ? runs " runs" : total " results (" runs " runs)"
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (t[j] < t[i]) { x = t[i]; t[i] = t[j]; t[j] = x }
		rate = raced > 0 ? sprintf("%.3f", n / raced) : "-"
		if (n == 0) { printf "%s: caught in 0 of %s; %s failures/s over %.0f s raced\n", what, of, rate, raced; exit }
		med = (n % 2) ? t[(n + 1) / 2] : (t[n / 2] + t[n / 2 + 1]) / 2
		p90 = t[int(0.9 * n + 0.999)]
		printf "%s: caught in %d of %s; time to detect median %.1f s, p90 %.1f s, max %.1f s; %s failures/s over %.0f s raced\n",
			what, n, of, med, p90, t[n], rate, raced
	}' "$2"
}
summary "$only on $spec" "$out/verdicts"
[ -n "$naive" ] && summary "naive reproducer on $spec" "$out/verdicts.naive"
# Keep what needs a look: the runs that gave no verdict.
grep -q 'output kept' "$out/verdicts" "$out/verdicts.naive" || rm -rf "$out"
