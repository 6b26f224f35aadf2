# shellcheck shell=bash
# Sourced by scripts/check.sh: the tmt drop-in (labs/tmt, .fmf/version)
# read the way tmt reads it, by the rules of tmt's own schemas and spec
# (teemtee/tmt: tmt/schemas/{test,plan,core,common,results}.yaml,
# tmt/schemas/{discover/fmf,provision/beaker,execute/tmt}.yaml,
# spec/hardware/{arch,iommu}.fmf, spec/results.fmf), and its custom
# results as tmt imports them (tmt/steps/execute/__init__.py,
# extract_custom_results): scripts/tmt_results.py on the runs in output/,
# on a KTAP through results.py, and on a run the runner refused with exit
# 4; the file tmt would read must be valid, and a broken one refused. The
# test script itself runs here too, in a copy of the work tree with no
# device named: the runner refuses with exit 4 and tmt gets `skip`.
# (tmt is in no Debian suite: no tmt runs here.)

TMT_WORK=$PFNMAP_CACHE/work/tmt

tmt_metadata() {
	/usr/bin/python3 - "$SUITE" <<'PY'
import os, re, sys, yaml
suite = sys.argv[1]
bad = []
# fmf: the tree's root holds .fmf/version, an integer (fmf's Tree).
try:
    int(open(os.path.join(suite, ".fmf/version")).read().strip())
except (OSError, ValueError) as e:
    bad.append(f".fmf/version: {e}")
nodes = {}
for d, _, files in os.walk(os.path.join(suite, "labs/tmt")):
    for f in sorted(files):
        if f.endswith(".fmf"):
            p = os.path.join(d, f)
            name = "/" + os.path.relpath(p, suite)[:-4]
            nodes[re.sub(r"/main$", "", name)] = (p, yaml.safe_load(open(p)))

def strs(v):        # common.yaml one_or_more_strings
    return isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v))
DURATION = re.compile(r"^([0-9*. ]+[smhd]? *)+$")      # common.yaml duration
CORE = {"summary": lambda v: isinstance(v, str), "description": lambda v: isinstance(v, str),
        "contact": strs, "tag": strs, "enabled": lambda v: isinstance(v, bool),
        "order": lambda v: isinstance(v, int), "id": lambda v: isinstance(v, str),
        "tier": lambda v: v is None or isinstance(v, str) or (isinstance(v, int) and v >= 0),
        "adjust": lambda v: isinstance(v, (list, dict)), "link": lambda v: isinstance(v, (list, dict, str))}
ENV = lambda v: isinstance(v, dict) and all(isinstance(x, (str, bool, int, float)) for x in v.values())
# test.yaml: additionalProperties false, required test, ^extra- strings.
TEST = dict(CORE, component=strs, duration=lambda v: isinstance(v, str) and DURATION.match(v),
            environment=ENV, framework=lambda v: v in ("beakerlib", "shell"),
            check=lambda v: True, manual=lambda v: isinstance(v, bool), tty=lambda v: isinstance(v, bool),
            path=lambda v: isinstance(v, str) and v.startswith("/"), recommend=strs,
            require=lambda v: strs(v) or isinstance(v, (dict, list)), test=lambda v: isinstance(v, str),
            result=lambda v: v in ("respect", "xfail", "pass", "info", "warn", "error", "fail", "skip",
                                   "custom", "restraint"))
PLAN = dict(CORE, context=lambda v: isinstance(v, dict), environment=ENV,
            **{"environment-file": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v)},
            discover=lambda v: True, provision=lambda v: True, prepare=lambda v: True,
            execute=lambda v: True, report=lambda v: True, finish=lambda v: True, plan=lambda v: isinstance(v, dict))
# The step plugins' schemas: discover/fmf.yaml, provision/beaker.yaml, execute/tmt.yaml.
STEPS = {("discover", "fmf"): {"how", "name", "url", "ref", "path", "order", "test", "link", "filter",
                               "exclude", "prune", "fmf-id", "modified-only", "modified-url",
                               "modified-ref", "sync-repo", "where", "when", "adjust-tests"},
         ("provision", "beaker"): {"how", "name", "arch", "image", "provision-timeout", "provision-tick",
                                   "hardware", "role", "whiteboard", "beaker-job-owner"},
         ("execute", "tmt"): {"how", "exit-first", "name", "script", "where", "duration"}}

def keys(where, node, rules):
    for k, v in node.items():
        if k.startswith("extra-"):
            ok = isinstance(v, str)
        elif k not in rules:
            bad.append(f"{where}: unknown key {k!r}"); continue
        else:
            ok = rules[k](v)
        if not ok:
            bad.append(f"{where}: {k}: {v!r} is not what the schema allows")

