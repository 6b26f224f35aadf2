# shellcheck shell=bash
# KernelCI / LAVA: the job example and the test definition under lava/ pass
# LAVA's own schemas and give QEMU the platform vm/run.sh gives the suite;
# and the gen_tar tarball, run by the test definition's script on a QEMU
# platform without the devices, SKIPs every test with a reason, fails
# nothing, and reports each result the way LAVA reads them. Sourced by
# scripts/check.sh.

LAVA_WORK=$PFNMAP_CACHE/work/lava

lava_schemas()
{
	pfnmap_have_packages lava-common || return 1
	echo "  lava-common $(dpkg-query -W -f='${Version}' lava-common)" >&2
	# Debian's python3, where lava-common is installed (not a pyenv's).
	/usr/bin/python3 - "$SUITE/lava/job-qemu-x86_64.yaml" "$SUITE/lava/pfnmap-kselftest.yaml" <<'PY'
import sys, yaml
from lava_common.schemas import validate
from lava_common.schemas.test.testdef import validate as validate_testdef
job, testdef = (yaml.safe_load(open(f)) for f in sys.argv[1:3])
validate(job, strict=True)
print("  job: valid (lava_common.schemas.validate, strict)", file=sys.stderr)
validate_testdef(testdef)
print("  test definition: valid (lava_common.schemas.test.testdef)", file=sys.stderr)
paths = [d["path"] for a in job["actions"] if "test" in a for d in a["test"]["definitions"]]
assert paths == ["lava/pfnmap-kselftest.yaml"], paths
# The schemas must be able to say no, or "valid" means nothing.
import copy
from voluptuous import Invalid
for what, broken, check in (
        ("a job with an unknown context variable", copy.deepcopy(job), validate),
        ("a test definition without metadata.format", copy.deepcopy(testdef), validate_testdef)):
    if check is validate:
        broken["context"]["no_such_variable"] = 1
    else:
        del broken["metadata"]["format"]
    try:
        check(broken)
    except Invalid as e:
        print("  %s: refused (%s)" % (what, e), file=sys.stderr)
    else:
        sys.exit("  %s: accepted" % what)
PY
}

# The job's QEMU platform is the one the suite is developed on (vm/run.sh,
# and the devices of its table vm/devices).
lava_platform()
{
	local want rc=0
	for want in 'intel-iommu,intremap=on,caching-mode=on' 'edu,' 'dma_mask=0xffffffffffffffff' \
		'memory-backend-ram,id=ivshmem,size=2G' 'ivshmem-plain,' 'memdev=ivshmem' \
		'q35,kernel-irqchip=split' '-smp 2' 'intel_iommu=on' 'iommu=nopt'; do
		cat "$SUITE/vm/run.sh" "$SUITE/vm/devices" | grep -qF -- "$want" ||
			{ echo "  vm/run.sh and vm/devices no longer have $want" >&2; rc=1; }
		grep -qF -- "$want" "$SUITE/lava/job-qemu-x86_64.yaml" || { echo "  the job lacks $want" >&2; rc=1; }
	done
	[ $rc = 0 ] && echo "  the job's QEMU devices and kernel arguments match vm/run.sh and vm/devices" >&2
	return $rc
}

