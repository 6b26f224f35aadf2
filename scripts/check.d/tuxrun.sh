# shellcheck shell=bash
# Sourced by scripts/check.sh: the tuxrun / LKFT drop-in (labs/tuxrun) read
# as tuxlava reads a test class (kernelci/tuxlava: tuxlava/tests/
# kselftest.py, KSelfTest: devices, name, cmdfile, timeout in minutes), and
# the suite's real KTAP (every results.ktap in output/: VM runs of make
# check and make run) named the way LKFT names kselftest results: Linaro's
# test-definitions automated/linux/kselftest/kselftest.sh pipes
# run_kselftest.sh's output to parse-output.py, whose functions are
# reimplemented here on scripts/ktap.py's reading of the document:
#   make_name      "selftests:" cut off a top-level name; an `ok ... # SKIP
#                  REASON` result is named NAME REASON (the directive after
#                  its first four letters), any other directive dropped;
#   slugify        "[N]" removed, each run of characters outside
#                  [A-Za-z0-9_-] made "_", one leading and one trailing "_"
#                  dropped, "_-" made "__";
#   make_result    ok: skip if the directive is SKIP (tappy's Directive:
#                  ^SKIP, any case), else pass; not ok: fail (even with
#                  # SKIP, which the older perl parse_output took for skip);
#   flatten_results a nested result is PARENT_CHILD; children come only
#                  with their parent's own result line;
#   make_names_unique a name seen before gets _dup2, _dup3 ...
# and LAVA's test shell (lava_dispatcher/actions/test/shell.py) keeps its
# report keyed by test_case_id (a duplicate overwrites) and refuses one
# with whitespace. Asserted: every name unique before make_names_unique, no
# `not ok ... # SKIP`, no SKIP reason with a BDF (make_name puts the reason
# in the name: a BDF gives the same test another name, and another history,
# on every machine; the tests name a device by its role and PCI ids, and
# print its BDF on a line of its own, lib/devsel.h), every result pass,
# fail or skip, every program with its own result line; and a KTAP with a
# `not ok # SKIP`, a test twice or a BDF in a SKIP reason is refused, each
# for its own problem. (tuxrun is in no Debian suite: it is not run here.)

TUXRUN_WORK=$PFNMAP_CACHE/work/tuxrun