tests, plans = {}, {}
for name, (p, node) in nodes.items():
    if not isinstance(node, dict):
        bad.append(f"{name}: not a mapping"); continue
    if "test" in node:
        tests[name] = node; keys(name, node, TEST)
        if node.get("result") != "custom":
            bad.append(f"{name}: result {node.get('result')!r}: the suite's results come as custom results")
        script = os.path.join(suite, node.get("path", os.path.dirname(name)).lstrip("/"), node["test"].split()[0])
        if not os.access(script, os.X_OK):
            bad.append(f"{name}: test {node['test']!r}: no executable {script}")
    elif "execute" in node or "plan" in node:
        plans[name] = node; keys(name, node, PLAN)
        for step in ("discover", "provision", "execute"):
            for s in node.get(step, []) if isinstance(node.get(step), list) else [node.get(step)]:
                if s is None:
                    continue
                allowed = STEPS.get((step, s.get("how")))
                if allowed is None:
                    bad.append(f"{name}: {step}: how {s.get('how')!r} is not checked here"); continue
                bad += [f"{name}: {step}: unknown key {k!r}" for k in s if k not in allowed]
        hw = (node.get("provision") or {}).get("hardware", {})
        if not isinstance(hw.get("iommu", {}).get("is-supported"), bool):
            bad.append(f"{name}: provision.hardware.iommu.is-supported is not a boolean (spec/hardware/iommu.fmf)")
        if hw.get("arch") != "x86_64":
            bad.append(f"{name}: provision.hardware.arch {hw.get('arch')!r}: the suite's drivers are x86's")
        pats = (node.get("discover") or {}).get("test", [])
        for pat in [pats] if isinstance(pats, str) else pats:
            # discover fmf's test: regular expressions fmf searches names with.
            if not any(re.search(pat, t) for t in nodes):
                bad.append(f"{name}: discover test {pat!r} selects no test")
    else:
        bad.append(f"{name}: neither a test (test) nor a plan (execute)")
if not tests or not plans:
    bad.append(f"{len(tests)} tests and {len(plans)} plans in labs/tmt")
print(f"  fmf tree: {len(tests)} test(s) {', '.join(tests)}, {len(plans)} plan(s) {', '.join(plans)}: "
      f"{'valid' if not bad else 'INVALID'}", file=sys.stderr)
for b in bad:
    print(f"  {b}", file=sys.stderr)
sys.exit(1 if bad else 0)
PY
}

# tmt's custom results from every run in output/, and from a KTAP through
# results.py: valid, and the same results both ways.
tmt_custom_results() {
	local f d n=0 rc=0 a b
	rm -rf "$TMT_WORK" && mkdir -p "$TMT_WORK"
	for f in "$SUITE"/output/*/results.json; do
		[ -f "$f" ] || continue
		n=$((n + 1)); d=$TMT_WORK/$n
		/usr/bin/python3 "$SUITE/scripts/tmt_results.py" --out "$d" "$f" 2> "$d.log" &&
			/usr/bin/python3 "$SUITE/scripts/tmt_results.py" --validate "$d" 2>> "$d.log" ||
			{ echo "  ${f#"$SUITE"/}: invalid" >&2; sed 's/^/    /' "$d.log" >&2; rc=1; continue; }
		echo "  ${f#"$SUITE"/}: $(/usr/bin/python3 -c 'import collections, json, sys
d = json.load(open(sys.argv[1])); c = collections.Counter(r["result"] for r in d[1:])
print(len(d), "tmt results, the test itself", d[0]["result"] + ",", dict(sorted(c.items())))' "$d/results.json")" >&2
	done
	[ "$n" -gt 0 ] || { echo "  no results.json under output/ (make run, or the VM steps of make check)" >&2; return 1; }
	# The newest run: its KTAP through results.py's build(), with its expectations.
	f=$(ls -t "$SUITE"/output/*/results.json | head -n 1); d=$(dirname "$f")
	local expect
	expect=$(/usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["expectations_file"] or "")' "$f")
	/usr/bin/python3 "$SUITE/scripts/tmt_results.py" --out "$TMT_WORK/ktap" --ktap "$d/results.ktap" \
		--release "$(/usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["kernel"]["release"])' "$f")" \
		${expect:+--expect "$expect"} 2> /dev/null || rc=1
	a=$(/usr/bin/python3 "$SUITE/scripts/tmt_results.py" --out "$TMT_WORK/json" "$f" 2>/dev/null;
		/usr/bin/python3 -c 'import json, sys; print([(r["name"], r["result"]) for r in json.load(open(sys.argv[1]))])' "$TMT_WORK/json/results.json")
	b=$(/usr/bin/python3 -c 'import json, sys; print([(r["name"], r["result"]) for r in json.load(open(sys.argv[1]))])' "$TMT_WORK/ktap/results.json")
	[ "$a" = "$b" ] && echo "  ${d#"$SUITE"/}/results.ktap through results.py: the same tmt results as its results.json" >&2 ||
		{ echo "  ${d#"$SUITE"/}: the KTAP and the results.json give different tmt results" >&2; rc=1; }
	return $rc
}

