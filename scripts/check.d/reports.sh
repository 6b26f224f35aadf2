# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
# The dashboard files of the VM runs check.sh made above (results.json and
# junit.xml, written by vm/run.sh through scripts/results.py) are valid and
# agree with the runner's own verdicts, and the kernel matrix tabulates
# them all; a missing or malformed file fails. No VM time of its own.

# The runs vm_run made: the three Debian kernels always, the prebuilt ones
# when check.sh had them.
reports_runs() {
	echo "$SUITE/output/check-debian-6.12"
	echo "$SUITE/output/check-debian-sid"
	echo "$SUITE/output/check-debian-backports"
	[ -f "$SHARED/bzImage-7.2.13-iommufd" ] && echo "$SUITE/output/check-iommufd-7.2"
	[ -f "$SHARED/bzImage-6.12.117-pagewalk-revert" ] && echo "$SUITE/output/check-pagewalk-revert"
	[ -f "$SHARED/bzImage-7.3.4-dmabuf-mmap" ] && [ -f "$SERIES" ] && echo "$SUITE/output/check-dmabuf-mmap-7.3"
	[ -f "$SERIES" ] && echo "$SUITE/output/check-dmabuf-mmap-7.3-built"
	return 0
}

reports_valid() {
	local runs rc
	pfnmap_have_packages python3-jsonschema python3-lxml python3-junitparser || return 1
	mapfile -t runs < <(reports_runs)
	rm -rf "$SUITE/output/check-matrix"
	bash "$SUITE/scripts/matrix.sh" --out "$SUITE/output/check-matrix" --from "${runs[@]}" 2>&1 | sed 's/^/  /' >&2
	rc=${PIPESTATUS[0]}
	# 1 means unexpected results: the VM steps above judge those.
	[ "$rc" = 0 ] || [ "$rc" = 1 ] || { echo "  matrix.sh exited $rc" >&2; return 1; }
	/usr/bin/python3 "$SUITE/scripts/validate_results.py" --matrix "$SUITE/output/check-matrix" "${runs[@]}" |
		sed 's/^/  /' >&2
	[ "${PIPESTATUS[0]}" = 0 ]
}

# The validator must notice what it exists to notice.
reports_reject() {
	local src=$SUITE/output/check-debian-6.12 tmp bad=0 what
	[ -f "$src/results.json" ] || { echo "  no $src/results.json to spoil" >&2; return 1; }
	tmp=$(mktemp -d)
	for what in no-json no-junit json-cut junit-cut outcome count; do
		cp -r "$src" "$tmp/$what"
		case $what in
		no-json)   rm "$tmp/$what/results.json" ;;
		no-junit)  rm "$tmp/$what/junit.xml" ;;
		json-cut)  head -c 2000 "$src/results.json" > "$tmp/$what/results.json" ;;
		junit-cut) head -n 20 "$src/junit.xml" > "$tmp/$what/junit.xml" ;;
		# junit.xml and results.json disagreeing about one test, or a count.
		outcome)   sed -i '0,/"outcome" value="pass"/s//"outcome" value="fail"/' "$tmp/$what/junit.xml" ;;
		count)     sed -i '0,/"unexpected": 0/s//"unexpected": 1/' "$tmp/$what/results.json" ;;
		esac
		if /usr/bin/python3 "$SUITE/scripts/validate_results.py" "$tmp/$what" > "$tmp/out" 2>&1; then
			echo "  $what: not rejected" >&2; bad=1
		else
			echo "  $what: $(tail -n1 "$tmp/out")" >&2
		fi
	done
	if bash "$SUITE/scripts/matrix.sh" --out "$tmp/matrix" --from "$tmp/no-such-run" 2>/dev/null; [ $? != 3 ]; then
		echo "  matrix.sh --from a missing run: not exit 3" >&2; bad=1
	fi
	rm -rf "$tmp"
	return $bad
}

# KCIDB (KernelCI's common database): every run converts into test records
# that pass the schema written from KCIDB's specification, each result once
# with its status, and the schema refuses what KCIDB would.
reports_kcidb() {
	local runs tmp rc=0
	pfnmap_have_packages python3-jsonschema || return 1
	mapfile -t runs < <(reports_runs)
	# The ktap step's run made up with tests that did not run: MISS.
	[ -f "$PFNMAP_CACHE/work/ktap/run/results.json" ] && runs+=("$PFNMAP_CACHE/work/ktap/run")
	tmp=$(mktemp -d)
	/usr/bin/python3 - "$SUITE/scripts" "$tmp" "${runs[@]}" <<-'PY' || rc=1
	import copy, json, os, subprocess, sys
	import jsonschema
	scripts, tmp, runs = sys.argv[1], sys.argv[2], sys.argv[3:]
	schema = json.load(open(os.path.join(scripts, "kcidb.schema.json")))
	jsonschema.Draft7Validator.check_schema(schema)
	check = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
	want = {"pass": "PASS", "fail": "FAIL", "crash": "FAIL", "timeout": "ERROR", "miss": "MISS", "skip": "SKIP"}
	bad = 0
	for run in runs:
	    out = os.path.join(tmp, os.path.basename(run) + ".kcidb.json")
	    if subprocess.run([sys.executable, os.path.join(scripts, "kcidb.py"), "--origin", "pfnmap_check",
	                       os.path.join(run, "results.json"), out]).returncode:
	        bad += 1
	        continue
	    doc, data = json.load(open(os.path.join(run, "results.json"))), json.load(open(out))
	    errors = [e.message for e in check.iter_errors(data)]
	    ids = [t["id"] for t in data["tests"]]
	    paths = [t["path"] for t in data["tests"]]
	    got = [t["status"] for t in data["tests"]]
	    exp = [want[r["outcome"]] for r in doc["results"]]
	    problems = errors[:3]
	    if len(set(ids)) != len(ids) or len(set(paths)) != len(paths):
	        problems.append("an id or a path twice")
	    if got != exp:
	        problems.append(f"statuses {got} for outcomes {exp}")
	    counts = {s: got.count(s) for s in sorted(set(got))}
	    print(f"  {os.path.basename(run)}: {len(ids)} test records, {counts}"
	          + (f"; PROBLEMS: {problems}" if problems else ""), file=sys.stderr)
	    bad += bool(problems)
	# The schema must be able to say no.
	t = data["tests"][0]
	for what, change in (("a status KCIDB does not have", lambda t: t.update(status="CRASH")),
	                     ("an id without its origin", lambda t: t.update(id="no-origin")),
	                     ("a null", lambda t: t.update(comment=None)),
	                     ("a property KCIDB does not define", lambda t: t.update(outcome="pass"))):
	    broken = copy.deepcopy(data)
	    change(broken["tests"][0])
	    refused = not check.is_valid(broken)
	    print(f"  {what}: {'refused' if refused else 'ACCEPTED'}", file=sys.stderr)
	    bad += not refused
	sys.exit(1 if bad else 0)
	PY
	rm -rf "$tmp"
	return $rc
}

step "reports: results.json and junit.xml of the VM runs, and their kernel matrix" reports_valid
step "reports: every run as KCIDB test records, valid against KCIDB's schema" reports_kcidb
step "reports: missing or malformed results files are rejected" reports_reject
