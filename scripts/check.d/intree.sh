# shellcheck shell=bash
# In-tree kselftest: with the suite as tools/testing/selftests/pfnmap of a
# real kernel tree (Debian's newest linux-source), the collection "pfnmap"
# builds and runs through the kselftest Makefile, whole and one program a
# run as NIPA runs it (every program SKIPs with a reason on a host whose
# devices are not named), installs, packs (gen_tar),
# and the installed run_kselftest.sh lists and runs it; its names clash with
# nothing of mainline. Sourced by scripts/check.sh.

INTREE_WORK=$PFNMAP_CACHE/work/intree
INTREE_SEL=$INTREE_WORK/linux/tools/testing/selftests
INTREE_INSTALL=$INTREE_SEL/kselftest_install

# The programs the sub-collections' Makefiles build; the in-tree collection
# must hold exactly these.
intree_programs()
{
	sed -n "s/^${1:-TEST_GEN_PROGS} := //p" "$SUITE/vfio/Makefile" "$SUITE/mm/Makefile" | tr ' ' '\n' | grep -v '^$' | sort
}

intree_tree()
{
	local t=$SECONDS
	bash "$SUITE/scripts/kselftest_tree.sh" "$INTREE_WORK" >/dev/null || return 1
	echo "  tree ready in $((SECONDS - t)) s: $INTREE_WORK/linux ($(sed -n \
		's/^VERSION = //p;s/^PATCHLEVEL = //p;s/^SUBLEVEL = //p' "$INTREE_WORK/linux/Makefile" | paste -sd.))" >&2
}

# The devices are named by nobody here: each program must SKIP, and say why.
intree_run_tests()
{
	local t=$SECONDS log=$INTREE_WORK/run_tests.log
	env -u PFNMAP_EDU_BDF -u PFNMAP_BAR_BDF -u PFNMAP_BDF \
		make -C "$INTREE_SEL" TARGETS=pfnmap run_tests 2>&1 | cat > "$log"
	echo "  make TARGETS=pfnmap run_tests: $((SECONDS - t)) s" >&2
	grep -E '^(not )?ok [0-9]+ selftests: pfnmap: ' "$log" | sed 's/^/  /' >&2
	grep -q 'warning:' "$log" && { grep -m3 'warning:' "$log" >&2; return 1; }
	python3 "$SUITE/scripts/ktap.py" all-skip "$(intree_programs | wc -l)" "$log"
}

# NIPA (netdev's VM runner) runs a collection program by program, each by
# the name kselftest-list.txt gives it, and on its slow machines with
# KSFT_MACHINE_SLOW=yes. Each program's binary goes first, so the run must
# build it; then its log must hold one result, that program's, every test
# a SKIP with a reason, and the program's line saying its bounds are
# stretched.
intree_per_program()
{
	local p log rc=0 rcm t=$SECONDS t1 res
	for p in $(intree_programs); do
		t1=$SECONDS log=$INTREE_WORK/nipa-$p.log
		rm -f "$INTREE_SEL/pfnmap/"*/"$p"
		env -u PFNMAP_EDU_BDF -u PFNMAP_BAR_BDF -u PFNMAP_BDF -u VFIO_SELFTESTS_BDF KSFT_MACHINE_SLOW=yes \
			make -C "$INTREE_SEL" TARGETS=pfnmap TEST_PROGS="$p" TEST_GEN_PROGS="" run_tests 2>&1 | cat > "$log"
		rcm=${PIPESTATUS[0]}
		res=$(grep -E '^(not )?ok [0-9]+ selftests: ' "$log")
		echo "  TEST_PROGS=$p: make exit $rcm in $((SECONDS - t1)) s: ${res:-no result}" >&2
		[ "$rcm" = 0 ] || rc=1
		grep -q 'warning:' "$log" && { grep -m3 'warning:' "$log" >&2; rc=1; }
		[ "$res" = "ok 1 selftests: pfnmap: $p" ] || { echo "  not the one result of $p alone" >&2; rc=1; }
		grep -q '^# # KSFT_MACHINE_SLOW=yes: time bounds x' "$log" ||
			{ echo "  $p did not say that KSFT_MACHINE_SLOW=yes stretches its bounds" >&2; rc=1; }
		if python3 "$SUITE/scripts/ktap.py" all-skip 1 "$log" 2> "$log.all-skip"; then
			sed -n 's/^all-skip: /    /p' "$log.all-skip" >&2
		else
			sed 's/^/  /' "$log.all-skip" >&2; rc=1
		fi
	done
	grep -h '^# # KSFT_MACHINE_SLOW=' "$INTREE_WORK"/nipa-*.log | head -n1 | sed 's/^/  /' >&2
	echo "  $(intree_programs | wc -l) programs one by one: $((SECONDS - t)) s" >&2
	return $rc
}

