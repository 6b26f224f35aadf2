# shellcheck shell=bash
# KernelCI / LAVA: the job example and the test definition under lava/ pass
# LAVA's own schemas and give QEMU the platform vm/run.sh gives the suite;
# and the gen_tar tarball, run by the test definition's script on a QEMU
# platform without the devices, SKIPs every test with a reason, fails
# nothing, and reports each result the way LAVA reads them; and Debian's
# lava-dispatcher runs the job as shipped on the devices, its own results
# holding every result of the suite's KTAP. Sourced by scripts/check.sh.

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
# The gen_tar tarball of the suite in a kernel tree (once a check): sets
# LAVA_TARBALL and LAVA_INSTALL (the unpacked install, its programs).
LAVA_TARBALL='' LAVA_INSTALL=''
lava_tarball()
{
	local tree sel n t=$SECONDS
	[ -n "$LAVA_TARBALL" ] && [ -f "$LAVA_TARBALL" ] && return 0
	# The in-tree check made the same tarball from the same tree a moment ago.
	if [ -n "${INTREE_TARBALL:-}" ] && [ -f "$INTREE_TARBALL" ]; then
		LAVA_TARBALL=$INTREE_TARBALL LAVA_INSTALL=$INTREE_INSTALL
		echo "  the in-tree check's gen_tar tarball: $LAVA_TARBALL" >&2
		return 0
	fi
	tree=$(bash "$SUITE/scripts/kselftest_tree.sh" "$LAVA_WORK") || return 1
	sel=$tree/tools/testing/selftests
	make -s -C "$sel" TARGETS=pfnmap gen_tar > "$LAVA_WORK/gen_tar.log" 2>&1 ||
		{ tail -n 5 "$LAVA_WORK/gen_tar.log" >&2; return 1; }
	LAVA_TARBALL=$sel/kselftest_install/kselftest-packages/kselftest.tar.gz
	LAVA_INSTALL=$sel/kselftest_install
	n=$(wc -l < "$LAVA_INSTALL/kselftest-list.txt")
	echo "  tarball of $n programs ready in $((SECONDS - t)) s" >&2
}

