# shellcheck shell=bash
# Results of a VM run as one KTAP document, and which expectations file
# (vm/expect/*.expect, its format in scripts/results.py, which compares) is
# for the kernel that ran them.

# results_ktap OUT PROGRAM...: renumber the programs' blocks of OUT/ktap.log
# into one document; programs the VM never finished get a not ok with why.
results_ktap()
{
	local out=$1 n=0 p coll name title why; shift
	echo "TAP version 13"
	echo "1..$#"
	for p in "$@"; do
		n=$((n + 1)) coll=${p%%/*} name=${p##*/}
		title="selftests: pfnmap/$coll: $name"
		# A program the VM ended in (crash, hang) has its block cut short
		# where the next program or boot begins; when its remaining tests were
		# resumed in a later boot it has more blocks. One block stays as it
		# is; several are merged: results renumbered, the test the VM ended
		# in reported as not ok, one plan.
		awk -v t="# $title" -v res="^(not )?ok [0-9]+ $title" '
			function close_block() {
				if (cut != "") {
					line[++nl] = "# not ok " (++k) " " cut " # CRASH: the VM ended during this test"
					nfail++; merged = 1
				}
				cut = ""; on = 0
			}
			$0 == t { if (on) close_block(); on = 1; blocks++; next }
			on && ($0 ~ res || /^# selftests: pfnmap\// || /^(not )?ok [0-9]+ selftests: / || /^TAP version/ || /^# kernel /) { close_block(); next }
			!on { next }
			/^# TAP version / { next }
			/^# 1\.\./ { plan = $0; next }
			match($0, /^# (not )?ok [0-9]+ /) {
				rest = substr($0, RLENGTH + 1)
				line[++nl] = ($0 ~ /^# not ok/ ? "# not ok " : "# ok ") (++k) " " rest
				if ($0 ~ /^# not ok/) nfail++; else if (rest ~ /# SKIP/) nskip++; else npass++
				cut = ""; next
			}
			# One boot'"'"'s totals: a merged block gets its own below.
			/^# # (Totals: |PASSED: |FAILED: |[0-9]+ skipped test)/ { total[++nt] = $0; next }
			/^# #  RUN / { cut = $4 }
			{ line[++nl] = $0 }
			END {
				if (on) close_block()
				if (!blocks) exit
				print "# TAP version 13"
				print (blocks == 1 && plan != "" && k == 0 ? plan : "# 1.." k)
				for (i = 1; i <= nl; i++) print line[i]
				if (blocks > 1 || merged)
					printf "# # Totals: pass:%d fail:%d xfail:0 xpass:0 skip:%d error:0\n", npass, nfail, nskip
				else
					for (i = 1; i <= nt; i++) print total[i]
			}' "$out/ktap.log" > "$out/.block"
		echo "# $title"
		[ -s "$out/.block" ] && grep -v '^$' "$out/.block"
		why=$(grep -F "$p|" "$out/crashes" 2>/dev/null | head -n1 | cut -d'|' -f2)
		if [ -n "$why" ]; then
			[ -f "$out/crash.${p//\//_}.txt" ] && sed 's/^/# [console] /' "$out/crash.${p//\//_}.txt"
			echo "not ok $n $title # CRASH: $why"
		elif grep -qE "^(not )?ok [0-9]+ $title" "$out/ktap.log"; then
			grep -E "^(not )?ok [0-9]+ $title" "$out/ktap.log" | head -n1 |
				sed -E "s/^(not )?ok [0-9]+ /\\1ok $n /"
		else
			echo "not ok $n $title # not run: the VM ended first"
		fi
	done
	rm -f "$out/.block"
}

# Subtest totals, as the closing line of the run.
ktap_summary()
{
	awk '/^# ok .*# SKIP/ { s++; next } /^# ok / { p++; next } /^# not ok / { f++; next }
	     /^not ok .*# (CRASH|TIMEOUT|not run)/ { f++ }
	     END { printf "pfnmap: %d passed, %d failed, %d skipped\n", p, f, s }' "$1"
}

# expect_pick DIR SPEC RELEASE: the expectations file for this kernel, if any.
expect_pick()
{
	local dir=$1 spec=$2 release=$3 f glob
	for f in "$dir"/*.expect; do
		[ -f "$f" ] || continue
		for glob in $(sed -n 's/^# match: *//p' "$f"); do
			# shellcheck disable=SC2053
			if [[ $release == $glob ]] || [[ $spec == $glob ]]; then
				echo "$f"; return
			fi
		done
	done
}
