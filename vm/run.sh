#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the suite in a QEMU VM: q35 with a virtual Intel IOMMU and the devices
# of vm/devices (an edu device, the DMA engine, and an ivshmem-plain device
# whose 2 GiB BAR2 is large enough for PUD leaves). Streams KTAP with a
# progress line per test program; restarts the VM after a kernel crash so
# the remaining programs still run.
#
# usage: run_tests.sh --vm [--kernel SPEC] [--modules DIR] [--expect FILE]
#                          [--out DIR] [--env NAME=VALUE]... [--devices LIST]
#                          [--guest-script FILE [--guest-file FILE]...]
#                          [--append KERNEL-ARGS] [--qemu-arg ARG]...
#                          [--hang-timeout S] [--fault KIND@REGEX[+S]]
#                          [--only PROGRAM:GLOB]... [--qemu QEMU]
#                          [--tcg-thread single|multi] [TEST...]
#   SPEC: debian-sid (default), debian-6.12, or a bzImage path
#   QEMU: host (the system's, default), backports (the host release's
#         backports: QEMU 10 on Debian 12, unpacked into the cache, not
#         installed) or a path (vm/qemu.sh); also PFNMAP_QEMU
#   --tcg-thread: under TCG, one host thread per vCPU (multi, default: the
#         races need both vCPUs at once) or one for both (single: no text
#         patching Oops at boot, README "Boot crashes"); also PFNMAP_TCG_THREAD
#   LIST: the emulated devices, names of vm/devices, comma-separated: all of
#         them (default: edu,ivshmem), a part of them, or none (a plain QEMU
#         platform: every test must SKIP with a reason)
#   --guest-script: the guest runs "sh FILE TEST..." (in /pfnmap, KTAP on
#   stdout; its last boot's in OUT/guest.ktap) instead of run_tests.sh;
#   --guest-file puts more files (programs with their libraries) in the
#   guest's /pfnmap/extra.
#   --only: run just the tests of PROGRAM whose fixture.variant.test name
#   matches GLOB (the harness's -r), and only programs that have one.
#   --hang-timeout: how long the guest may print nothing before the VM is
#   declared hung (default: the settings timeout + 60 s).
#   KSFT_MACHINE_SLOW (environment): goes to the guest as an --env does.
#   --fault: inject a fault through the QEMU monitor once, S seconds
#   (default 2) after the first KTAP line matching REGEX (the guest's output
#   arrives in chunks, so aim at a program's start): KIND is
#   unplug-NAME, NAME a device of vm/devices: unplug-edu or unplug-ivshmem
#   (device_del; the devices then sit behind PCIe root ports so they can be
#   hot-unplugged), stop (the VM is paused for good), stop-cont (paused for
#   20 s, then continued) or panic (an NMI the guest is told to panic on).
#
# Exit: 0 no test failed; 1 a test failed, the kernel crashed or the VM hung;
#       2 bad usage; 4 a missing precondition (QEMU, edu device).

set -u
SUITE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PFNMAP_CACHE=${PFNMAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pfnmap}
# shellcheck source=vm/kernel.sh
. "$SUITE/vm/kernel.sh"
# shellcheck source=vm/initramfs.sh
. "$SUITE/vm/initramfs.sh"
# shellcheck source=vm/expect.sh
. "$SUITE/vm/expect.sh"
# shellcheck source=vm/qemu.sh
. "$SUITE/vm/qemu.sh"
# shellcheck source=vm/devices.sh
. "$SUITE/vm/devices.sh"

die() { echo "run_tests.sh --vm: $2" >&2; exit "$1"; }
note() { echo "[vm] $*" >&2; }

# The devices this runner knows are the table's (vm/devices): the names
# --devices and --fault unplug-NAME take come from it, nowhere else.
devices_load "$SUITE/vm/devices" || die 1 "$DEV_ERROR"
all_devices=$(IFS=,; echo "${DEV_NAMES[*]}")
each_device=$(printf '%s, ' "${DEV_NAMES[@]}") each_device=${each_device%, }
fault_kinds="${DEV_NAMES[*]/#/unplug-} stop stop-cont panic"
fault_kind_ok() { local k; for k in $fault_kinds; do [ "$k" = "$1" ] && return 0; done; return 1; }

