# SPDX-License-Identifier: GPL-2.0
# Runs in the VM instead of run_tests.sh (run_tests.sh --vm --guest-script):
# the MAP_DMA benchmark, its table on stdout. POSIX sh (busybox). The
# runner's TEST arguments are not used; options come through --env:
# PFNMAP_BENCH_ITERATIONS, PFNMAP_BENCH_SIZE_MIB.
bench=./extra/vfio_map_dma_bench
if [ ! -x "$bench" ]; then
	echo "# bench.sh: no $bench: pass --guest-file vfio/vfio_map_dma_bench"
	exit 2
fi
exec "$bench" --iterations="${PFNMAP_BENCH_ITERATIONS:-5}" --size="${PFNMAP_BENCH_SIZE_MIB:-1024}"