# The refusals: a broken file must not pass for tmt's format. The edits
# need three results (two duplicate names), so they start from the
# converted run with the most, not the newest one: that may be a bad-input
# run of one result, where an edit of r[2] changed nothing and the
# unchanged file was (rightly) accepted.
tmt_refusals() {
	local src rc=0 what
	src=$(/usr/bin/python3 -c 'import json, sys
print(max((d.rstrip("/") for d in sys.argv[1:]), key=lambda d: len(json.load(open(d + "/results.json")))))' \
		"$TMT_WORK"/[0-9]*/ 2>/dev/null)
	[ -f "$src/results.json" ] || { echo "  no converted results (the step before failed)" >&2; return 1; }
	echo "  from ${src#"$TMT_WORK"/}: $(/usr/bin/python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))))' "$src/results.json") tmt results" >&2
	for what in 'r[1]["result"] = "passed"' 'r[1]["name"] = r[1]["name"].lstrip("/")' \
		'r[1]["log"] = ["../../etc/passwd"]' 'r[1]["note"] = "a string"' 'r[2]["name"] = r[1]["name"]' \
		'del r[1]["result"]' 'r[1]["outcome"] = "pass"'; do
		rm -rf "$TMT_WORK/bad" && cp -r "$src" "$TMT_WORK/bad"
		/usr/bin/python3 -c "import json, sys; p = sys.argv[1]; r = json.load(open(p)); $what; json.dump(r, open(p, 'w'))" \
			"$TMT_WORK/bad/results.json" ||
			{ echo "  could not break the file: $what" >&2; rc=1; continue; }
		if /usr/bin/python3 "$SUITE/scripts/tmt_results.py" --validate "$TMT_WORK/bad" 2> "$TMT_WORK/bad.log"; then
			echo "  ACCEPTED: $what" >&2; rc=1
		else
			echo "  refused ($what): $(head -n 1 "$TMT_WORK/bad.log" | sed 's/^tmt_results.py: [^:]*: //')" >&2
		fi
	done
	return $rc
}

# The test script as tmt runs it, on this machine, with no device named:
# the runner's exit 4 becomes the test's skip, with the runner's reason.
tmt_test_script_refused() {
	local copy=$TMT_WORK/src data=$TMT_WORK/data rc got
	rm -rf "$copy" "$data" && mkdir -p "$copy" "$data"
	(cd "$SUITE" && git ls-files -co --exclude-standard | grep -v '^output/' | cpio -pdm "$copy" 2>/dev/null)
	env -u PFNMAP_BDF -u PFNMAP_EDU_BDF -u PFNMAP_BAR_BDF -u VFIO_SELFTESTS_BDF \
		TMT_TEST_DATA="$data" KSRC="$PFNMAP_CACHE/ksrc/default" \
		"$copy/labs/tmt/pfnmap-test.sh" > "$TMT_WORK/script.log" 2>&1
	rc=$?
	/usr/bin/python3 "$SUITE/scripts/tmt_results.py" --validate "$data" || return 1
	got=$(/usr/bin/python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); print(len(r), r[0]["name"], r[0]["result"], "--", r[0]["note"][0])' "$data/results.json")
	echo "  labs/tmt/pfnmap-test.sh, no device named: exit $rc; results.json: $got" >&2
	rm -rf "$copy"
	[ "$rc" = 4 ] && [[ $got == "1 / skip -- "* ]]
}

step "tmt: the fmf tree (labs/tmt, .fmf/version) by tmt's schemas: keys, types, required fields" tmt_metadata
step "tmt: custom results from the runs in output/ and from a KTAP, valid for tmt" tmt_custom_results
step "tmt: a broken custom results file is refused" tmt_refusals
step "tmt: the test script with no device named: exit 4 becomes tmt's skip" tmt_test_script_refused
