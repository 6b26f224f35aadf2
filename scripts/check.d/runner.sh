# shellcheck shell=bash
# Sourced by scripts/check.sh: vm/run.sh's rules for a guest that crashes
# or stalls, each met with vm/stand_in_qemu.sh playing the boots, as a real
# kernel meets them too rarely (a vCPU timer that stops under TCG: a few
# times in hundreds of boots) or only on a kernel with a bug.

# runner_case MODE BOOTS SAID RESULT...: a run of pfnmap_walk_race_test in
# the stand-in's MODE takes BOOTS boots, vm/run.sh says SAID (a fixed
# string), and the merged results.ktap has these RESULT lines ("ok NAME"
# or "not ok NAME # WHY" for each test, then the program's), no others.
runner_case() {
	local mode=$1 boots=$2 said=$3 out=$SUITE/output/check-runner-$1 state t0=$SECONDS got n; shift 3
	mkdir -p "$SUITE/output"
	state=$(mktemp)
	# The hang bound below the stand-in's silence (600 s): a rule that does
	# not end the boot shows as "the VM stopped responding".
	STAND_IN_MODE=$mode STAND_IN_STATE=$state PFNMAP_QEMU=$SUITE/vm/stand_in_qemu.sh \
		./run_tests.sh --vm --kernel debian-6.12 --hang-timeout 30 --out "$out" \
		pfnmap_walk_race_test > "$out.log" 2>&1
	got=$(sed -nE 's/^# (not ok|ok) [0-9]+ /\1 /p; s/^(not ok|ok) 1 (selftests: .*)/\1 \2/p' "$out/results.ktap" 2>/dev/null)
	n=$(cat "$state" 2>/dev/null || echo 0)
	rm -f "$state"
	echo "  $mode: $n boot(s), $((SECONDS - t0)) s: $(grep -m1 -F -- "$said" "$out.log" | cut -c1-150)" >&2
	[ "$n" = "$boots" ] || { echo "    $n boot(s), want $boots" >&2; return 1; }
	if [ "$got" != "$(printf '%s\n' "$@")" ]; then
		echo "    merged results, want:" >&2; printf '      %s\n' "$@" >&2
		echo "    got:" >&2; echo "$got" | sed 's/^/      /' >&2
		return 1
	fi
	grep -q -F -- "$said" "$out.log" || { echo "    vm/run.sh did not say: $said" >&2; return 1; }
	! grep -q 'the VM stopped responding' "$out.log" || { echo "    ended by the hang bound, not by its rule" >&2; return 1; }
}

runner_rules() {
	local t0=walk_race.pud_1g.walk_vs_refault t1=walk_race.pmd_2m.walk_vs_refault t2=walk_race.pte_4k.walk_vs_refault
	local p='selftests: pfnmap/mm: pfnmap_walk_race_test' rc=0
	# A vCPU's timer that stops mid-test: the boot is void, its tests run
	# again, each reported once.
	runner_case timer 2 "this boot is void" "ok $t0" "ok $t1" "ok $t2" "ok $p" || rc=1
	# Twice in one run: the kernel's, the test it stopped in a CRASH.
	runner_case timer-twice 3 "timer stopped firing again" "ok $t0" \
		"not ok $t1 # CRASH: the VM ended during this test" "ok $t2" \
		"not ok $p # CRASH: a vCPU's timer stopped firing again (RCU: Possible timer handling issue)" || rc=1
	# Before init's banner: booted again at once, not after the 300 s bound.
	runner_case boot-timer 2 "the kernel crashed while booting, before any test (1 time(s))" \
		"ok $t0" "ok $t1" "ok $t2" "ok $p" || rc=1
	# An Oops that the test reports: the boot ends at its result, the next
	# test runs in a fresh boot.
	runner_case crash-result 2 "kernel crash on the console during mm/pfnmap_walk_race_test" \
		"not ok $t0" "ok $t1" "ok $t2" "not ok $p # CRASH: the kernel crashed" || rc=1
	# An Oops and silence: the boot ends once the guest has been quiet 5 s.
	runner_case crash-quiet 2 "kernel crash on the console during mm/pfnmap_walk_race_test" \
		"not ok $t0 # CRASH: the VM ended during this test" "ok $t1" "ok $t2" \
		"not ok $p # CRASH: the kernel crashed" || rc=1
	return $rc
}

step "runner: a timer stall voids a boot once, a crash ends it at its test's result or in silence (stand-in QEMU)" runner_rules
