#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# MAP_DMA throughput benchmark (not a test): boot KERNEL-SPEC in the VM, run
# vfio/vfio_map_dma_bench there (scripts/guest/bench.sh) and print its table:
# map and unmap GiB/s of the ivshmem BAR at PTE, PMD and PUD leaves and of
# anonymous memory, per IOMMU mode.
#
# usage: scripts/bench_map_dma.sh [KERNEL-SPEC [ITERATIONS [SIZE-MIB]]]
#   KERNEL-SPEC as for run_tests.sh --vm (default debian-sid); ITERATIONS
#   default 5, SIZE-MIB default 1024 (PUD leaves need 1024).
# The runner's log and the kernel console stay in output/bench_map_dma/.
set -u
SUITE=$(cd "$(dirname "$0")/.." && pwd)
spec=${1:-debian-sid} iterations=${2:-5} size=${3:-1024}
[[ $iterations =~ ^[0-9]+$ && $size =~ ^[0-9]+$ ]] ||
	{ echo "usage: bench_map_dma.sh [KERNEL-SPEC [ITERATIONS [SIZE-MIB]]]" >&2; exit 2; }
bench=$SUITE/vfio/vfio_map_dma_bench
out=$SUITE/output/bench_map_dma

# --guest-file wants the program before the runner's own build.
make -s -C "$SUITE" all >/dev/null || { echo "bench_map_dma.sh: build failed: run 'make'" >&2; exit 1; }
[ -x "$bench" ] || { echo "bench_map_dma.sh: $bench was not built" >&2; exit 1; }

# The runner restarts the VM for the programs a crashed boot did not finish,
# and the guest script runs the benchmark in every boot: naming one program
# (which the guest script does not run) keeps it to one boot. Its summary
# and expectations after the guest's output (that program "not run") are
# about tests, not this: only the log keeps them.
# A runtime 1 GiB hugetlb page rarely finds 1 GiB of contiguous free RAM:
# reserve it at boot.
pages_1g=$(( (size + 1023) / 1024 ))
log=$SUITE/output/bench_map_dma.runner.log
mkdir -p "$SUITE/output"
"$SUITE/run_tests.sh" --vm --kernel "$spec" --out "$out" \
	--guest-script "$SUITE/scripts/guest/bench.sh" --guest-file "$bench" \
	--env "PFNMAP_BENCH_ITERATIONS=$iterations" --env "PFNMAP_BENCH_SIZE_MIB=$size" \
	--append "hugepagesz=1G hugepages=$pages_1g" \
	vfio_edu_dma_test 2>"$log.err" |
	tee "$log" | awk '/^pfnmap: [0-9]+ passed/ { done = 1 } !done { print; fflush() }'

accel=$(sed -n -E 's/.*accel ([a-z]+),.*/\1/p' "$log.err" | head -n1)
echo "# accel: ${accel:-unknown} (QEMU), 2 vCPUs; runner log: $log, console: $out/console.1.log"
# init's last line; the runner does not pass it on.
rc=$(tr -d '\r' < "$out/guest.ktap" 2>/dev/null | sed -n -E 's/^PFNMAP-DONE rc=([0-9]+)$/\1/p' | head -n1)
if [ -z "$rc" ]; then
	echo "bench_map_dma.sh: the VM did not finish the benchmark:" >&2
	grep -E '^\[vm\]|^\[console\]' "$log.err" | tail -n 20 >&2
	exit 1
fi
exit "$rc"
