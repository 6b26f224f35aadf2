#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The project's own checks: build cleanly against new and old headers, run
# the suite in the VM on Debian's 6.12 and newest sid kernels (and on the
# prebuilt kernels of ../shared/kernels when present) with every outcome
# compared to its expectation, reject bad input, and (check.d/mutations.sh)
# prove that every test turns red when broken. Exit 0 only when all of that
# holds.
set -u
SUITE=$(cd "$(dirname "$0")/.." && pwd)
cd "$SUITE" || exit 2
export PFNMAP_CACHE=${PFNMAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pfnmap}
SHARED=${PFNMAP_SHARED_KERNELS:-$SUITE/../shared/kernels}
passed=0 failed=0 failures=()

timings=()
# Each step's output also goes to a file, so that the end of the check can
# say again why a step failed: CI keeps only the head and the tail of a log.
steplogs=$(mktemp -d)
trap 'rm -rf "$steplogs"' EXIT
step() {
	local name=$1 t0=$SECONDS verdict=ok log tee_pid rc; shift
	log=$steplogs/$((passed + failed))
	echo "=== check: $name" >&2
	exec 3>&1 4>&2 1> >(tee "$log" >&4) 2>&1
	tee_pid=$!
	"$@"; rc=$?
	exec 1>&3 2>&4 3>&- 4>&-
	# tee ends when the step's last writer closes; a process the step left
	# behind may hold it open, so wait a bounded while.
	for _ in $(seq 20); do kill -0 "$tee_pid" 2>/dev/null || break; sleep 0.1; done
	if [ $rc = 0 ]; then
		passed=$((passed + 1)); echo "=== ok: $name" >&2
	else
		failed=$((failed + 1)); failures+=("$name|$log"); echo "=== FAILED: $name" >&2; verdict=FAILED
	fi
	timings+=("$((SECONDS - t0))|$verdict|$name")
}

bash scripts/setup.sh --check || { echo "check: setup failed" >&2; exit 1; }
# shellcheck source=vm/debian.sh
. vm/debian.sh