spec=debian-sid modules= expect= out= tests=() guest_env=() devices=$all_devices
extra_append= extra_qemu=() hang_timeout= fault= fault_re= only=() qemu_spec=
tcg_thread=${PFNMAP_TCG_THREAD:-multi}
# kselftest's KSFT_MACHINE_SLOW (lib/slow.h) reaches the guest's programs as
# it reaches them on a host run: set here, it is an --env of its own (first,
# so that an explicit --env KSFT_MACHINE_SLOW=... wins).
[ -z "${KSFT_MACHINE_SLOW+set}" ] || set -- --env "KSFT_MACHINE_SLOW=$KSFT_MACHINE_SLOW" "$@"
while [ $# -gt 0 ]; do
	case $1 in
	--kernel)  [ $# -ge 2 ] || die 2 "--kernel needs a SPEC"; spec=$2; shift 2 ;;
	--modules) [ $# -ge 2 ] || die 2 "--modules needs a directory"; modules=$2; shift 2 ;;
	--expect)  [ $# -ge 2 ] || die 2 "--expect needs a file"; expect=$2; shift 2 ;;
	--out)     [ $# -ge 2 ] || die 2 "--out needs a directory"; out=$2; shift 2 ;;
	--env)     [ $# -ge 2 ] && [[ $2 =~ ^[A-Z_][A-Z0-9_]*=[^\ ,]*$ ]] ||
			die 2 "--env needs NAME=VALUE (no spaces or commas in VALUE)"
		   guest_env+=("$2"); shift 2 ;;
	--devices) [ $# -ge 2 ] && devices_list_ok "$2" ||
			die 2 "--devices needs $all_devices, $each_device or none"
		   devices=$2; shift 2 ;;
	--guest-script) [ $# -ge 2 ] && [ -f "$2" ] || die 2 "--guest-script needs a file"
		   export INITRAMFS_GUEST_SCRIPT=$2; shift 2 ;;
	--guest-file) [ $# -ge 2 ] && [ -f "$2" ] || die 2 "--guest-file needs a file"
		   export INITRAMFS_EXTRA="${INITRAMFS_EXTRA:-} $2"; shift 2 ;;
	--append)  [ $# -ge 2 ] || die 2 "--append needs kernel arguments"; extra_append+=" $2"; shift 2 ;;
	--qemu-arg) [ $# -ge 2 ] || die 2 "--qemu-arg needs an argument"; extra_qemu+=("$2"); shift 2 ;;
	--qemu)    [ $# -ge 2 ] || die 2 "--qemu needs host, backports or a path"; qemu_spec=$2; shift 2 ;;
	--tcg-thread) [ $# -ge 2 ] || die 2 "--tcg-thread needs single or multi"; tcg_thread=$2; shift 2 ;;
	--hang-timeout) [ $# -ge 2 ] && [[ $2 =~ ^[1-9][0-9]*$ ]] || die 2 "--hang-timeout needs a number of seconds > 0"
		   hang_timeout=$2; shift 2 ;;
	--fault)   [ $# -ge 2 ] && fault_kind_ok "${2%%@*}" && [[ $2 == *@?* ]] ||
			die 2 "--fault needs KIND@REGEX, KIND one of $fault_kinds"
		   fault=${2%%@*} fault_re=${2#*@} fault_delay=2
		   if [[ $fault_re =~ ^(.*)\+([0-9]+)$ ]]; then fault_re=${BASH_REMATCH[1]} fault_delay=${BASH_REMATCH[2]}; fi
		   shift 2 ;;
	--only)    [ $# -ge 2 ] && [[ $2 == ?*:?* ]] || die 2 "--only needs PROGRAM:GLOB"
		   only+=("$2"); shift 2 ;;
	-*)        die 2 "unknown option $1" ;;
	*)         tests+=("$1"); shift ;;
	esac
done
[ -z "$expect" ] || [ -f "$expect" ] || die 2 "no expectations file $expect"
case $tcg_thread in single|multi) ;; *) die 2 "--tcg-thread needs single or multi, not '$tcg_thread'" ;; esac

qerr=$(mktemp)
qemu_resolve "${qemu_spec:-${PFNMAP_QEMU:-${QEMU:-host}}}" 2>"$qerr"
qrc=$?
[ $qrc = 0 ] || { why=$(tail -n1 "$qerr"); rm -f "$qerr"; die $qrc "$why"; }
rm -f "$qerr"
# Asks for each device alone: "-device help" would load every module the
# system's QEMU installed, which another QEMU build refuses.
for d in "${DEV_NAMES[@]}"; do
	[[ ,$devices, == *",$d,"* ]] || continue
	drv=${DEV_DRIVER[$d]}
	"$QEMU" "${QEMU_ARGS[@]}" -device "$drv,help" 2>/dev/null | grep -q -e "^$drv options" -e "no options for $drv" ||
		die 4 "$QEMU has no $drv device: run 'make setup' (Debian's qemu-system-x86 has it)"