intree_install()
{
	local t=$SECONDS p rc=0
	make -s -C "$INTREE_SEL" TARGETS=pfnmap install > "$INTREE_WORK/install.log" 2>&1 ||
		{ tail -n 5 "$INTREE_WORK/install.log" >&2; return 1; }
	echo "  make TARGETS=pfnmap install: $((SECONDS - t)) s" >&2
	diff <(intree_programs | sed 's/^/pfnmap:/') <(sort "$INTREE_INSTALL/kselftest-list.txt") >&2 || rc=1
	# The benchmarks too, though kselftest does not run them.
	for p in $(intree_programs) $(intree_programs TEST_GEN_PROGS_EXTENDED); do
		[ -x "$INTREE_INSTALL/pfnmap/$p" ] || { echo "  not installed: pfnmap/$p" >&2; rc=1; }
	done
	cmp -s "$SUITE/settings" "$INTREE_INSTALL/pfnmap/settings" || { echo "  settings not installed" >&2; rc=1; }
	echo "  installed: $(ls "$INTREE_INSTALL/pfnmap" | tr '\n' ' ')" >&2
	return $rc
}

intree_gen_tar()
{
	local t=$SECONDS tarball=$INTREE_INSTALL/kselftest-packages/kselftest.tar.gz
	make -s -C "$INTREE_SEL" TARGETS=pfnmap gen_tar > "$INTREE_WORK/gen_tar.log" 2>&1 ||
		{ tail -n 5 "$INTREE_WORK/gen_tar.log" >&2; return 1; }
	echo "  make TARGETS=pfnmap gen_tar: $((SECONDS - t)) s, $(du -k "$tarball" | cut -f1) KiB" >&2
	tar -tzf "$tarball" | grep -qx './run_kselftest.sh' &&
		tar -tzf "$tarball" | grep -qx './pfnmap/settings' &&
		[ "$(tar -tzf "$tarball" | grep -c -E '^\./pfnmap/[a-z_]+_test$')" = "$(intree_programs | wc -l)" ] &&
		INTREE_TARBALL=$tarball	# the LAVA checks after this one take it (check.d/lava.sh)
}
INTREE_TARBALL=''

# From the tarball, as a test machine gets it.
intree_run_kselftest()
{
	local dir=$INTREE_WORK/unpacked t=$SECONDS rc
	rm -rf "$dir" && mkdir -p "$dir"
	tar -xzf "$INTREE_INSTALL/kselftest-packages/kselftest.tar.gz" -C "$dir" || return 1
	"$dir/run_kselftest.sh" -l > "$INTREE_WORK/list.txt" || return 1
	sed 's/^/  -l: /' "$INTREE_WORK/list.txt" >&2
	diff <(intree_programs | sed 's/^/pfnmap:/') <(sort "$INTREE_WORK/list.txt") >&2 || return 1
	# Through a pipe: the runner reopens /dev/stdout for appending, which
	# overwrites its own output when stdout is a plain file.
	env -u PFNMAP_EDU_BDF -u PFNMAP_BAR_BDF -u PFNMAP_BDF \
		"$dir/run_kselftest.sh" -c pfnmap 2>&1 | cat > "$INTREE_WORK/run_kselftest.log"
	rc=${PIPESTATUS[0]}
	echo "  run_kselftest.sh -c pfnmap: exit $rc in $((SECONDS - t)) s; $(grep '^# Totals' "$INTREE_WORK/run_kselftest.log")" >&2
	grep -m1 'timeout set to' "$INTREE_WORK/run_kselftest.log" | sed 's/^/  /' >&2
	grep -q "^# timeout set to $(sed -n 's/^timeout=//p' "$SUITE/settings")\$" "$INTREE_WORK/run_kselftest.log" &&
		[ "$rc" = 0 ] &&
		python3 "$SUITE/scripts/ktap.py" all-skip "$(intree_programs | wc -l)" "$INTREE_WORK/run_kselftest.log"
}