build_new() { make -s clean && make -s EXTRA_CFLAGS=-Werror all; }
build_old() {
	local src tmp rc
	# shellcheck source=vm/headers.sh
	src=$(. vm/headers.sh && headers_fetch host linux-source-6.12) || return 1
	tmp=$(mktemp -d)
	# Sources only: built objects would make this build a no-op.
	git ls-files lib vfio mm | cpio -pdm "$tmp" 2>/dev/null
	make -s -C "$tmp/vfio" KSRC="$src" EXTRA_CFLAGS=-Werror && make -s -C "$tmp/mm" KSRC="$src" EXTRA_CFLAGS=-Werror
	rc=$?
	rm -rf "$tmp"
	return $rc
}
# The suite's verdict may be red on a kernel with a known bug; what counts
# here is that every result is the expected one. KSRC (environment): build
# the suite against that tree's uapi, in a copy of its own.
vm_run() {
	local out=$SUITE/output/check-$1 dir=$SUITE; shift
	mkdir -p "$SUITE/output"
	local args=() prev='' a
	if [ -n "${KSRC:-}" ]; then
		dir=$(mktemp -d) && (git ls-files | cpio -pdm "$dir" 2>/dev/null) || return 1
	fi
	# The expectations file by its path in the suite, not in the copy: the
	# run records it, and the reports step reads it again after the copy
	# is gone.
	for a in "$@"; do
		[ "$prev" = --expect ] && [ "${a#/}" = "$a" ] && a=$SUITE/$a
		args+=("$a"); prev=$a
	done
	(cd "$dir" && ./run_tests.sh --vm --out "$out" "${args[@]}") > "$out.log" 2>&1
	[ "$dir" = "$SUITE" ] || rm -rf "$dir"
	tail -n 30 "$out.log" | sed -n '/^expectations for/,$p' >&2
	[ "$(cat "$out/expect_rc" 2>/dev/null)" = 0 ] && return 0
	# What the runner said went wrong (a crash, a hang, a boot retried).
	grep '^\[vm\]' "$out.log" | grep -v -e ': ok — ' -e '^\[vm\] kernel .*, accel ' | tail -n 4 >&2
	return 1
}
# only_skipped_in RUN [PROGRAM...]: sets ONLY to "--only ID" for each test
# an earlier VM run of this check (output/check-RUN) SKIPped, of those
# programs (default all); fails when that run left no results. Two builds
# of the same source differ in what one could not run.
only_skipped_in() {
	local run=check-$1 res=$SUITE/output/check-$1/results.json id; shift
	ONLY=()
	[ -f "$res" ] || return 1
	for id in $(python3 -c 'import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    if r["outcome"] == "skip" and (len(sys.argv) == 2 or r["program"] in sys.argv[2:]):
        print(r["id"])' "$res" "$@"); do
		ONLY+=(--only "$id")
	done
	echo "  the tests $run SKIPped: $((${#ONLY[@]} / 2)) ${ONLY[*]}" | cut -c1-300 >&2
}
SERIES=$SHARED/dmabuf-mmap-v4-on-7.3.4.patch
# The uapi of the DMA-BUF mmap series (its REVOKE and MEMATTR features).
series_ksrc() { scripts/build_kernel.sh --headers --patch "$SERIES" debian-backports; }
# Bad input: a one-line reason and the documented exit code.
bad_input() {
	local want=$1 out rc; shift
	out=$("$@" 2>&1); rc=$?
	echo "  $* -> exit $rc: $(echo "$out" | tail -n1)" >&2
	[ $rc = "$want" ] && [ "$(echo "$out" | wc -l)" -le 2 ]
}

if [ -z "${CHECK_ONLY:-}" ]; then
step "build (-Wall -Wextra -Werror, sid headers)" build_new
step "build against 6.12 uapi headers" build_old
step "VM: debian-6.12 kernel" vm_run debian-6.12 --kernel debian-6.12
step "VM: debian-sid kernel" vm_run debian-sid --kernel debian-sid
# Debian's newest kernel by name too (trixie-backports' 7.3.4 today): the
# binary Debian ships, beside the suite's own builds of its source below.
step "VM: debian-backports kernel" vm_run debian-backports --kernel debian-backports
if [ -f "$SHARED/bzImage-7.2.13-iommufd" ]; then
	# Debian's 7.2.13 source with iommufd and the suite's options: the tests
	# Debian's own build of that source SKIPped in the run above (iommufd
	# modes, the DMA-BUF import); the rest would be that run's verdicts again.
	iommufd_run() {
		only_skipped_in debian-sid || echo "  no results of Debian's sid run: all tests" >&2
		vm_run iommufd-7.2 --kernel "$SHARED/bzImage-7.2.13-iommufd" "${ONLY[@]}" \
			--expect vm/expect/iommufd-7.2.expect
	}
	step "VM: 7.2.13 iommufd kernel (the tests Debian's build of 7.2.13 SKIPped)" iommufd_run
fi
if [ -f "$SHARED/bzImage-7.3.4-dmabuf-mmap" ] && [ -f "$SERIES" ]; then
	dmabuf_mmap_run() {
		local ksrc
		ksrc=$(series_ksrc) || return 1
		KSRC=$ksrc vm_run dmabuf-mmap-7.3 --kernel "$SHARED/bzImage-7.3.4-dmabuf-mmap" \
			--expect vm/expect/dmabuf-mmap-7.3.expect
	}
	step "VM: 7.3.4 with the DMA-BUF mmap series (suite built against its uapi)" dmabuf_mmap_run
fi
if [ -f "$SERIES" ]; then
	# The series on the suite's own build of 7.3.4 (the page-table dump the
	# memory-attribute test reads): the BAR mmap tests. After the prebuilt
	# series kernel above, only the tests it SKIPped are new here; the others
	# would be its verdicts again, on the same source and series.
	dmabuf_mmap_built_run() {
		local ksrc bz
		ksrc=$(series_ksrc) && bz=$(scripts/build_kernel.sh --patch "$SERIES" debian-backports) || return 1
		ONLY=()
		if [ -f "$SHARED/bzImage-7.3.4-dmabuf-mmap" ] &&
			only_skipped_in dmabuf-mmap-7.3 vfio_bar_mmap_test vfio_dmabuf_test; then
			[ ${#ONLY[@]} -gt 0 ] || return 0
		fi
		KSRC=$ksrc vm_run dmabuf-mmap-7.3-built --kernel "$bz" "${ONLY[@]}" \
			--expect vm/expect/dmabuf-mmap-7.3-built.expect vfio_bar_mmap_test vfio_dmabuf_test
	}
	step "VM: the DMA-BUF mmap series on the suite's own build of 7.3.4: BAR mmap tests (those the prebuilt kernel SKIPped)" dmabuf_mmap_built_run
fi
if [ -f "$SHARED/bzImage-6.12.117-pagewalk-revert" ]; then
	# The page-walk race test must catch the bug; the MAP_DMA race would
	# crash this kernel too, through the same walk, so it is left out here.
	step "VM: 6.12.117 page-walk fix reverted" vm_run pagewalk-revert --kernel "$SHARED/bzImage-6.12.117-pagewalk-revert" \
		--expect vm/expect/pagewalk-revert-6.12.expect vfio_edu_dma_test pfnmap_walk_race_test
fi
step "bad input: unknown kernel name" bad_input 2 ./run_tests.sh --vm --kernel debian-nope
step "bad input: missing bzImage" bad_input 2 ./run_tests.sh --vm --kernel /nonexistent/bzImage
step "bad input: unknown test" bad_input 2 ./run_tests.sh --vm --kernel debian-6.12 no_such_test
step "bad input: malformed BDF to a program (exit 1, never 2: XFAIL to kselftest)" bad_input 1 env PFNMAP_EDU_BDF=zz:99 vfio/vfio_edu_dma_test
fi

# Further checks, one concern per file: each defines functions and calls
# step; CHECK_ONLY=NAME (a file's basename without .sh) runs just that one,
# CHECK_ONLY="NAME NAME..." those (a later one may take what an earlier one
# made, as lava takes intree's tarball).
for f in scripts/check.d/*.sh; do
	[ -e "$f" ] || continue
	[ -z "${CHECK_ONLY:-}" ] || [[ " $CHECK_ONLY " == *" $(basename "$f" .sh) "* ]] || continue
	# shellcheck source=/dev/null
	. "$f"
done

# What each step took: where the time of a check goes.
{
	echo "check: time per step (s):"
	printf '%s\n' "${timings[@]}" | awk -F'|' '{ printf "  %5d  %-6s %s\n", $1, $2, $3; t += $1 }
		END { printf "  %5d  total (%d min %d s)\n", t, t / 60, t % 60 }'
} >&2
# Each failed step with its last lines (vm_run ends with the unexpected
# results and what the runner said went wrong): 12 lines shared among
# them, 2 at least each.
for f in "${failures[@]}"; do
	echo "check: failed: ${f%%|*}"
	grep -v '^=== ' "${f#*|}" | tail -n $((12 / ${#failures[@]} > 2 ? 12 / ${#failures[@]} : 2)) | cut -c1-240 | sed 's/^/    /'
done >&2
echo "check: $passed passed, $failed failed"
[ $failed = 0 ]
