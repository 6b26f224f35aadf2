#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# No false failures (a measurement, not a test): run the whole suite N
# times in the VM on one kernel, each run compared with that kernel's
# expectations, and print per run and in all: results, unexpected ones,
# known bugs caught, boots, time.
#
# usage: scripts/repeat_runs.sh KERNEL-SPEC RUNS [--expect FILE] [TEST...]
#   e.g. scripts/repeat_runs.sh debian-6.12 20
# The runs' output stays in output/repeat-KERNEL/N (results.json et al.).
set -u
SUITE=$(cd "$(dirname "$0")/.." && pwd)
spec=${1:?usage: repeat_runs.sh KERNEL-SPEC RUNS [--expect FILE] [TEST...]}
runs=${2:?usage: repeat_runs.sh KERNEL-SPEC RUNS [--expect FILE] [TEST...]}
shift 2
out=$SUITE/output/repeat-$(basename "$spec")
rm -rf "$out" && mkdir -p "$out"
for i in $(seq 1 "$runs"); do
	t0=$(date +%s)
	"$SUITE/run_tests.sh" --vm --kernel "$spec" --out "$out/$i" "$@" > "$out/$i.log" 2>&1
	t=$(($(date +%s) - t0))
	line=$(grep -m1 '^expected: ' "$out/$i/expectations.txt" 2>/dev/null || echo "expected: no comparison")
	boots=$(find "$out/$i" -name 'console.*.log' | wc -l)
	echo "run $i: ${t} s, $boots boot(s): ${line#expected: }"
	grep -E '^  UNEXPECTED' "$out/$i/expectations.txt" 2>/dev/null | cut -c1-240
done | tee "$out/summary"
awk -v runs="$runs" -v spec="$spec" '
	/^run [0-9]+: / {
		n++; t[n] = $3 + 0; boots += $5
		# "N results as expected, K known kernel bugs, U unexpected"
		if (match($0, /[0-9]+ results as expected/)) {
			split(substr($0, RSTART), w, " "); ok += w[1]; known += w[5]; unexp += w[9]
			if (w[9] + 0 > 0) bad++
		} else bad++
	}
	END {
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (t[j] < t[i]) { x = t[i]; t[i] = t[j]; t[j] = x }
		printf "%s: %d runs, %d with an unexpected result; %d results as expected, %d known kernel bugs caught, %d unexpected; %d boots; %d to %d s a run (median %d s)\n",
			spec, n, bad, ok, known, unexp, boots, t[1], t[n], t[int((n + 1) / 2)]
	}' "$out/summary" | tee -a "$out/summary"