# In the VM with no device: the tarball and the test definition's script
# run under busybox. lava-test-case is LAVA's helper, which prints this
# signal on the console for the dispatcher; a stand-in prints the same.
lava_vm_no_devices()
{
	local tree sel tarball guest out n rc t=$SECONDS
	tree=$(bash "$SUITE/scripts/kselftest_tree.sh" "$LAVA_WORK") || return 1
	sel=$tree/tools/testing/selftests
	make -s -C "$sel" TARGETS=pfnmap gen_tar > "$LAVA_WORK/gen_tar.log" 2>&1 ||
		{ tail -n 5 "$LAVA_WORK/gen_tar.log" >&2; return 1; }
	tarball=$sel/kselftest_install/kselftest-packages/kselftest.tar.gz
	n=$(wc -l < "$sel/kselftest_install/kselftest-list.txt")
	echo "  tarball of $n programs ready in $((SECONDS - t)) s" >&2
	guest=$LAVA_WORK/guest.sh out=$LAVA_WORK/vm
	cat > "$guest" <<'GUEST'
# Run by the VM's init in /pfnmap; the tarball and the script are in extra/.
mkdir -p /tmp/lava-bin
cat > /tmp/lava-bin/lava-test-case <<'EOF'
#!/bin/sh
[ "$2" = --result ] || { echo "lava-test-case: usage: NAME --result RESULT" >&2; exit 1; }
echo "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=$1 RESULT=$3>"
EOF
chmod +x /tmp/lava-bin/lava-test-case
PATH=/tmp/lava-bin:$PATH sh extra/pfnmap-kselftest.sh extra/kselftest.tar.gz /tmp/kselftest
GUEST
	t=$SECONDS
	(cd "$SUITE" && ./run_tests.sh --vm --devices none --out "$out" --guest-script "$guest" \
		--guest-file "$tarball" --guest-file "$SUITE/lava/pfnmap-kselftest.sh") > "$LAVA_WORK/vm.log" 2>&1
	tr -d '\r' < "$out/guest.1.ktap" > "$LAVA_WORK/guest.ktap"
	echo "  VM run: $((SECONDS - t)) s; $(grep -m1 '^# kernel ' "$LAVA_WORK/guest.ktap"); $(grep -m1 '^PFNMAP-DONE' "$LAVA_WORK/guest.ktap")" >&2
	grep -E '^(not )?ok [0-9]+ selftests: |^# Totals' "$LAVA_WORK/guest.ktap" | sed 's/^/  /' >&2
	rc=0
	grep -qx 'PFNMAP-DONE rc=0' "$LAVA_WORK/guest.ktap" || { echo "  the guest script did not exit 0" >&2; rc=1; }
	python3 "$SUITE/scripts/ktap.py" all-skip "$n" "$LAVA_WORK/guest.ktap" || rc=1
	lava_signals "$LAVA_WORK/guest.ktap" || rc=1
	return $rc
}

# One LAVA test case per program and per nested test, none failed, and the
# skips are the tests that SKIPped.
lava_signals()
{
	local ktap=$1 cases skips fails want_cases want_skips
	cases=$(grep -c '^<LAVA_SIGNAL_TESTCASE ' "$ktap")
	skips=$(grep -c '^<LAVA_SIGNAL_TESTCASE .* RESULT=skip>$' "$ktap")
	fails=$(grep -c '^<LAVA_SIGNAL_TESTCASE .* RESULT=fail>$' "$ktap")
	want_cases=$(grep -c -E '^(# )?(not )?ok [0-9]+ ' "$ktap")
	want_skips=$(grep -c -E '^(# )?ok [0-9]+ .* # SKIP' "$ktap")
	echo "  LAVA test cases: $cases (KTAP results: $want_cases), skip: $skips (KTAP SKIPs: $want_skips), fail: $fails" >&2
	grep -m2 '^<LAVA_SIGNAL_TESTCASE ' "$ktap" | sed 's/^/  /' >&2
	[ "$cases" -gt 0 ] && [ "$cases" = "$want_cases" ] && [ "$skips" = "$want_skips" ] && [ "$fails" = 0 ] &&
		[ -z "$(grep '^<LAVA_SIGNAL_TESTCASE ' "$ktap" | cut -d' ' -f2 | sort | uniq -d)" ]
}

step "lava: job example and test definition pass LAVA's schemas" lava_schemas
step "lava: the job's QEMU platform is vm/run.sh's" lava_platform
step "lava: gen_tar tarball in a VM without devices: all SKIP with reasons, LAVA results" lava_vm_no_devices
# The logs stay for a failure's reader; the tree goes.
rm -rf "$LAVA_WORK/linux"
