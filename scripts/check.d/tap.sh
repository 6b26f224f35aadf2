# shellcheck shell=bash
# TAP consumers: the suite's KTAP, as a fresh short VM run and the host
# runner write it, as the VM runs before this one left it in output/, and as
# kselftest's runner printed it in the in-tree and LAVA checks, parses with
# Perl's TAP::Parser (what prove runs on) and with tappy (Debian's
# python3-tap), an independent parser: no parse errors, the same counts from
# both, and those counts are ours. Each program's nested block
# ('# '-prefixed KTAP) is parsed as a TAP document of its own as well, and
# its counts must be the harness's own "# Totals" line. Sourced by
# scripts/check.sh.

TAP_WORK=$PFNMAP_CACHE/work/tap

tap_tools()
{
	# perl-base lacks TAP::Parser; more-itertools lets tappy read TAP 13.
	pfnmap_have_packages perl python3-tap python3-yaml python3-more-itertools || return 1
	echo "  TAP::Parser $(perl -MTAP::Parser -e 'print $TAP::Parser::VERSION'), prove $(prove --version | grep -o 'v[0-9.]*' | head -n1), tappy $(dpkg-query -W -f='${Version}' python3-tap)" >&2
}

# Documents: the VM runs of this check in output/ (or, run alone without
# them, a short VM run: passes and SKIPs, the race briefly), the host runner
# (every test SKIPs, and its closing count line), kselftest's runner.
tap_documents()
{
	local t=$SECONDS
	rm -rf "$TAP_WORK" && mkdir -p "$TAP_WORK/docs"
	if [ -s "$SUITE/output/check-debian-6.12/results.ktap" ]; then
		echo "  VM runs: those of this check in output/" >&2
	else
		./run_tests.sh --vm --out "$TAP_WORK/vm" --env PFNMAP_RACE_DURATION=3 \
			vfio_iommufd_pfnmap_test vfio_dmabuf_test pfnmap_walk_race_test > "$TAP_WORK/vm.log" 2>&1
		echo "  fresh VM run: $((SECONDS - t)) s, $(tail -n 40 "$TAP_WORK/vm.log" | grep -m1 '^pfnmap: ')" >&2
		[ -s "$TAP_WORK/vm/results.ktap" ] || { tail -n 5 "$TAP_WORK/vm.log" >&2; return 1; }
		cp "$TAP_WORK/vm/results.ktap" "$TAP_WORK/docs/fresh-vm.ktap"
	fi
	env -u PFNMAP_EDU_BDF -u PFNMAP_BAR_BDF PFNMAP_BDF=none ./run_tests.sh > "$TAP_WORK/docs/host.ktap" 2>&1
	# kselftest's runner, as the in-tree and LAVA checks before this one ran
	# it (on the host, and under busybox in the VM without the VM's framing).
	[ -s "$PFNMAP_CACHE/work/intree/run_kselftest.log" ] &&
		cp "$PFNMAP_CACHE/work/intree/run_kselftest.log" "$TAP_WORK/docs/kselftest-host.ktap"
	[ -s "$PFNMAP_CACHE/work/lava/guest.ktap" ] &&
		grep -v -e '^# kernel ' -e '^PFNMAP-DONE' "$PFNMAP_CACHE/work/lava/guest.ktap" > "$TAP_WORK/docs/kselftest-vm.ktap"
	local f
	for f in "$SUITE"/output/*/results.ktap; do
		[ -s "$f" ] || continue
		cp "$f" "$TAP_WORK/docs/output-$(basename "$(dirname "$f")").ktap"
	done
	echo "  documents: $(cd "$TAP_WORK/docs" && ls | tr '\n' ' ')" >&2
}

# counts_of FILE: "tests=.. pass=.. fail=.. skip=.. plan=.. errors=.." from
# both parsers, which must agree.
tap_parse()
{
	local file=$1 perl_counts py_counts
	perl_counts=$(perl "$SUITE/scripts/tap_counts.pl" "$file" 2>>"$TAP_WORK/errors.log") || return 1
	py_counts=$(/usr/bin/python3 "$SUITE/scripts/tap_counts.py" "$file" 2>>"$TAP_WORK/errors.log") || return 1
	if [ "$perl_counts" != "$py_counts" ]; then
		echo "  $file: TAP::Parser says $perl_counts, tappy says $py_counts" >&2
		return 1
	fi
	echo "$perl_counts"
}

tap_check_doc()
{
	local doc=$1 name counts own dir nested result rc=0 totals want n=0 truncated=0
	name=$(basename "$doc" .ktap)
	counts=$(tap_parse "$doc") || return 1
	own=$(python3 "$SUITE/scripts/ktap.py" counts "$doc")
	[ "$counts" = "$own" ] || { echo "  $name: parsers: $counts; our lines: $own" >&2; rc=1; }
	# prove exits non-zero exactly when a test failed (or the TAP is broken).
	if prove --exec cat "$doc" > "$TAP_WORK/prove.$name.log" 2>&1; then
		[[ $counts == *" fail=0 "* ]] || { echo "  $name: prove passed a failing document" >&2; rc=1; }
	else
		[[ $counts != *" fail=0 "* ]] || { echo "  $name: prove failed: $(grep -m1 -i 'parse errors\|wrong' "$TAP_WORK/prove.$name.log")" >&2; rc=1; }
	fi
	dir=$TAP_WORK/nested/$name
	mkdir -p "$dir"
	python3 "$SUITE/scripts/ktap.py" split "$dir" "$doc"
	for nested in "$dir"/*.tap; do
		[ -e "$nested" ] || continue
		n=$((n + 1))
		result=$(cat "${nested%.tap}.result")
		counts=$(tap_parse "$nested") || { rc=1; continue; }
		# A program that crashed, hung or died leaves its block cut short:
		# only there may the plan be unmet.
		if [[ $counts != *" errors=0" ]]; then
			if [[ $result == "not ok "* ]]; then
				truncated=$((truncated + 1))
			else
				echo "  $name/$(basename "$nested"): $counts although the program says: $result" >&2; rc=1
			fi
		fi
		totals=$(grep -m1 '^# Totals: ' "$nested") || continue
		want=$(echo "$totals" | awk -F'[ :]+' '{ for (i = 3; i < NF; i += 2) v[$i] = $(i + 1)
			printf "pass=%d fail=%d skip=%d", v["pass"] + v["xfail"], v["fail"] + v["xpass"] + v["error"], v["skip"] }')
		[[ $counts == *" $want "* ]] ||
			{ echo "  $name/$(basename "$nested"): parsers: $counts; the harness: $totals" >&2; rc=1; }
	done
	echo "  $name: $(tap_parse "$doc"); $n nested documents$([ $truncated = 0 ] || echo ", $truncated cut short in a failed program")" >&2
	return $rc
}

tap_check_all()
{
	local doc rc=0
	: > "$TAP_WORK/errors.log"
	for doc in "$TAP_WORK"/docs/*.ktap; do
		tap_check_doc "$doc" || rc=1
	done
	[ -s "$TAP_WORK/errors.log" ] && sed 's/^/  parse error (allowed only in a failed program): /' "$TAP_WORK/errors.log" | sort -u | head -n 5 >&2
	return $rc
}

# A broken document must be refused, or the checks above prove nothing.
tap_rejects_broken()
{
	local bad=$TAP_WORK/broken.ktap perl_counts py_counts
	local doc
	doc=$(ls "$TAP_WORK"/docs/fresh-vm.ktap "$TAP_WORK"/docs/output-check-debian-6.12.ktap 2>/dev/null | head -n1)
	[ -n "$doc" ] || { echo "  no VM run's KTAP to break" >&2; return 1; }
	sed '0,/^ok 1 /s//ok 7 /' "$doc" | sed '0,/^1\.\.[0-9]*/s//1..9/' | sed '$d' > "$bad"
	echo "  from $(basename "$doc"):" >&2
	perl_counts=$(perl "$SUITE/scripts/tap_counts.pl" "$bad" 2>&1 | tr '\n' ' ')
	py_counts=$(/usr/bin/python3 "$SUITE/scripts/tap_counts.py" "$bad" 2>&1 | tr '\n' ' ')
	echo "  renumbered, plan 1..9, last result cut:" >&2
	echo "    TAP::Parser: $perl_counts" >&2
	echo "    tappy: $py_counts" >&2
	[[ $perl_counts == *"errors="[1-9]* ]] && [[ $py_counts == *"errors="[1-9]* ]]
}

step "tap: TAP::Parser, prove and tappy installed" tap_tools
step "tap: KTAP documents (the VM runs in output/, host run, kselftest runner)" tap_documents
step "tap: TAP::Parser and tappy agree with our counts, nested blocks with the harness's totals" tap_check_all
step "tap: a broken document is refused by both parsers" tap_rejects_broken
