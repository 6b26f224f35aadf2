#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tmt test /labs/tmt/tests/pfnmap (result: custom): the suite on the test
# machine's own kernel and the devices named by PFNMAP_BDF, PFNMAP_EDU_BDF,
# PFNMAP_BAR_BDF or VFIO_SELFTESTS_BDF (tmt run -e NAME=BDF), one tmt result
# per test through $TMT_TEST_DATA/results.json (scripts/tmt_results.py, from
# results.py's document). The runner's exit 4 (kselftest's SKIP: no device
# named, no IOMMU, vfio-pci or viable group), which tmt's shell framework
# would report as an error, becomes the result `skip` with the runner's
# reason; a build that fails, `error`. The script's exit code is not read
# by tmt for a custom-result test: the file is the verdict.
#
# KSRC: a kernel tree with `make headers` done for the running kernel; by
# default made from the kernel's source RPM (dnf download --source, needs
# the distribution's source repositories), kept in $TMT_PLAN_DATA.
# PFNMAP_TESTS: programs or sub-collections to run (default: all).
# PFNMAP_EXPECT: an expectations file (vm/expect format) for this kernel.
set -u
cd "$(dirname "$0")/../.." || exit 2
out=${TMT_TEST_DATA:?TMT_TEST_DATA: run by tmt (or set it)}
mkdir -p "$out/pfnmap"
release=$(uname -r)

ksrc_from_srpm()
{
	local dir=${TMT_PLAN_DATA:-/var/tmp}/pfnmap-ksrc-$release tmp
	[ -e "$dir/.done" ] && { echo "$dir"; return 0; }
	tmp=$(mktemp -d) || return 1
	# 5.14.0-503.el9.x86_64: the package kernel-5.14.0-503.el9
	(cd "$tmp" && dnf download --source --enablerepo='*source*' "kernel-${release%.*}") >&2 &&
		(cd "$tmp" && rpm2cpio ./kernel-*.src.rpm | cpio -idm 'linux-*.tar.xz') >&2 &&
		rm -rf "$dir" && mkdir -p "$dir" &&
		tar -xJf "$tmp"/linux-*.tar.xz -C "$dir" --strip-components=1 &&
		make -s -C "$dir" headers >&2 || { rm -rf "$tmp"; return 1; }
	rm -rf "$tmp"
	touch "$dir/.done"
	echo "$dir"
}

results() { /usr/bin/python3 scripts/tmt_results.py --out "$out" "$@"; }

ksrc=${KSRC:-$(ksrc_from_srpm)} ||
	{ results --rc 2 --reason "no kernel tree for $release (set KSRC, or enable the source repositories)"; exit 2; }
make -s KSRC="$ksrc" all > "$out/pfnmap/build.log" 2>&1 ||
	{ tail -n 20 "$out/pfnmap/build.log"; results --rc 2 --reason "the build failed: $(tail -n 1 "$out/pfnmap/build.log")"; exit 2; }

# shellcheck disable=SC2086 # PFNMAP_TESTS: a list of programs
./run_tests.sh ${PFNMAP_TESTS:-} 2> >(tee "$out/pfnmap/runner.stderr" >&2) | tee "$out/pfnmap/run.ktap"
rc=${PIPESTATUS[0]}
wait
reason=$(grep -v '^$' "$out/pfnmap/runner.stderr" | tail -n 1)
results --rc "$rc" --reason "$reason" --ktap "$out/pfnmap/run.ktap" --release "$release" \
	${PFNMAP_EXPECT:+--expect "$PFNMAP_EXPECT"} || exit 1
exit "$rc"
