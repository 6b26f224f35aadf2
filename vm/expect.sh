# shellcheck shell=bash
# Results of a VM run as one KTAP document, and their comparison with the
# expected outcomes for the kernel that ran them (vm/expect/*.expect).
#
# An expectations file:
#   # match: GLOB          kernel release (uname -r) or kernel SPEC it is for
#   PROGRAM[:SUBTEST-GLOB] OUTCOME [what the known bug is, and its fix]
# OUTCOME is pass, fail, skip or crash (the program took the kernel down).
# The last matching line wins; what no line matches is expected to pass.

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

# expect_report KTAP FILE RELEASE: compare; exit 1 on any unexpected result.
expect_report()
{
	local ktap=$1 file=${2:-} release=$3
	awk -v file="$file" -v release="$release" '
	function glob2re(g,   r) {
		r = g; gsub(/[.+^$()|{}\[\]\\]/, "\\\\&", r); gsub(/\*/, ".*", r); gsub(/\?/, ".", r)
		return "^" r "$"
	}
	BEGIN {
		n = 0
		if (file != "") {
			while ((getline line < file) > 0) {
				if (line ~ /^[ \t]*(#|$)/) continue
				split(line, f, /[ \t]+/)
				n++; pat[n] = glob2re(f[1]); out[n] = f[2]
				txt = line; sub(/^[^ \t]+[ \t]+[^ \t]+[ \t]*/, "", txt); why[n] = txt
				if (f[2] !~ /^(pass|fail|skip|crash)$/) { print "bad outcome in " file ": " line; bad = 1 }
			}
		}
	}
	function expected(key,   i, e) {
		e = "pass"; ew = ""
		for (i = 1; i <= n; i++) if (key ~ pat[i]) { e = out[i]; ew = why[i] }
		return e
	}
	function judge(key, got, reason,   e) {
		e = expected(key); total++
		if (got == e || (file == "" && got == "skip")) {
			if (got == "fail" || got == "crash") { known++; kl = kl sprintf("  known kernel bug: %s %s: %s\n", key, got, ew) }
			else ok++
			return
		}
		unexp++
		ul = ul sprintf("  UNEXPECTED %s: %s (expected %s%s)%s\n", toupper(got), key, e,
			ew != "" ? ": " ew : "", reason != "" ? " -- " reason : "")
	}
	/^# selftests: pfnmap\// { prog = $0; sub(/.*: /, "", prog); next }
	/^# (not )?ok [0-9]+ / {
		line = substr($0, 3); got = (line ~ /^not ok/) ? "fail" : (line ~ /# SKIP/) ? "skip" : "pass"
		name = line; sub(/^(not )?ok [0-9]+ /, "", name); reason = ""
		if (name ~ / # /) { reason = name; sub(/^[^#]*# (SKIP)? */, "", reason); sub(/ # .*/, "", name) }
		judge(prog ":" name, got, reason); next
	}
	/^not ok [0-9]+ selftests: .*# CRASH/ { judge(prog, "crash", ""); next }
	/^not ok [0-9]+ selftests: .*# (TIMEOUT|not run)/ { r = $0; sub(/.*# /, "", r); judge(prog, "fail", r); next }
	/^(not )?ok [0-9]+ selftests: / {
		# A program whose crash was expected must crash.
		if (expected(prog) == "crash") judge(prog, "pass", "")
		next
	}
	END {
		printf "expectations for %s: %s\n", release, file == "" ? "none (every test expected to pass or skip)" : file
		printf "%s%s", kl, ul
		printf "expected: %d results as expected, %d known kernel bugs, %d unexpected\n", ok, known, unexp
		exit (unexp > 0 || bad)
	}' "$ktap"
}