lava_vm_no_devices()
{
	local tarball guest out n rc t
	lava_tarball || return 1
	tarball=$LAVA_TARBALL
	n=$(wc -l < "$LAVA_INSTALL/kselftest-list.txt")
	# Its own directory: with intree's tarball nothing here has made it
	# (an empty cache failed here).
	mkdir -p "$LAVA_WORK" || return 1
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
	tr -d '\r' < "$out/guest.ktap" > "$LAVA_WORK/guest.ktap"
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

# The job for real: Debian's lava-dispatcher runs lava/job-qemu-x86_64.yaml
# as shipped, from deploy to the test definition's results, in a chroot
# (scripts/lava_chroot.sh: lava-dispatcher is not installed on the host),
# with the device configuration lava-server would give it, rendered from
# lava-server's own qemu device type (its .deb fetched, not installed) and a
# device dictionary for this machine. The job's file:// URLs are the
# artifacts, bound at /srv/lava/pfnmap in the chroot: Debian sid's kernel,
# the ramdisk (scripts/lava_ramdisk.sh), the gen_tar tarball and a
# repository of this work tree. The dispatcher's own results must hold
# every KTAP result of the run with its status (scripts/lava_results.py),
# and must be able to say no.
LAVA_SRV=/srv/lava/pfnmap
# The programs the real job runs (below: why not all).
LAVA_TESTS="vfio_bar_mmap_test vfio_dmabuf_test vfio_iommufd_pfnmap_test pfnmap_walk_race_test"
lava_dispatcher()
{
	local chroot rc art=$LAVA_WORK/dispatcher types dict kimg url t=$SECONDS
	# Made by the set-up step (scripts/setup.sh --check), not here.
	chroot=$(bash "$SUITE/scripts/lava_chroot.sh" --have); rc=$?
	[ $rc = 4 ] && { echo "  SKIP: no chroot for lava-dispatcher can be made here (see above)" >&2; return 0; }
	[ $rc = 0 ] || return 1
	# shellcheck disable=SC2016
	echo "  chroot $chroot ($(chroot "$chroot" dpkg-query -W -f='${Package} ${Version}, ' lava-dispatcher qemu-system-x86 python3-jinja2 | sed 's/, $//')) ready in $((SECONDS - t)) s" >&2
	# lava-server's device types, of the dispatcher's release.
	debian_pick host lava-server || return 1
	types=$PFNMAP_CACHE/lava-server/$DEB_VERSION
	debian_fetch "$DEB_CONF" "$types" lava-server || return 1
	types=$types/usr/share/lava-server/device-types
	[ -f "$types/qemu.jinja2" ] || { echo "  lava-server $DEB_VERSION has no qemu.jinja2" >&2; return 1; }

	rm -rf "$art" && mkdir -p "$art/srv" || return 1
	lava_tarball || return 1
	cp "$LAVA_TARBALL" "$art/srv/kselftest.tar.gz" || return 1
	# shellcheck disable=SC2046
	kimg=$(bash "$SUITE/scripts/lava_ramdisk.sh" --kernel debian-sid "$art/srv/rootfs.cpio.gz" \
		$(find "$LAVA_INSTALL" -type f -perm -u+x)) || return 1
	cp "$kimg" "$art/srv/bzImage" || return 1
	# The test definition's repository: this work tree as it stands.
	git init -q --bare "$art/srv/pfnmap-selftests.git" &&
	(cd "$SUITE" && export GIT_DIR=$art/srv/pfnmap-selftests.git GIT_WORK_TREE=$SUITE GIT_INDEX_FILE=$art/index &&
	 git ls-files --cached --others --exclude-standard -z | xargs -0 git add -f -- &&
	 git -c user.name=pfnmap -c user.email=pfnmap@localhost commit -q -m "pfnmap selftests as checked") || return 1
	# What this step checks is LAVA's record of the run against its KTAP;
	# the verdicts on this kernel are the sid VM step's. So the races run
	# 5 s (the definition's PFNMAP_RACE_DURATION), not the default 20 s,
	# and four of the six programs run (PFNMAP_TESTS): passes, SKIPs and
	# a race's nested block, without the MAP_DMA races and the edu DMA
	# (the test definition's run: 76 s with all six, 23 s with these).
	# Its test action 5 minutes, not 45: a guest that falls silent (a vCPU
	# timer that stopped, below) costs that much, not most of CI's time.
	sed -e 's/^\( *\)PFNMAP_BAR_BDF: .*/&\n\1PFNMAP_RACE_DURATION: "5"\n\1PFNMAP_TESTS: "'"$LAVA_TESTS"'"/' \
		-e '/^  - test:/,/definitions:/s/minutes: 45$/minutes: 5/' \
		"$SUITE/lava/job-qemu-x86_64.yaml" > "$art/srv/job.yaml"
	grep -q 'PFNMAP_RACE_DURATION: "5"' "$art/srv/job.yaml" || { echo "  the job has no PFNMAP_BAR_BDF parameter to put the duration beside" >&2; return 1; }
	sed -n '/^  - test:/,/definitions:/p' "$art/srv/job.yaml" | grep -q 'minutes: 5$' || { echo "  the job's test action has no 45-minute timeout to shorten" >&2; return 1; }
	cp "$SUITE/scripts/lava_device.py" "$art/srv/"
	# The job as shipped: each of its file:// URLs must be an artifact here.
	# shellcheck disable=SC2013
	for url in $(sed -n 's|^ *\(url\|repository\): *file://||p' "$art/srv/job.yaml"); do
		case $url in
		"$LAVA_SRV"/*) [ -e "$art/srv/${url#"$LAVA_SRV"/}" ] ||
			{ echo "  the job's file://$url is not among the artifacts" >&2; return 1; } ;;
		*) echo "  the job's file://$url is not under $LAVA_SRV" >&2; return 1 ;;
		esac
	done

	# This machine's QEMU device: KVM only where the suite's VM found it runs
	# a guest (vm/run.sh's probe); TCG otherwise, the template's no_kvm.
	dict=$art/srv/pfnmap-qemu01.jinja2
	{
		echo "{% extends 'qemu.jinja2' %}"
		[ "$(cat "$PFNMAP_CACHE/kvm-probe.$(uname -r)" 2>/dev/null)" = kvm ] || echo "{% set no_kvm = True %}"
	} > "$dict"
	LAVA_CHROOT_BIND="$art/srv:$LAVA_SRV $types:/srv/lava/device-types" bash "$SUITE/scripts/lava_chroot.sh" --run "$chroot" \
		python3 "$LAVA_SRV/lava_device.py" /srv/lava/device-types "$LAVA_SRV/pfnmap-qemu01.jinja2" \
		"$LAVA_SRV/job.yaml" "$LAVA_SRV/device.yaml" 2>&1 | sed 's/^/  /' >&2
	[ "${PIPESTATUS[0]}" = 0 ] || return 1
	echo "  artifacts and device configuration ready in $((SECONDS - t)) s" >&2

	local try panic stall
	for try in 1 2 3; do
		t=$SECONDS
		rm -rf "$art/srv/out"
		LAVA_CHROOT_BIND="$art/srv:$LAVA_SRV" bash "$SUITE/scripts/lava_chroot.sh" --run "$chroot" \
			lava-run --job-id 1 --output-dir "$LAVA_SRV/out" --device "$LAVA_SRV/device.yaml" "$LAVA_SRV/job.yaml" \
			> "$art/lava-run.out" 2> "$art/lava-run.log"
		rc=$?
		echo "  lava-run: exit $rc in $((SECONDS - t)) s; $(grep -c '"lvl": "results"' "$art/lava-run.log") results in its log; its result.yaml: $(tr '\n' ' ' < "$art/srv/out/result.yaml" 2>/dev/null | cut -c1-300)" >&2
		# A vCPU's timer that stopped under TCG (README, "One flake is
		# known"; seen in this step once): the guest fell silent until the
		# test action's timeout. The job runs again, as vm/run.sh boots again.
		stall=$(grep '"lvl": "target"' "$art/lava-run.log" | grep -o 'Possible timer handling issue on cpu=[0-9]*' | head -n1)
		if [ $rc != 0 ] && [ -n "$stall" ]; then
			echo "  a vCPU's timer stopped firing (try $try of 3): $stall" >&2
			continue
		fi
		# A kernel that crashed while booting, before the ramdisk's init said
		# its first line (under QEMU 7.2's MTTCG about 1 boot in 100: README,
		# "Boot crashes"), ran no test: the job runs again, as vm/run.sh
		# boots again and a lab resubmits an infrastructure failure.
		panic=$(grep '"lvl": "target"' "$art/lava-run.log" | grep -o 'Kernel panic - not syncing[^"\\]*' | head -n1)
		if [ $rc = 0 ] || [ -z "$panic" ] || grep -q 'pfnmap LAVA ramdisk: kernel' "$art/lava-run.log"; then
			break
		fi
		echo "  the kernel crashed while booting, before any test (try $try of 3): $panic" >&2
	done
	grep '"lvl": "results"' "$art/lava-run.log" | grep -v '"definition": "0_' | cut -c1-220 | sed 's/^/    /' >&2
	# A test case of each status (the failed ones all), as LAVA has them.
	grep '"definition": "0_pfnmap-kselftest"' "$art/lava-run.log" | grep -m1 '"result": "pass"' | cut -c1-220 | sed 's/^/    /' >&2
	grep '"definition": "0_pfnmap-kselftest"' "$art/lava-run.log" | grep -m1 '"result": "skip"' | cut -c1-220 | sed 's/^/    /' >&2
	grep '"definition": "0_pfnmap-kselftest"' "$art/lava-run.log" | grep -m10 '"result": "fail"' | cut -c1-220 | sed 's/^/    /' >&2
	python3 "$SUITE/scripts/lava_results.py" "$art/lava-run.log" 2>&1 | sed 's/^/  /' >&2
	[ "${PIPESTATUS[0]}" = 0 ] && [ $rc = 0 ] || return 1

	# It must be able to say no: a status flipped, a test case dropped, and
	# a job whose test definition is not in its repository.
	local log=$art/lava-run.log bad=$art/bad.log line
	line=$(grep -n '"lvl": "results".*"definition": "0_pfnmap-kselftest"' "$log" | head -n1 | cut -d: -f1)
	sed "${line}s/\"result\": \"\(pass\|skip\)\"/\"result\": \"fail\"/; t; ${line}s/\"result\": \"fail\"/\"result\": \"pass\"/" "$log" > "$bad"
	python3 "$SUITE/scripts/lava_results.py" "$bad" > "$art/refuse-flip.txt" 2>&1 &&
		{ echo "  a flipped status: accepted" >&2; return 1; }
	echo "  a flipped status: refused ($(grep -m1 ': LAVA ' "$art/refuse-flip.txt" | sed 's/^ *//'))" >&2
	sed "${line}d" "$log" > "$bad"
	python3 "$SUITE/scripts/lava_results.py" "$bad" > "$art/refuse-drop.txt" 2>&1 &&
		{ echo "  a dropped test case: accepted" >&2; return 1; }
	echo "  a dropped test case: refused ($(grep -m1 ': LAVA ' "$art/refuse-drop.txt" | sed 's/^ *//'))" >&2
	sed 's|path: lava/pfnmap-kselftest.yaml|path: lava/no-such-definition.yaml|' "$art/srv/job.yaml" > "$art/srv/broken-job.yaml"
	t=$SECONDS
	LAVA_CHROOT_BIND="$art/srv:$LAVA_SRV" bash "$SUITE/scripts/lava_chroot.sh" --run "$chroot" \
		lava-run --job-id 2 --output-dir "$LAVA_SRV/out-broken" --device "$LAVA_SRV/device.yaml" "$LAVA_SRV/broken-job.yaml" \
		> /dev/null 2> "$art/broken.log"
	rc=$?
	python3 "$SUITE/scripts/lava_results.py" "$art/broken.log" > "$art/refuse-broken.txt" 2>&1 &&
		{ echo "  a job with a missing test definition: results accepted" >&2; return 1; }
	[ $rc != 0 ] || { echo "  a job with a missing test definition: lava-run exit 0" >&2; return 1; }
	echo "  a job with a missing test definition: lava-run exit $rc in $((SECONDS - t)) s, refused ($(grep -m1 'the job did not finish' "$art/refuse-broken.txt" | sed 's/^ *//' | cut -c1-200))" >&2
}

step "lava: job example and test definition pass LAVA's schemas" lava_schemas
step "lava: the job's QEMU platform is vm/run.sh's" lava_platform
step "lava: gen_tar tarball in a VM without devices: all SKIP with reasons, LAVA results" lava_vm_no_devices
step "lava: Debian's lava-dispatcher runs the job (edu, ivshmem, intel-iommu): its results are the KTAP's" lava_dispatcher
# The logs stay for a failure's reader; the tree goes.
rm -rf "$LAVA_WORK/linux"
