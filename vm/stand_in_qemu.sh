#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A stand-in for qemu-system-x86_64 that plays a guest's scripted boots, so
# that vm/run.sh's rules for a guest that crashes or stalls are checked
# without the rare kernel or emulator event (scripts/check.d/runner.sh).
# It writes what the suite's init and kernel would: init's banner and
# pfnmap_walk_race_test's KTAP on the second serial port, kernel messages
# on the console.
#
# STAND_IN_MODE (which boot is which: the count is kept in STAND_IN_STATE):
#   timer        1st boot: test 1 passes, test 2 starts, a vCPU's timer
#                stops (RCU's report), silence; then a whole clean run
#   timer-twice  1st and 2nd boots as timer's 1st; 3rd: test 3 alone
#   boot-timer   1st boot: the timer report before init's banner, silence;
#                then a whole clean run
#   crash-result 1st boot: an Oops in test 1, which reports it, test 2
#                starts; 2nd: tests 2 and 3
#   crash-quiet  1st boot: an Oops in test 1, then silence; 2nd: tests 2, 3
set -u
prev= con= ktap=
for a in "$@"; do
	case $a in
	-version) echo "QEMU emulator version 7.2.22 (stand-in)"; exit 0 ;;
	*,help) echo "${a%%,help} options:"; exit 0 ;;
	esac
	[ "$prev" = -serial ] && [[ $a == file:* ]] && con=${a#file:}
	[ "$prev" = -chardev ] && [[ $a == *path=* ]] && ktap=${a#*path=}
	prev=$a
done
# Anything else (the KVM probe boots with one serial port): no guest.
[ -n "$con" ] && [ -n "$ktap" ] || exit 1

state=${STAND_IN_STATE:?the file that counts the boots}
boot=$(( $(cat "$state" 2>/dev/null || echo 0) + 1 ))
echo $boot > "$state"
T=(walk_race.pud_1g.walk_vs_refault walk_race.pmd_2m.walk_vs_refault walk_race.pte_4k.walk_vs_refault)
prog="selftests: pfnmap/mm: pfnmap_walk_race_test"

k() { printf '%s\n' "$@" >> "$ktap"; }
console() { printf '[%8.6f] %s\n' "$1" "$2" >> "$con"; }
# begin N: init's banner and the program's header for N tests
begin() {
	console 1.0 "Run /init as init process"
	k "# kernel 6.12.117, edu 0000:00:02.0, ivshmem 0000:00:03.0" "TAP version 13" "1..1" \
		"# $prog" "# TAP version 13" "# 1..$1"
}
run() { k "# #  RUN           ${T[$1]} ..."; }
pass() { run "$1"; k "# #            OK  ${T[$1]}" "# ok $2 ${T[$1]}"; }
# finish N: the program's end and the run's, N tests passed
finish() {
	k "# # Totals: pass:$1 fail:0 xfail:0 xpass:0 skip:0 error:0" "ok 1 $prog" \
		"pfnmap: $1 passed, 0 failed, 0 skipped" "PFNMAP-DONE rc=0"
}
# RCU's report of a vCPU timer that stopped firing, as seen under TCG.
timer_stops() {
	console 22.1 "rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:"
	console 22.1 "rcu: rcu_preempt kthread timer wakeup didn't happen for 21002 jiffies! g1773 f0x0 RCU_GP_WAIT_FQS(5) ->state=0x402"
	console 22.1 "rcu: 	Possible timer handling issue on cpu=1 timer-softirq=1321"
}
oops() {
	console 3.0 "BUG: unable to handle page fault for address: ff11000180000000"
	console 3.0 "Oops: Oops: 0000 [#1] PREEMPT SMP NOPTI"
}
clean() { begin 3; pass 0 1; pass 1 2; pass 2 3; finish 3; exit 0; }
# exec: the SIGTERM that ends QEMU ends the silence, leaving no sleep behind.
silence() { exec sleep 600; }

case ${STAND_IN_MODE:?timer, timer-twice, boot-timer, crash-result or crash-quiet}:$boot in
timer:1|timer-twice:[12])
	begin 3; pass 0 1; sleep 1; run 1; sleep 1; timer_stops; silence ;;
timer:*) clean ;;
timer-twice:*) begin 1; pass 2 1; finish 1 ;;
boot-timer:1) sleep 1; timer_stops; silence ;;
boot-timer:*) clean ;;
crash-result:1)
	begin 3; run 0; sleep 1; oops
	k "# # the kernel logged during the race: BUG: unable to handle page fault" "# not ok 1 ${T[0]}"
	run 1; silence ;;
crash-quiet:1) begin 3; run 0; sleep 1; oops; silence ;;
crash-*) begin 2; pass 1 1; pass 2 2; finish 2 ;;
*) echo "stand-in QEMU: no boot $boot in mode $STAND_IN_MODE" >&2; exit 1 ;;
esac
