# shellcheck shell=bash
# Sourced by scripts/check.sh: the merge of a VM run's boots into one KTAP
# document (scripts/ktap.py merge) reports every test a program was to run
# exactly once when the VM ended in it: the one it ended in as CRASH, the
# ones a later boot ran with their results, the ones no boot got to as
# MISS; results.py turns the MISS into the outcome "miss", unexpected. On a
# run made up here (no VM): two boots of a program of four tests, the
# first ended by a crash in its second test, the second ended by another
# crash before it started any test.

KTAP_WORK=$PFNMAP_CACHE/work/ktap

ktap_merge_crashed()
{
	local d=$KTAP_WORK/run rc=0 got want
	rm -rf "$d" && mkdir -p "$d/planned"
	printf '%s\n' f.v.one f.v.two f.v.three f.v.four > "$d/planned/prog_test"
	cat > "$d/ktap.log" <<-'EOF'
	# kernel 6.12.0, edu 0000:00:02.0, ivshmem 0000:00:03.0
	TAP version 13
	1..1
	# selftests: pfnmap/mm: prog_test
	# TAP version 13
	# 1..4
	# # Starting 4 tests from 1 test cases.
	# #  RUN           f.v.one ...
	# #            OK  f.v.one
	# ok 1 f.v.one
	# #  RUN           f.v.two ...
	# kernel 6.12.0, edu 0000:00:02.0, ivshmem 0000:00:03.0
	TAP version 13
	1..1
	# selftests: pfnmap/mm: prog_test
	# TAP version 13
	# 1..2
	EOF
	echo 'mm/prog_test|the kernel crashed' > "$d/crashes"
	echo 'mm/prog_test|the kernel crashed' >> "$d/crashes"
	echo 'BUG: unable to handle page fault for address: ff11000180000000' > "$d/crash.mm_prog_test.txt"
	python3 "$SUITE/scripts/ktap.py" merge "$d" mm/prog_test > "$d/results.ktap" || return 1
	sed 's/^/  /' "$d/results.ktap" >&2
	got=$(grep -E '^# (not )?ok ' "$d/results.ktap" | sed -E 's/ # (CRASH|MISS).*/ # \1/')
	want=$(printf '%s\n' '# ok 1 f.v.one' '# not ok 2 f.v.two # CRASH' \
		'# not ok 3 f.v.three # MISS' '# not ok 4 f.v.four # MISS')
	[ "$got" = "$want" ] || { echo "  merged results:"$'\n'"$got"$'\n'"  wanted:"$'\n'"$want" >&2; rc=1; }
	grep -qx '# # Totals: pass:1 fail:1 xfail:0 xpass:0 skip:0 error:2' "$d/results.ktap" ||
		{ echo "  no Totals line counting the MISS as errors" >&2; rc=1; }
	grep -qx 'not ok 1 selftests: pfnmap/mm: prog_test # CRASH: the kernel crashed' "$d/results.ktap" ||
		{ echo "  the program's own result is not its CRASH" >&2; rc=1; }
	# The resume lists: what a boot started is never run again.
	got=$(python3 "$SUITE/scripts/ktap.py" seen "$d/ktap.log" mm/prog_test | tr '\n' ' ')
	[ "$got" = "f.v.one f.v.two " ] || { echo "  seen: $got" >&2; rc=1; }
	/usr/bin/python3 "$SUITE/scripts/results.py" --ktap "$d/results.ktap" --release 6.12.0 --report "$d/report.txt" \
		> /dev/null && { echo "  results.py accepted a run with tests that did not run" >&2; rc=1; }
	python3 - "$d/results.json" <<-'EOF' || rc=1
	import json, sys
	doc = json.load(open(sys.argv[1]))
	ids = [r["id"] for r in doc["results"]]
	assert len(ids) == len(set(ids)), f"an id twice: {ids}"
	miss = [r["id"] for r in doc["results"] if r["outcome"] == "miss"]
	assert miss == ["prog_test:f.v.three", "prog_test:f.v.four"], miss
	assert all(r["expected"]["unexpected"] for r in doc["results"] if r["outcome"] == "miss")
	assert doc["summary"]["miss"] == 2, doc["summary"]
	print(f"  results.json: {len(ids)} results, {len(set(ids))} ids, MISS: {', '.join(miss)}", file=sys.stderr)
	EOF
	grep -m1 'UNEXPECTED MISS' "$d/report.txt" | sed 's/^/ /' >&2
	return $rc
}

step "ktap: a program the VM ended in: every planned test once, CRASH and MISS" ktap_merge_crashed

# The lib's asserts write to stderr, which the runner prefixes once ("# "),
# where the harness's lines have two ("# # "): that line is the only one
# saying why the test failed, and the expectations and the mutation check
# match failure messages in a result's output.
ktap_stderr_is_output()
{
	local d=$KTAP_WORK/stderr
	rm -rf "$d" && mkdir -p "$d"
	cat > "$d/results.ktap" <<-'EOF'
	TAP version 13
	1..1
	# selftests: pfnmap/vfio: prog_test
	# TAP version 13
	# 1..1
	# #  RUN           f.v.one ...
	# lib/dma_driver.c:157: dma_driver_memcpy: assertion '!ret' failed: the device did not complete it within 5 s
	# # one: Test failed
	# #          FAIL  f.v.one
	# not ok 1 f.v.one
	not ok 1 selftests: pfnmap/vfio: prog_test # exit=1
	EOF
	/usr/bin/python3 "$SUITE/scripts/results.py" --ktap "$d/results.ktap" --release 6.12.0 > /dev/null
	python3 - "$d/results.json" <<-'EOF'
	import json, sys
	r = [r for r in json.load(open(sys.argv[1]))["results"] if r["subtest"] == "f.v.one"][0]
	print(f"  f.v.one: {r['outcome']}, output {r['output']}", file=sys.stderr)
	assert any("did not complete it within 5 s" in ln for ln in r["output"]), "the assert's line is not in the output"
	EOF
}

step "ktap: what a test wrote to stderr is in its result's output (the lib's asserts)" ktap_stderr_is_output
