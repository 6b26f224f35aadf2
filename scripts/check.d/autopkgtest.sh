# shellcheck shell=bash
# Sourced by scripts/check.sh: the suite under Debian's autopkgtest
# (debian/tests), run for real with the null virtualisation server (this
# machine as the testbed), on a copy of the repository's files: the host
# test SKIPs (77, skippable) with its reason where no device is named, the
# vm test passes with two programs in QEMU and leaves results.json and
# junit.xml as artifacts, and a run that cannot give a verdict FAILs.

APT_WORK=$PFNMAP_CACHE/work/autopkgtest

# debian/tests/control's Depends must be what setup.sh installs.
autopkgtest_depends() {
	local want got
	want=$(sed -n '/^PACKAGES="/,/"$/p' "$SUITE/scripts/setup.sh" | tr -d '"\\' | sed 's/^PACKAGES=//' |
		tr -s ' \t' '\n' | grep -v '^$' | sort -u)
	got=$(awk '/^Depends:/ { on = 1; sub(/^Depends:/, "") } on && /^[A-Z]/ && !/^Depends:/ { on = 0 }
		   on { print }' "$SUITE/debian/tests/control" | tr ',' '\n' | tr -d ' \t' | grep -v '^$' | sort -u)
	[ "$want" = "$got" ] && { echo "  $(echo "$want" | wc -l) packages, the same in both" >&2; return 0; }
	diff <(echo "$want") <(echo "$got") | sed 's/^/  setup.sh vs debian\/tests\/control: /' >&2
	return 1
}

# autopkgtest TEST WANT_RC [ENV...]: run one test; its summary line says why.
autopkgtest_run() {
	local name=$1 want=$2 rc env=(); shift 2
	for e in "$@"; do env+=(--env "$e"); done
	rm -rf "$APT_WORK/out.$name"
	timeout 900 autopkgtest --no-built-binaries --test-name "${name%%.*}" --env "PFNMAP_CACHE=$PFNMAP_CACHE" \
		"${env[@]}" -o "$APT_WORK/out.$name" "$APT_WORK/src" -- null > "$APT_WORK/$name.log" 2>&1
	rc=$?
	echo "  autopkgtest --test-name ${name%%.*} $*: exit $rc: $(tail -n1 "$APT_WORK/out.$name/summary" 2>/dev/null)" >&2
	[ "$rc" = "$want" ]
}

autopkgtest_suite() {
	local rc=0
	pfnmap_have_packages autopkgtest || return 1
	rm -rf "$APT_WORK" && mkdir -p "$APT_WORK/src"
	(cd "$SUITE" && git ls-files | cpio -pdm "$APT_WORK/src" 2>/dev/null)
	# 8: every test skipped.
	autopkgtest_run host 8 || rc=1
	grep -q '^host  *SKIP exit status 77' "$APT_WORK/out.host/summary" 2>/dev/null || rc=1
	grep -m1 '^run_tests.sh: no device named' "$APT_WORK/out.host/host-stderr" 2>/dev/null | cut -c1-100 | sed 's/^/    /' >&2
	autopkgtest_run vm 0 "PFNMAP_TESTS=vfio_dmabuf_test vfio_iommufd_pfnmap_test" || rc=1
	grep -h '^expected:' "$APT_WORK/out.vm/vm-stdout" 2>/dev/null | sed 's/^/    /' >&2
	[ -s "$APT_WORK/out.vm/artifacts/vm/results.json" ] && [ -s "$APT_WORK/out.vm/artifacts/vm/junit.xml" ] ||
		{ echo "  no results.json/junit.xml among the vm test's artifacts" >&2; rc=1; }
	# A run the runner refuses gives no verdict: a FAIL, never a SKIP (4: a test failed).
	autopkgtest_run vm.broken 4 "PFNMAP_TESTS=no_such_test" || rc=1
	grep -m1 "no_such_test" "$APT_WORK/out.vm.broken/vm-stderr" 2>/dev/null | sed "s/^/    /" >&2
	grep -q '^vm  *FAIL' "$APT_WORK/out.vm.broken/summary" 2>/dev/null || rc=1
	return $rc
}

step "autopkgtest: debian/tests/control depends on what setup.sh installs" autopkgtest_depends
step "autopkgtest: host SKIPs (77) with its reason, vm passes in QEMU, a broken run FAILs (null testbed)" autopkgtest_suite
