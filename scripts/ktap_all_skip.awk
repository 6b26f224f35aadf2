# SPDX-License-Identifier: GPL-2.0
# Read kselftest runner output (run_kselftest.sh, make run_tests) for the
# collection "pfnmap" and succeed only when nothing failed and every test
# SKIPped with a reason: what a machine without the suite's devices must
# show. The runner's own per-program line says SKIP without a reason (or ok:
# the harness exits 0 when all its tests skip), so the reasons are looked for
# in each program's nested KTAP.
#
#   awk -v want=N -f ktap_all_skip.awk OUTPUT     N: the number of programs
function finish_program() {
	if (prog == "") return
	if (nested == 0 && !skip_all) {
		bad++; print "ktap_all_skip: " prog ": no nested results" > "/dev/stderr"
	}
	prog = ""
}
/^# selftests: pfnmap: / {
	finish_program()
	prog = $4; nested = 0; skip_all = 0; programs++
	next
}
/^not ok / || /^# +not ok / {
	bad++; print "ktap_all_skip: failed: " $0 > "/dev/stderr"; next
}
/^ok [0-9]+ selftests: pfnmap: / {
	finish_program(); results++; next
}
prog != "" && /^# 1\.\.0 # SKIP [^ ]/ { skip_all = 1; next }
prog != "" && /^# ok [0-9]+ / {
	nested++; total++
	if ($0 ~ / # SKIP [^ ]/) { skips++; reason[substr($0, index($0, " # SKIP ") + 8)]++ }
	else { bad++; print "ktap_all_skip: not a SKIP with a reason: " $0 > "/dev/stderr" }
}
END {
	finish_program()
	if (programs != want || results != want) {
		bad++
		printf "ktap_all_skip: %d program headers and %d results, wanted %d\n", programs, results, want > "/dev/stderr"
	}
	printf "ktap_all_skip: %d programs, %d nested tests, %d SKIP with a reason, %d problems\n", programs, total, skips, bad > "/dev/stderr"
	for (r in reason) printf "  %4d x SKIP %s\n", reason[r], r > "/dev/stderr"
	exit bad != 0
}