tuxrun_class() {
	/usr/bin/python3 - "$SUITE/labs/tuxrun/kselftest_pfnmap.py" "$SUITE/settings" \
		"$SUITE"/output/*/results.ktap <<'PY'
import ast, fnmatch, os, re, sys
sys.path.insert(0, os.path.join(os.path.dirname(sys.argv[2]), "scripts"))
from ktap import parse
tree = ast.parse(open(sys.argv[1]).read())
classes = [c for c in tree.body if isinstance(c, ast.ClassDef)
           and any(getattr(b, "id", None) == "KSelfTest" for b in c.bases)]
bad = []
if len(classes) != 1:
    sys.exit(f"  {len(classes)} KSelfTest classes in {sys.argv[1]}, wanted 1")
attrs = {t.id: ast.literal_eval(s.value) for s in classes[0].body if isinstance(s, ast.Assign)
         for t in s.targets if isinstance(t, ast.Name)}
name, cmdfile, timeout, devices = (attrs.get(k) for k in ("name", "cmdfile", "timeout", "devices"))
# tuxlava: Test.select matches name; render: cmdfile or name minus "kselftest-".
if not isinstance(name, str) or not name.startswith("kselftest-"):
    bad.append(f"name {name!r}: tuxlava's kselftest tests are kselftest-COLLECTION")
if (cmdfile or (name or "").replace("kselftest-", "")) != "pfnmap":
    bad.append(f"cmdfile {cmdfile!r}: run_kselftest.sh -c takes the collection, pfnmap")
per = int(re.search(r"^timeout=(\d+)", open(sys.argv[2]).read(), re.M).group(1))
progs = max(len(parse(open(f, errors="replace").read())) for f in sys.argv[3:]) if sys.argv[3:] else 0
if not isinstance(timeout, int) or timeout * 60 < progs * per:
    bad.append(f"timeout {timeout!r} min: {progs} programs of up to {per} s need {progs * per / 60:.0f}")
if not devices or not all(isinstance(d, str) and fnmatch.fnmatch("qemu-x86_64", d) or d.endswith("x86_64")
                          for d in devices):
    bad.append(f"devices {devices!r}: the suite is x86's (intel-iommu)")
print(f"  {classes[0].name}: name {name}, cmdfile {cmdfile}, timeout {timeout} min "
      f"(>= {progs} programs x {per} s), devices {devices}", file=sys.stderr)
for b in bad:
    print(f"  {b}", file=sys.stderr)
sys.exit(1 if bad else 0)
PY
}

# lkft_names FILE...: the LAVA test cases parse-output.py would report.
lkft_names() {
	/usr/bin/python3 - "$SUITE/scripts" "$@" <<'PY'
import collections, re, sys
sys.path.insert(0, sys.argv[1])
from ktap import parse

def slugify(line):                      # parse-output.py, slugify
    line = re.sub(r"\[\d{1,5}\]", "", line)
    return re.sub(r"_-", "__", re.sub(r"(^_|_$)", "", re.sub(r"[^A-Za-z0-9_-]+", "_", line)))

def make_name(name, directive, ok, skip):   # parse-output.py, make_name
    if name.startswith("selftests:"):
        name = name[10:]
    directive = directive[4:] if ok and skip and directive.lower().startswith("skip") else ""
    return slugify(f"{name} {directive}".strip() or "<unknown>")

def is_skip(directive):                 # tappy's Directive.skip_pattern
    return bool(re.match(r"^SKIP\S*", directive or "", re.I))

RESULT = re.compile(r"^(not ok|ok)\s*\d*\s*([^#]*)#?\s*(.*)$")   # tappy's result_base
# An ok result whose SKIP reason (which make_name appends to the name) holds a BDF.
BDF_SKIP = re.compile(r"^(# )*ok\b[^#]*#\s*skip\S*\s.*\b[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]\b", re.I)
rc, total = 0, 0
for path in sys.argv[2:]:
    text = open(path, encoding="utf-8", errors="replace").read()
    results, bad = [], []                # (name, result), flattened children first
    for p in parse(text):
        if p["result"] is None:
            bad.append(f"{p['program']}: no result line of its own: its {len(p['subtests'])} tests vanish")
            continue
        # Under tuxrun the collection is the in-tree one: "selftests: pfnmap: PROGRAM".
        pname = make_name(f"selftests: pfnmap: {p['program']}", p["directive"] or "",
                          p["result"] == "ok", is_skip(p["directive"]))
        for s in p["subtests"]:
            if "#" in s["name"]:
                bad.append(f"{s['name']!r}: a '#' in a name (tappy cuts the name there)")
            ok, skip = s["outcome"] != "fail" and s["outcome"] != "miss", s["outcome"] == "skip"
            sname = pname + "_" + make_name(s["name"], ("SKIP " + (s["reason"] or "")) if skip else "", ok, skip)
            # A TAP line in a test's own output would be a grandchild.
            for ln in s["output"]:
                m = RESULT.match(ln.strip())
                if m:
                    results.append((sname + "_" + make_name(m.group(2).strip(), m.group(3), m.group(1) == "ok",
                                                            is_skip(m.group(3))),
                                    "fail" if m.group(1) != "ok" else "skip" if is_skip(m.group(3)) else "pass"))
            results.append((sname, "skip" if skip else "pass" if ok else "fail"))
        results.append((pname, "fail" if p["result"] != "ok" else "skip" if is_skip(p["directive"]) else "pass"))
    notok_skip = [ln for ln in text.splitlines() if re.match(r"^(# )*not ok\b[^#]*#\s*skip", ln, re.I)]
    bad += [f"not ok with SKIP (LKFT: fail; the older parser: skip): {ln.strip()[:100]}" for ln in notok_skip]
    bad += [f"a BDF in a SKIP reason (its LKFT name differs from machine to machine): {ln.strip()}"
            for ln in text.splitlines() if BDF_SKIP.match(ln)]
    dups = [n for n, c in collections.Counter(n for n, _ in results).items() if c > 1]
    bad += [f"name twice (LKFT would call the second {n}_dup2): {n}" for n in dups]
    bad += [f"{n}: result {r!r}" for n, r in results if r not in ("pass", "fail", "skip")]
    bad += [f"{n!r}: not a LAVA test case id" for n, _ in results if not n or re.search(r"[\s=]", n)]
    counts = collections.Counter(r for _, r in results)
    print(f"  {path}: {len(results)} LAVA test cases {dict(sorted(counts.items()))}, "
          f"{len(set(n for n, _ in results))} names"
          f"{'' if not bad else '; ' + str(len(bad)) + ' PROBLEMS'}", file=sys.stderr)
    for b in bad[:10]:
        print(f"    {b}", file=sys.stderr)
    if len(bad) > 10:
        print(f"    ... and {len(bad) - 10} more", file=sys.stderr)
    if results and not bad:
        print(f"    e.g. {results[0][0]} {results[0][1]}", file=sys.stderr)
    rc |= bool(bad) or not results
    total += len(results)
sys.exit(1 if rc or not total else 0)
PY
}

tuxrun_names() {
	local f files=()
	for f in "$SUITE"/output/*/results.ktap; do
		[ -s "$f" ] && files+=("$f")
	done
	[ ${#files[@]} -gt 0 ] || { echo "  no results.ktap on disk (make run, or the VM steps of make check)" >&2; return 1; }
	lkft_names "${files[@]}"
}

# A KTAP the names must refuse: a `not ok ... # SKIP`, a test twice, a BDF
# in a SKIP reason (the old "0000:00:02.0 has no reset method ..."). Each
# must be refused for its own problem, not for one the source already had.
tuxrun_refusals() {
	local src f why rc=0
	src=$(ls -S "$SUITE"/output/*/results.ktap | head -n 1)
	mkdir -p "$TUXRUN_WORK"
	sed '0,/^# ok \([0-9]*\) \(.*\) # SKIP /s//# not ok \1 \2 # SKIP /' "$src" > "$TUXRUN_WORK/notok-skip.ktap"
	awk '/^# ok [0-9]+ / && !d { print; d = 1 } { print }' "$src" > "$TUXRUN_WORK/twice.ktap"
	sed '0,/^\(# ok [0-9]* .* # SKIP \).*/s//\10000:00:02.0 has no reset method (VFIO_DEVICE_FLAGS_RESET clear)/' \
		"$src" > "$TUXRUN_WORK/bdf-skip.ktap"
	for f in notok-skip:"not ok with SKIP" twice:"name twice" bdf-skip:"a BDF in a SKIP reason"; do
		why=${f#*:} f=${f%%:*}
		if lkft_names "$TUXRUN_WORK/$f.ktap" 2> "$TUXRUN_WORK/$f.log"; then
			echo "  ACCEPTED: $f.ktap" >&2; rc=1
		elif ! grep -q "^    $why" "$TUXRUN_WORK/$f.log"; then
			echo "  refused $f.ktap, but not for '$why':" >&2
			sed -n '2,4p' "$TUXRUN_WORK/$f.log" | cut -c1-150 >&2; rc=1
		else
			echo "  refused $f.ktap: $(grep -m1 "^    $why" "$TUXRUN_WORK/$f.log" | sed 's/^ *//' | cut -c1-150)" >&2
		fi
	done
	return $rc
}

step "tuxrun: the kselftest-pfnmap test class as tuxlava reads it (name, cmdfile, timeout, devices)" tuxrun_class
step "tuxrun: the suite's KTAP named by LKFT's parse-output.py rules: unique, no 'not ok # SKIP', no BDF in a SKIP reason, pass/fail/skip" tuxrun_names
step "tuxrun: a KTAP with a 'not ok # SKIP', a test twice or a BDF in a SKIP reason is refused" tuxrun_refusals