# kselftest names a test COLLECTION:PROGRAM: the collection must be new to
# mainline, and the programs must not take the names of the neighbouring
# collections' tests (vfio, iommu, mm), which would confuse result databases
# that key on the program.
intree_names()
{
	local targets mainline ours clash rc=0
	# shellcheck disable=SC2016 # $(TARGETS) is make's
	targets=$(make -s --no-print-directory -C "$INTREE_SEL" -f Makefile \
		-f <(printf 'pfnmap-print-targets:\n\t@echo $(TARGETS)\n') pfnmap-print-targets) || return 1
	echo "  mainline TARGETS: $(echo "$targets" | wc -w) collections" >&2
	if echo "$targets" | tr ' ' '\n' | grep -qx pfnmap; then
		echo "  mainline already has a collection pfnmap" >&2; rc=1
	fi
	mainline=$(for c in vfio iommu mm; do
		make -s --no-print-directory -C "$INTREE_SEL/$c" COLLECTION=$c OUTPUT="$INTREE_WORK/emit/$c" emit_tests 2>/dev/null
	done)
	echo "  mainline vfio/iommu/mm tests: $(echo "$mainline" | wc -l)" >&2
	ours=$(cat "$INTREE_INSTALL/kselftest-list.txt")
	[ -z "$(echo "$ours" | sort | uniq -d)" ] || { echo "  duplicate entries in kselftest-list.txt" >&2; rc=1; }
	clash=$(comm -12 <(echo "$ours" | cut -d: -f2 | sort) <(echo "$mainline" | cut -d: -f2 | sort -u))
	[ -z "$clash" ] || { echo "  test names also in mainline: $clash" >&2; rc=1; }
	echo "  ours: $(echo "$ours" | tr '\n' ' ')" >&2
	return $rc
}

# The logs stay for a failure's reader; the tree goes, but for its install
# (the tarball and what it packs), which the LAVA checks take.
intree_cleanup()
{
	rm -rf "$INTREE_WORK/install"
	if [ -n "$INTREE_TARBALL" ] && mv "$INTREE_INSTALL" "$INTREE_WORK/install"; then
		INTREE_INSTALL=$INTREE_WORK/install
		INTREE_TARBALL=$INTREE_INSTALL/kselftest-packages/kselftest.tar.gz
	else
		INTREE_TARBALL=''
	fi
	rm -rf "$INTREE_WORK/linux" "$INTREE_WORK/unpacked"
	return 0
}

intree_timed()
{
	local t=$SECONDS rc
	"$@"; rc=$?
	echo "  [$((SECONDS - t)) s]" >&2
	return $rc
}

step "in-tree: kernel tree with the suite as tools/testing/selftests/pfnmap, make headers" intree_timed intree_tree
step "in-tree: make TARGETS=pfnmap run_tests (host: every test SKIPs with a reason)" intree_timed intree_run_tests
step "in-tree: NIPA style, one program a run (TEST_PROGS=PROG TEST_GEN_PROGS=\"\"), KSFT_MACHINE_SLOW=yes" intree_timed intree_per_program
step "in-tree: make TARGETS=pfnmap install" intree_timed intree_install
step "in-tree: make TARGETS=pfnmap gen_tar" intree_timed intree_gen_tar
step "in-tree: run_kselftest.sh -l and -c pfnmap from the tarball" intree_timed intree_run_kselftest
step "in-tree: collection and test names unique against mainline" intree_timed intree_names
intree_cleanup