done
[ -x /bin/busybox ] && file_is_static=$(ldd /bin/busybox 2>&1 | grep -c 'not a dynamic') &&
	[ "$file_is_static" = 1 ] || die 4 "no static /bin/busybox: run 'make setup' (installs busybox-static)"

kerr=$(mktemp)
kernel_resolve "$spec" "$modules" 2>"$kerr"
krc=$?
[ $krc = 0 ] || { why=$(tail -n1 "$kerr"); rm -f "$kerr"; die $krc "${why:-cannot use kernel '$spec'}"; }
grep -v '^$' "$kerr" | sed 's/^/[vm] /' >&2
rm -f "$kerr"

make -s -C "$SUITE" all >/dev/null || die 1 "build failed: run 'make' to see why"
mapfile -t programs < <("$SUITE/run_tests.sh" --list)
[ ${#programs[@]} -gt 0 ] || die 1 "no test programs built"
if [ ${#tests[@]} -gt 0 ]; then
	sel=()
	for t in "${tests[@]}"; do
		found=0
		for p in "${programs[@]}"; do
			if [ "$t" = "${p##*/}" ] || [ "$t" = "${p%%/*}" ] || [ "$t" = "$p" ]; then
				sel+=("$p"); found=1
			fi
		done
		[ $found = 1 ] || die 2 "no test program '$t' (see ./run_tests.sh --list)"
	done
	programs=("${sel[@]}")
fi

# --only: each program's tests that match, run with the harness's -r through
# the same per-program lists as a resumed program (below).
declare -A only_names=()
if [ ${#only[@]} -gt 0 ]; then
	sel=()
	for p in "${programs[@]}"; do
		names=$(for o in "${only[@]}"; do
			[ "${o%%:*}" = "${p##*/}" ] || continue
			"$SUITE/$p" --list-names 2>/dev/null | while IFS= read -r n; do
				# shellcheck disable=SC2053
				[[ $n == ${o#*:} ]] && echo "$n"
			done
		done | awk '!seen[$0]++')
		[ -n "$names" ] || continue
		only_names[$p]=$names
		sel+=("$p")
	done
	[ ${#sel[@]} -gt 0 ] || die 2 "--only ${only[*]}: no test matches (see PROGRAM --list-names)"
	programs=("${sel[@]}")
fi

timeout=$(sed -n 's/^timeout=//p' "$SUITE/settings")
timeout=${timeout:-300}
out=${out:-$SUITE/output/$(echo "$KERNEL_RELEASE" | tr -c 'A-Za-z0-9.+_\n-' _)}
rm -rf "$out" && mkdir -p "$out"
initrd=$out/initramfs.gz
initramfs_build "$initrd" "$SUITE" "$KERNEL_MODROOT" "$KERNEL_RELEASE" || die 1 "building the initramfs failed"

# KVM only where it really runs a guest: /dev/kvm can open and still fail at
# the first instruction it cannot emulate. The probe boots the kernel without
# a root file system; reaching the "no root" panic means KVM works. Cached
# per host kernel.
kvm_probe()
{
	local cache=$PFNMAP_CACHE/kvm-probe.$(uname -r) log
	[ -f "$cache" ] && { cat "$cache"; return; }
	log=$(mktemp)
	if [ -w /dev/kvm ] && timeout 15 "$QEMU" "${QEMU_ARGS[@]}" -accel kvm -cpu host -M q35 -display none -nodefaults \
		-no-reboot -m 256 -kernel "$KERNEL_IMAGE" -append "panic=-1 console=ttyS0" \
		-serial "file:$log" >/dev/null 2>&1 && grep -q 'Kernel panic' "$log"; then
		echo kvm > "$cache"
	else
		echo tcg > "$cache"
	fi
	rm -f "$log"
	cat "$cache"
}
if [ "$(kvm_probe)" = kvm ]; then
	accel=kvm cpu=host
else
	accel="tcg,thread=$tcg_thread" cpu=max
fi

accel_note=${accel%%,*}
[ "$accel" != tcg,thread=single ] || accel_note="tcg, one host thread for both vCPUs"
note "kernel $KERNEL_LABEL, accel $accel_note, output in $out"

# The devices asked for, in the table's order. Only a device behind a PCIe
# port can be hot-unplugged on q35: for an unplug fault each line of the
# table has its root port (rpN for the Nth, whether asked for or not), so a
# device keeps its BDF whichever others run; the default topology keeps them
# on the root complex as before.
qemu_devices=() i=0
if [[ $fault == unplug-* ]]; then
	for d in "${DEV_NAMES[@]}"; do
		i=$((i + 1))
		qemu_devices+=(-device "pcie-root-port,id=rp$i,chassis=$i,slot=$i")
	done
fi
i=0
for d in "${DEV_NAMES[@]}"; do
	i=$((i + 1))
	[[ ,$devices, == *",$d,"* ]] || continue
	read -r -a words <<< "${DEV_ARGS[$d]}"
	for ((j = 0; j < ${#words[@]}; j += 2)); do
		[ "${words[j]}" = -device ] && [[ $fault == unplug-* ]] && words[j + 1]+=",bus=rp$i"
	done
	qemu_devices+=("${words[@]}")
done
[ "$fault" = panic ] && extra_append+=" unknown_nmi_panic=1"
# The monitor only when a fault is to be injected, its socket in a short
# directory of its own (a unix socket path has room for 107 bytes).
qmp_args=() qmp_dir=
if [ -n "$fault" ]; then
	qmp_dir=$(mktemp -d "${TMPDIR:-/tmp}/pfnmap-qmp.XXXXXX") || die 1 "cannot make a directory for the QEMU monitor"
fi
hang_timeout=${hang_timeout:-$((timeout + 60))}

# fault_fire SOCKET: the injected fault, in the background; what QEMU said
# goes to $out/faults.log.
fault_fire()
{
	local qmp=(python3 "$SUITE/vm/qmp.py" "$1")
	sleep "$fault_delay"
	{
		echo "$(date +%T) injecting $fault"
		case $fault in
		unplug-*)  "${qmp[@]}" device_del "{\"id\": \"${DEV_QMP_ID[${fault#unplug-}]}\"}" --wait-event DEVICE_DELETED --timeout 120 ;;
		stop)      "${qmp[@]}" stop ;;
		stop-cont) "${qmp[@]}" stop && sleep 20 && "${qmp[@]}" cont ;;
		panic)     "${qmp[@]}" inject-nmi ;;
		esac
		echo "$(date +%T) done: exit $?"
	} >> "$out/faults.log" 2>&1
}

CRASH_RE='Kernel panic|Oops|BUG:|general protection fault|kernel BUG at'
# An RCU stall while booting: under TCG a vCPU's timer that stopped firing
# (README, "Reliability": "timer wakeup didn't happen ... Possible timer
# handling issue"), seen once before init ran at all; booted again, as a
# boot crash is.
BOOT_STALL_RE='rcu: INFO: rcu_[a-z]+ detected stalls'
# RCU's words for a vCPU whose timer interrupts stopped, the same flake at
# any time (seen in a test too: the guest then falls silent until the hang
# bound, 720 s). What the guest did from then on has no verdict: the boot
# is void and run again, once; a second time in one run is the kernel's (a
# CPU spinning with interrupts off stops its timer as well).
TIMER_RE='Possible timer handling issue on cpu='

# "PROGRAM<TAB>TEST<TAB>SECONDS" since TEST's RUN line (for time to detect).
test_time()
{
	local us=$(( ${EPOCHREALTIME/./} - test_start ))
	printf '%s\t%s\t%d.%03d\n' "${current##*/}" "$1" $((us / 1000000)) $((us / 1000 % 1000))
}

# crash_seen WHEN (in boot_vm): whether the console shows a kernel crash.
# The first time, at WHEN, it blames the program running (not a later one)
# and ends the time to detect of the test running.
crash_seen()
{
	[ "$crash_at" = 0 ] || return 0
	grep -q -m1 -E "$CRASH_RE" "$console" 2>/dev/null || return 1
	crash_at=$1 crash_prog=$vm_current
	note "kernel crash on the console during ${vm_current:-boot}"
	[ -n "${test_name:-}" ] && test_time "$test_name" >> "$out/times"
	test_name=
	return 0
}

# timer_seen: whether the console shows a vCPU's timer stopped (TIMER_RE).
timer_seen()
{
	grep -q -m1 -e "$TIMER_RE" "$console" 2>/dev/null
}

# One VM boot running PROGRAMS; sets vm_status to done, crash, hang,
# stuck (a program left a process it could not kill; vm_stuck names it),
# timer (TIMER_RE) or qemu, and appends the guest's KTAP to $out/ktap.log via its serial port.
boot_vm()
{
	local run=$1; shift
	local list; list=$(IFS=,; echo "$*")
	local env; env=$(IFS=,; echo "${guest_env[*]}")
	local console=$out/console.$run.log ktap=$out/guest.$run.ktap
	[ -z "$qmp_dir" ] || qmp_args=(-qmp "unix:$qmp_dir/$run.sock,server=on,wait=off")
	: > "$ktap"
	"$QEMU" "${QEMU_ARGS[@]}" -accel "$accel" -cpu "$cpu" -m 4G -smp 2 \
		-M q35,kernel-irqchip=split -device intel-iommu,intremap=on,caching-mode=on \
		-kernel "$KERNEL_IMAGE" -initrd "$boot_initrd" \
		-append "console=ttyS0 intel_iommu=on iommu=nopt panic=-1 loglevel=4 pfnmap.tests=$list${env:+ pfnmap.env=$env}$extra_append" \
		-display none -monitor none "${qmp_args[@]}" -no-reboot -nic none \
		-serial "file:$console" -chardev "file,id=ktap,path=$ktap" -serial chardev:ktap \
		"${qemu_devices[@]}" "${extra_qemu[@]}" \
		</dev/null >"$out/qemu.$run.log" 2>&1 &
	local qpid=$! line last now started crash_at=0 crash_prog="" current="" banner=0
	started=$(date +%s); last=$started
	# A guest script's output may have results before any of our headers
	# (run_kselftest.sh's say "selftests: pfnmap: PROG").
	npass=0 nfail=0 nskip=0 prog_start=$started
	vm_status=qemu vm_current="" vm_crash="" vm_stuck=""
	local stuck="" partial=""
	exec 3< <(tail -n +1 -F --pid=$qpid "$ktap" 2>/dev/null)
	while :; do
		# A read that times out keeps what it got of a line in $line (the
		# serial port writes a byte at a time; seen: init's banner cut in
		# two across 2 s, so the boot counted as one that never reached
		# init): it starts the next line.
		if IFS= read -r -t 2 line <&3; then
			line=$partial${line%$'\r'} partial=""
			last=$(date +%s)
			case $line in
			"PFNMAP-DONE rc="*) vm_status=done; break ;;
			"# kernel "*)
				banner=1
				# init's banner: a crash before it happened while booting
				# (seen: an int3 oops in text patching under TCG), not in a test.
				if grep -q -E "$CRASH_RE" "$console" 2>/dev/null; then
					vm_status=bootcrash; break
				fi ;;
			"# #  RUN "*) test_name=${line#\# #  RUN }; test_name=${test_name%% ...*}
				test_name=${test_name##* }; test_start=${EPOCHREALTIME/./} ;;
			"# ok "*|"# not ok "*)
				# Each test's time, for the checks that report time to detect.
				if [ -n "${test_name:-}" ]; then
					test_time "$test_name" >> "$out/times"
					test_name=
				fi ;;&
			"# selftests: pfnmap/"*) current=${line#\# selftests: pfnmap/}; current=${current/: //}
				vm_current=$current; prog_start=$last; npass=0 nfail=0 nskip=0 ;;
			"# selftests: pfnmap: "*) current=${line#\# selftests: pfnmap: }
				prog_start=$last; npass=0 nfail=0 nskip=0 ;;
			"# ok "*"# SKIP"*) nskip=$((nskip + 1)) ;;
			"# ok "*) npass=$((npass + 1)) ;;
			"# not ok "*) nfail=$((nfail + 1)) ;;
			"ok "*|"not ok "*)
				verdict=ok; [ "${line#not ok}" != "$line" ] && verdict="NOT OK"
				note "${current##*/}: $verdict — $npass passed, $nfail failed, $nskip skipped in $(( last - prog_start ))s"
				vm_current="" ;;
			esac
			echo "$line" >> "$out/ktap.log"
			# The guest's own count of one boot: the run's is printed at the end.
			[ "${line#pfnmap: }" = "$line" ] && echo "$line"
			# A process of the program could not be killed (stuck in the
			# kernel): the programs after it would run beside it, so this
			# boot ends with the program's own verdict.
			case $line in
			"# state: "*"stuck in the kernel"*) stuck=$current ;;
			"ok "*|"not ok "*) [ -z "$stuck" ] || { vm_stuck=$stuck; vm_status=stuck; break; } ;;
			# No test starts on a kernel that has crashed: the boot ends at
			# the result of the test the crash came in (what it saw is in
			# it), or 15 s after the crash (below), and the tests after it
			# run in the next boot.
			"# ok "*|"# not ok "*)
				if crash_seen "$last"; then vm_status=crash; break; fi
				if timer_seen; then vm_status=timer; break; fi ;;
			esac
			if [ -n "$fault" ] && [[ $line =~ $fault_re ]]; then
				note "injecting fault $fault (after: $line)"
				fault_fire "$qmp_dir/$run.sock" &
				fault=
			fi
			continue
		fi
		partial+=$line
		now=$(date +%s)
		if ! kill -0 $qpid 2>/dev/null; then
			# Drain what the guest wrote before QEMU went away.
			while IFS= read -r -t 1 line <&3; do
				line=$partial${line%$'\r'} partial=""
				echo "$line" >> "$out/ktap.log"; echo "$line"
				[ "${line#PFNMAP-DONE}" != "$line" ] && vm_status=done
			done
			# A panic with -no-reboot ends QEMU before we poll the console again.
			if [ "$vm_status" != done ] && grep -q -E "$CRASH_RE" "$console" 2>/dev/null; then
				vm_status=crash
				[ -n "$crash_prog" ] || crash_prog=$vm_current
			fi
			break
		fi
		if crash_seen "$now"; then
			# Give the running test a moment to report (what it saw comes at
			# once: the kernel log it watches); the kernel is not trusted
			# after. It has said all it will once it has been quiet for 5 s:
			# a walk that oopsed holding the mmap lock leaves it stuck.
			if [ $((now - crash_at)) -ge 15 ] || [ $((now - last)) -ge 5 ] || grep -q 'Kernel panic' "$console"; then
				vm_status=crash; break
			fi
		fi
		# A crash first: a CPU it left spinning with interrupts off stops
		# its timer too.
		if [ "$crash_at" = 0 ] && timer_seen; then vm_status=timer; break; fi
		if [ $((now - last)) -gt "$hang_timeout" ] || { [ $last = "$started" ] && [ $((now - started)) -gt 300 ]; }; then
			vm_status=hang; break
		fi
	done
	exec 3<&-
	[ "$vm_status" = crash ] && [ -n "$crash_prog" ] && vm_current=$crash_prog
	# SIGTERM ends QEMU within a few tenths of a second: wait for that,
	# not a whole second, as the check boots some sixty VMs.
	if kill -0 $qpid 2>/dev/null; then
		kill $qpid 2>/dev/null
		for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 $qpid 2>/dev/null || break; sleep 0.1; done
		kill -9 $qpid 2>/dev/null
	fi
	wait $qpid 2>/dev/null
	# No banner from init: the kernel never got to run anything, no test is to
	# blame. A crash or an RCU stall is retried (TCG has flaky boot panics
	# and timers), silence is not.
	if [ $banner = 0 ]; then
		case $vm_status in
		crash|timer) vm_status=bootcrash ;;
		hang|qemu) grep -q -E "$CRASH_RE|$BOOT_STALL_RE" "$console" 2>/dev/null && vm_status=bootcrash || vm_status=noboot ;;
		esac
	fi
	vm_crash=$(grep -E -A25 "$CRASH_RE|blocked for more than|soft lockup" "$console" 2>/dev/null | head -n 40)
}

