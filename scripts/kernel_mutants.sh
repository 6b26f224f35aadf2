#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Every verdict proven on a kernel bug: build each kernel mutant
# (kernel/mutants/*.patch, format in its README) on Debian's newest kernel
# source (vm/kernels: debian-backports) in one tree, so that a mutant costs
# only the rebuild of what it touches, run the tests its header names in the
# VM, and print the table: mutant | test | red? | first failure | time to
# detect. Exit 0 when every Red row failed with its message and every Green
# row passed.
#
# usage: scripts/kernel_mutants.sh [--out DIR] [MUTANT...]
#   MUTANT: a patch's name without .patch (default: all)
#   --out DIR: the runs and table.md (default output/kernel-mutants)
# The mutants on the DMA-BUF mmap series (Base: dmabuf-mmap) need the series
# as one patch file: $PFNMAP_SHARED_KERNELS/dmabuf-mmap-v4-on-7.3.4.patch
# (default ../shared/kernels); without it they are reported as not built.
set -u
SUITE=$(cd "$(dirname "$0")/.." && pwd)
export PFNMAP_CACHE=${PFNMAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pfnmap}
SHARED=${PFNMAP_SHARED_KERNELS:-$SUITE/../shared/kernels}
SERIES=$SHARED/dmabuf-mmap-v4-on-7.3.4.patch
SOURCE=debian-backports
log() { echo "kernel_mutants: $*" >&2; }

out=$SUITE/output/kernel-mutants names=()
while [ $# -gt 0 ]; do
	case $1 in
	--out) [ $# -ge 2 ] || { log "--out needs a directory"; exit 2; }; out=$2; shift 2 ;;
	-*)    log "unknown option $1"; exit 2 ;;
	*)     [ -f "$SUITE/kernel/mutants/$1.patch" ] || { log "no kernel/mutants/$1.patch"; exit 2; }
	       names+=("$1"); shift ;;
	esac
done
if [ ${#names[@]} = 0 ]; then
	for p in "$SUITE"/kernel/mutants/*.patch; do names+=("$(basename "$p" .patch)"); done
fi
rm -rf "$out" && mkdir -p "$out"
rows=$out/rows.tsv
: > "$rows"

# The suite built against a tree's uapi headers (the series adds ioctls),
# in a copy of its own; prints the copy's directory.
suite_for()
{
	local ksrc=$1 dir=$out/suite-$2
	if [ ! -x "$dir/run_tests.sh" ]; then
		mkdir -p "$dir" && (cd "$SUITE" && git ls-files | cpio -pdm "$dir" 2>/dev/null)
		make -s -C "$dir" KSRC="$ksrc" all >/dev/null || return 1
	fi
	echo "$dir"
}

rc=0 t_all=$(date +%s)
for name in "${names[@]}"; do
	patch=$SUITE/kernel/mutants/$name.patch
	base=$(python3 "$SUITE/scripts/kernel_mutants.py" base "$patch") || { rc=1; continue; }
	patches=() suite=$SUITE ksrc=
	if [ "$base" = dmabuf-mmap ]; then
		if [ ! -f "$SERIES" ]; then
			log "$name: not built: it applies on the DMA-BUF mmap series, and there is no $SERIES"
			printf '%s\t-\tnot built\tno series patch file (%s)\t-\t\n' "$name" "$SERIES" >> "$rows"
			continue
		fi
		patches=(--patch "$SERIES")
	fi
	t0=$(date +%s)
	image=$("$SUITE/scripts/build_kernel.sh" "${patches[@]}" --patch "$patch" "$SOURCE") ||
		{ log "$name: the build failed"; printf '%s\t-\tBUILD FAILED\tsee the log\t-\t\n' "$name" >> "$rows"; rc=1; continue; }
	if [ "$base" = dmabuf-mmap ]; then
		# The series adds ioctls: the tests that use them need its headers.
		ksrc=$("$SUITE/scripts/build_kernel.sh" --headers "${patches[@]}" "$SOURCE") &&
			suite=$(suite_for "$ksrc" "$base") ||
			{ log "$name: building the suite against the series' headers failed"; rc=1; continue; }
	fi
	t_build=$(($(date +%s) - t0))
	tries=$(python3 "$SUITE/scripts/kernel_mutants.py" tries "$patch")
	n=0
	while IFS='|' read -r kind env only; do
		n=$((n + 1))
		# A race may miss the window in one boot: a red boot is tried again
		# up to Tries: times, and the table says which try caught it.
		args=()
		for e in $env; do args+=(--env "$e"); done
		for o in $only; do args+=(--only "$o"); done
		# A red test may leave the kernel wedged (a process stuck holding an
		# mmap lock): its result is out by then, the VM need not finish.
		[ "$kind" = red ] && args+=(--hang-timeout 60)
		programs=$(for o in $only; do echo "${o%%:*}"; done | sort -u)
		try=1
		while :; do
			run=$out/$name.$n
			[ "$try" = 1 ] || run=$run.try$try
			t0=$(date +%s)
			# shellcheck disable=SC2086
			(cd "$suite" && env ${ksrc:+KSRC="$ksrc"} ./run_tests.sh --vm --kernel "$image" --out "$run" "${args[@]}" $programs) > "$run.log" 2>&1
			log "$name ($kind${env:+, $env}): booted and ran in $(($(date +%s) - t0)) s (kernel build $t_build s)"
			if [ ! -f "$run/results.json" ]; then
				log "$name: the VM run gave no results:"; tail -n 15 "$run.log" >&2
				judged=$(printf '%s\t%s\tNO RESULT\tthe VM run gave no results\t-\t%s' "$name" "$only" "$env")
				jrc=1
			else
				judged=$(python3 "$SUITE/scripts/kernel_mutants.py" judge "$patch" "$kind" "$env" "$run" "$try")
				jrc=$?
			fi
			{ [ $jrc = 0 ] || [ "$kind" != red ] || [ "$try" -ge "$tries" ]; } && break
			log "$name ($kind${env:+, $env}): not red in try $try of $tries; again"
			try=$((try + 1))
		done
		echo "$judged" >> "$rows"
		[ $jrc = 0 ] || rc=1
	done < <(python3 "$SUITE/scripts/kernel_mutants.py" plan "$patch")
done

# The table, as README.md shows it.
{
	echo "| mutant | test | red? | first failure message | time to detect |"
	echo "|---|---|---|---|---|"
	awk -F'\t' '{
		env = $6 != "" ? " (" $6 ")" : ""
		msg = $4; gsub(/\|/, "\\|", msg)
		printf "| %s | `%s`%s | %s | %s | %s |\n", $1, $2, env, $3, msg, $5
	}' "$rows"
} > "$out/table.md"
cat "$out/table.md"
log "${#names[@]} mutant(s) in $(($(date +%s) - t_all)) s; table: $out/table.md"
exit $rc
