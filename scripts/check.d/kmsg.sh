# shellcheck shell=bash
# Sourced by scripts/check.sh: the kernel-log check every test relies on
# turns red for each report it claims to catch (lib/tests/kmsg_test writes
# each into /dev/kmsg in the VM), keeps what __kmsg_wait_for() passes over,
# still reports when a helper exits, and fails without /dev/kmsg.

kmsg_selftest() {
	local out=$SUITE/output/check-kmsg
	mkdir -p "$SUITE/output"
	make -s -C lib/tests >/dev/null || return 1
	./run_tests.sh --vm --kernel debian-sid --devices none --out "$out" \
		--guest-script scripts/guest/kmsg_test.sh --guest-file lib/tests/kmsg_test \
		vfio_edu_dma_test > "$out.log" 2>&1
	tr -d '\r' < "$out/guest.ktap" | grep -E '^(ok|not ok|#.*(not caught|taken for|lost|said))' >&2
	tr -d '\r' < "$out/guest.ktap" | grep -qx 'KMSG-RESULT pass'
}

step "kernel-log check: every report kind turns a test red (VM)" kmsg_selftest