# planned PROGRAM: the tests PROGRAM is to run in this VM run (--only's
# list, else all it has, in the harness's order); kept as OUT/planned/NAME
# so that the merged KTAP reports each of them once, run or not (MISS).
planned()
{
	local prog=$1 f=$out/planned/${1##*/}
	if [ ! -f "$f" ]; then
		mkdir -p "$out/planned"
		if [ -n "${only_names[$prog]:-}" ]; then
			echo "${only_names[$prog]}"
		else
			"$SUITE/$prog" --list-names 2>/dev/null
		fi > "$f"
	fi
	cat "$f"
}

# resume_list PROGRAM RUN: the tests of PROGRAM that boot RUN ended before:
# those it was to run (its resume list, else all planned) but the ones with
# a result and the one running when the VM ended. Each boot that started a
# test leaves fewer, so the resumes end.
resume_list()
{
	local prog=$1 run=$2 list=$resume_root/pfnmap/resume/${1##*/}
	python3 "$SUITE/scripts/ktap.py" seen "$out/guest.$run.ktap" "$prog" > "$out/.seen"
	if [ -f "$list" ]; then cat "$list"; else planned "$prog"; fi | grep -vxF -f "$out/.seen"
	rm -f "$out/.seen"
}

# The programs' resume lists go into the guest as an extra cpio archive
# appended to the initramfs (the kernel unpacks them one after the other).
resume_root=$(mktemp -d "${TMPDIR:-/tmp}/pfnmap-resume.XXXXXX") || die 1 "cannot make a temporary directory"
trap 'rm -rf "$resume_root" ${qmp_dir:+"$qmp_dir"}' EXIT
mkdir -p "$resume_root/pfnmap/resume"
declare -A resumed_left=()
for p in "${!only_names[@]}"; do
	echo "${only_names[$p]}" > "$resume_root/pfnmap/resume/${p##*/}"
done

: > "$out/ktap.log"
remaining=("${programs[@]}")
run=0 host_failed=() boot_crashes=0 timer_stops=0 voided=()
while [ ${#remaining[@]} -gt 0 ]; do
	run=$((run + 1))
	# Where this boot's records start, to take them back if it is void.
	ktap_size=$(stat -c %s "$out/ktap.log") times_size=$(stat -c %s "$out/times" 2>/dev/null || echo 0)
	boot_initrd=$initrd
	if [ -n "$(ls -A "$resume_root/pfnmap/resume")" ]; then
		boot_initrd=$out/initramfs.$run.gz
		{ cat "$initrd"; (cd "$resume_root" && find . | cpio -o -H newc --quiet | gzip -1); } > "$boot_initrd"
	fi
	boot_vm $run "${remaining[@]}"
	rm -f "$out/initramfs.$run.gz"
	done_now=$(python3 "$SUITE/scripts/ktap.py" finished "$out/guest.$run.ktap")
	next=()
	for p in "${remaining[@]}"; do
		grep -qx "$p" <<<"$done_now" || next+=("$p")
	done
	if [ "$vm_status" = timer ]; then
		timer_stops=$((timer_stops + 1))
		note "a vCPU's timer stopped firing during ${vm_current:-a test} ($timer_stops time(s) in this run):"
		grep -m1 -B1 -e "$TIMER_RE" "$out/console.$run.log" | sed 's/^/[console] /' >&2
		if [ $timer_stops = 1 ]; then
			# The emulator's (README, "Reliability"): the same programs
			# and tests again, as if this boot had not been.
			truncate -s "$ktap_size" "$out/ktap.log"
			[ ! -f "$out/times" ] || truncate -s "$times_size" "$out/times"
			mv "$out/guest.$run.ktap" "$out/guest.$run.void.ktap"
			mapfile -t -O ${#voided[@]} voided < <(sed -n 's|^# selftests: pfnmap/\([^:]*\): |\1/|p' "$out/guest.$run.void.ktap")
			note "this boot is void, its results above too: booting again for the same tests"
			continue
		fi
		vm_crash=$(grep -m1 -B1 -A12 -e "$TIMER_RE" "$out/console.$run.log")
	fi
	case $vm_status in
	bootcrash)
		boot_crashes=$((boot_crashes + 1))
		note "the kernel crashed while booting, before any test ($boot_crashes time(s)):"
		grep -m1 -E "$CRASH_RE|$BOOT_STALL_RE|$TIMER_RE" "$out/console.$run.log" | sed 's/^/[console] /' >&2
		if [ $boot_crashes -gt 2 ]; then host_failed+=("${next[@]}"); break; fi
		note "booting again"
		continue ;;
	noboot)
		# Deterministic (a truncated image, a kernel without what the VM needs): no retry.
		why=$(tr -d '\r' < "$out/console.$run.log" 2>/dev/null | grep -v '^[[:space:]]*$' | tail -n1)
		note "the kernel did not boot: init never started (console: ${why:-nothing}; QEMU: $(tail -n1 "$out/qemu.$run.log" 2>/dev/null | tr -d '\r'))"
		host_failed+=("${next[@]}")
		break ;;
	done) [ ${#next[@]} -eq 0 ] || { note "the VM finished without running: ${next[*]}"; host_failed+=("${next[@]}"); }
	      break ;;
	stuck)
		note "a process of ${vm_stuck##*/} is stuck in the kernel${next[*]:+: restarting the VM for: ${next[*]}}"
		[ -n "$vm_crash" ] && { echo "$vm_crash" | sed 's/^/[console] /' >&2; }
		[ $run -lt 20 ] || { note "giving up after $run VM boots"; host_failed+=("${next[@]}"); break; } ;;
	crash|hang|qemu|timer)
		what=${vm_current:-${next[0]:-}}
		case $vm_status in
		crash) why="the kernel crashed" ;;
		timer) why="a vCPU's timer stopped firing again (RCU: Possible timer handling issue)" ;;
		hang)  why="the VM stopped responding (no output for over ${hang_timeout}s; last line: $(tail -n1 "$out/ktap.log" | cut -c1-100))" ;;
		qemu)  why="QEMU exited: $(tail -n 3 "$out/qemu.$run.log" | tr '\n' ' ')" ;;
		esac
		note "$why during ${what:-boot}"
		[ -n "$vm_crash" ] && { echo "$vm_crash" | sed 's/^/[console] /' >&2; }
		[ -z "$vm_crash" ] && [ "$vm_status" = hang ] && tail -n 15 "$out/console.$run.log" | sed 's/^/[console] /' >&2
		if [ -z "$what" ]; then host_failed+=("${next[@]}"); break; fi
		host_failed+=("$what")
		echo "$what|$why" >> "$out/crashes"
		planned "$what" > /dev/null
		{ [ -n "$vm_crash" ] && echo "$vm_crash"; } > "$out/crash.${what//\//_}.txt"
		rest=()
		for p in "${next[@]}"; do [ "$p" = "$what" ] || rest+=("$p"); done
		next=("${rest[@]}")
		# Its tests that did not get to run still can, in the next boot: each
		# resume must leave fewer to run, so a crash that recurs cannot loop.
		left=$(resume_list "$what" $run)
		nleft=$(printf '%s' "$left" | grep -c .)
		if [ "$nleft" -gt 0 ] && [ "$nleft" -lt "${resumed_left[$what]:-1000000}" ]; then
			resumed_left[$what]=$nleft
			echo "$left" > "$resume_root/pfnmap/resume/${what##*/}"
			note "${what##*/}: $nleft test(s) did not get to run; resuming them"
			next=("$what" "${next[@]}")
		elif [ "$nleft" -gt 0 ]; then
			note "${what##*/}: $nleft test(s) did not get to run, and this boot started none of them: not resuming (reported as MISS)"
		fi
		[ $run -lt 20 ] || { note "giving up after $run VM boots"; host_failed+=("${next[@]}"); break; }
		[ ${#next[@]} -gt 0 ] && note "restarting the VM for: ${next[*]}" ;;
	esac
	remaining=("${next[@]}")
done

# A guest script's output for its caller (OUT/guest.ktap): the last boot's,
# as a boot that crashed before init's banner was booted again.
[ -z "${INITRAMFS_GUEST_SCRIPT:-}" ] || cp "$out/guest.$run.ktap" "$out/guest.ktap"

# One KTAP document for the whole run, numbered across VM boots; each test
# a program was to run appears once (the programs that never ran too).
for p in "${host_failed[@]}"; do
	echo "$p" >> "$out/host_failed"
	# A guest script runs no program of the suite: nothing was planned.
	[ -n "${INITRAMFS_GUEST_SCRIPT:-}" ] || planned "$p" > /dev/null
done
python3 "$SUITE/scripts/ktap.py" merge "$out" "${programs[@]}" > "$out/results.ktap" ||
	die 1 "merging the boots' KTAP failed (python3 missing? run 'make setup')"
# The KTAP streamed above has a block per boot for a program the VM ended
# in, each cut short or resumed (a resumed block can end "ok"): end with the
# merged record instead.
# A void boot's blocks too.
for p in $({ cut -d'|' -f1 "$out/crashes" 2>/dev/null; printf '%s\n' "${voided[@]}"; } | grep . | sort -u); do
	n=$(grep -c "^$p|" "$out/crashes" 2>/dev/null)
	if [ "${n:-0}" -gt 0 ]; then
		note "${p##*/}: the VM ended $n time(s) in it, so its blocks above are partial; merged ($out/results.ktap):"
	else
		note "${p##*/}: ran in a void boot too, so a block above is void; merged ($out/results.ktap):"
	fi
	python3 "$SUITE/scripts/ktap.py" record "$out/results.ktap" "$p"
done
summary=$(python3 "$SUITE/scripts/ktap.py" summary "$out/results.ktap")
echo "$summary"
rc=0
grep -qE '^not ok ' "$out/results.ktap" && rc=1

if [ -z "$expect" ]; then
	expect=$(expect_pick "$SUITE/vm/expect" "$spec" "$KERNEL_RELEASE")
fi
# The comparison with the expected outcomes (expectations.txt), and the same
# results for CI dashboards: results.json and junit.xml.
# The system python3: junit.xml is written with its python3-junitparser.
/usr/bin/python3 "$SUITE/scripts/results.py" --ktap "$out/results.ktap" --release "$KERNEL_RELEASE" \
	--spec "$spec" --expect "$expect" --out "$out" --report "$out/expectations.txt" >&2
expect_rc=$?
if [ -s "$out/expectations.txt" ]; then
	cat "$out/expectations.txt"
else
	note "comparing with the expectations failed (python3 missing? run 'make setup')"
	expect_rc=1
fi
echo $expect_rc > "$out/expect_rc"
exit $rc
