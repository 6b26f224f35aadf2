#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The suite on several kernels, as one test-by-kernel table.
#
# usage: scripts/matrix.sh [--out DIR] [--no-defaults] [--kernel SPEC [--expect FILE]]...
#                          [--env NAME=VALUE]... [TEST...]
#        scripts/matrix.sh [--out DIR] --from RUN-DIR...
#
# The first form runs ./run_tests.sh --vm on debian-6.12 and debian-sid
# (unless --no-defaults) and on every --kernel SPEC (a bzImage or build:SRC;
# --expect names the expectations file for the --kernel before it), one
# kernel after the other, each into DIR/runs/NAME. The second tabulates VM
# runs already made (their results.json; a run from before results.json
# existed is converted from its results.ktap). Both write DIR/matrix.md and
# DIR/matrix.html (default DIR: output/matrix).
#
# Exit: 0 every result as expected; 1 the matrix shows unexpected results;
#       2 bad usage; 3 a kernel gave no results (the matrix has the others).

set -u
SUITE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
die() { echo "matrix.sh: $2" >&2; exit "$1"; }
note() { echo "[matrix] $*" >&2; }

out=$SUITE/output/matrix from=() kernels=(debian-6.12 debian-sid) expects=("" "") defaults=1
run_args=() tests=()
while [ $# -gt 0 ]; do
	case $1 in
	--out)    [ $# -ge 2 ] || die 2 "--out needs a directory"; out=$2; shift 2 ;;
	--from)   shift
		  while [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; do from+=("$1"); shift; done
		  [ ${#from[@]} -gt 0 ] || die 2 "--from needs VM output directories" ;;
	--no-defaults) defaults=0; shift ;;
	--kernel) [ $# -ge 2 ] || die 2 "--kernel needs a SPEC"; kernels+=("$2"); expects+=(""); shift 2 ;;
	--expect) [ $# -ge 2 ] && [ -f "$2" ] || die 2 "--expect needs an expectations file"
		  [ ${#kernels[@]} -gt 2 ] || die 2 "--expect goes after the --kernel it is for"
		  expects[${#expects[@]}-1]=$2; shift 2 ;;
	--env)    [ $# -ge 2 ] || die 2 "--env needs NAME=VALUE"; run_args+=(--env "$2"); shift 2 ;;
	-*)       die 2 "unknown option $1" ;;
	*)        tests+=("$1"); shift ;;
	esac
done
if [ ${#from[@]} -gt 0 ]; then
	[ ${#kernels[@]} -eq 2 ] && [ ${#tests[@]} -eq 0 ] && [ ${#run_args[@]} -eq 0 ] ||
		die 2 "--from tabulates runs already made: no --kernel, --env or TEST with it"
fi
if [ $defaults = 0 ]; then
	kernels=("${kernels[@]:2}") expects=("${expects[@]:2}")
	[ ${#from[@]} -gt 0 ] || [ ${#kernels[@]} -gt 0 ] || die 2 "--no-defaults needs a --kernel"
fi
command -v python3 >/dev/null || die 3 "no python3: run 'make setup'"
mkdir -p "$out" || die 2 "cannot create $out"

jsons=() missing=0
# A run dir's results.json, or one converted from its KTAP into $out.
add_run() {
	local dir=$1 conv
	if [ -f "$dir/results.json" ]; then
		jsons+=("$dir/results.json")
	elif [ -f "$dir/results.ktap" ] && [ -f "$dir/expectations.txt" ]; then
		conv=$out/converted/$(( ${#jsons[@]} + 1 ))-$(basename "$dir")
		note "$dir has no results.json: converting its results.ktap into $conv"
		/usr/bin/python3 "$SUITE/scripts/results.py" "$dir" --out "$conv" >/dev/null &&
			jsons+=("$conv/results.json") || missing=$((missing + 1))
	else
		note "$dir: no results.json, nor results.ktap with expectations.txt"
		missing=$((missing + 1))
	fi
}

if [ ${#from[@]} -gt 0 ]; then
	for d in "${from[@]}"; do add_run "$d"; done
else
	mkdir -p "$out/runs"
	for i in "${!kernels[@]}"; do
		spec=${kernels[$i]}
		name=$(basename "${spec#build:}" | tr -c 'A-Za-z0-9.+_\n-' _)
		[ "${spec#build:}" != "$spec" ] && name=build-$name
		args=(--vm --kernel "$spec" --out "$out/runs/$name" "${run_args[@]}")
		[ -n "${expects[$i]}" ] && args+=(--expect "${expects[$i]}")
		note "$spec: ./run_tests.sh ${args[*]} ${tests[*]} (log: $out/runs/$name.log)"
		start=$(date +%s)
		"$SUITE/run_tests.sh" "${args[@]}" "${tests[@]}" > "$out/runs/$name.log" 2>&1
		rc=$?
		note "$spec: exit $rc in $(( $(date +%s) - start ))s: $(grep -m1 '^pfnmap: ' "$out/runs/$name.log")"
		[ $rc -le 1 ] || tail -n 3 "$out/runs/$name.log" | sed 's/^/[matrix]   /' >&2
		add_run "$out/runs/$name"
	done
fi

[ ${#jsons[@]} -gt 0 ] || die 3 "no results to tabulate"
python3 "$SUITE/scripts/matrix.py" --out "$out" "${jsons[@]}" || exit 3
[ $missing = 0 ] || { note "$missing kernel(s) gave no results: not in the matrix"; exit 3; }
unexpected=$(python3 -c 'import json, sys; print(sum(json.load(open(f))["summary"]["unexpected"] for f in sys.argv[1:]))' "${jsons[@]}")
[ "$unexpected" = 0 ]
