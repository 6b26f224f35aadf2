#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Compare what LAVA's dispatcher recorded of a run of the test definition
lava/pfnmap-kselftest.yaml with the suite's own KTAP of the same run.

    lava_results.py LAVA-LOG [KTAP]

LAVA-LOG is lava-run's log (one {dt, lvl, msg} entry a line, what the
dispatcher sends a lava-server; "- " before each, as the server keeps it,
or not): its "results" entries are the
dispatcher's own results, as a server would store them; the definition's
suite is "N_pfnmap-kselftest". KTAP is run_kselftest.sh's output; without
it, the KTAP is read from the same log, from the device's console lines
(its "target" entries). The KTAP is read by the suite's one KTAP reader
(scripts/ktap.py): every program and every nested test is one result, pass,
fail or skip, named as the test definition names it for lava-test-case
(PROGRAM, PROGRAM.TEST, characters other than A-Za-z0-9_.- as _).

Exit 0 only when the job finished (LAVA's "lava"/"job" result is pass), the
definition's run completed, and LAVA holds exactly the KTAP's results: each
test case once, each with the same status, none missing, none extra.
Exit 1 otherwise, with the differences; 2 bad usage or an unreadable file.
"""

import re
import sys
from collections import Counter

import yaml

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from ktap import parse as parse_ktap  # noqa: E402

DEFINITION_RE = re.compile(r"^\d+_pfnmap-kselftest$")
# run_kselftest.sh names a program "COLLECTION: PROGRAM"; our runner, whose
# format the reader knows, "COLLECTION/SUB: PROGRAM".
RUNNER_RE = re.compile(r"^((?:# )?(?:(?:not )?ok \d+ )?selftests: pfnmap): ")


def lava_log(path):
    """The log's entries as (lvl, msg)."""
    entries = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            # lava-run prints "{...}"; a server's job log has "- {...}".
            line = line[2:] if line.startswith("- {") else line
            if not line.startswith("{"):
                continue
            try:
                e = yaml.safe_load(line)
            except yaml.YAMLError:
                continue
            if isinstance(e, dict) and "lvl" in e:
                entries.append((e["lvl"], e.get("msg")))
    return entries


def case_id(name):
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def ktap_cases(text):
    """{case: status} of run_kselftest.sh's KTAP, and the duplicates."""
    text = "\n".join(RUNNER_RE.sub(r"\1/pfnmap: ", ln) for ln in text.splitlines())
    cases, dups = {}, []
    for prog in parse_ktap(text):
        items = [(f"{prog['program']}.{s['name']}", s["outcome"]) for s in prog["subtests"]]
        if prog["result"] is not None:
            d = prog["directive"] or ""
            items.append((prog["program"], "fail" if prog["result"] == "not ok"
                          else "skip" if d.startswith("SKIP") else "pass"))
        for name, status in items:
            name = case_id(name)
            if name in cases:
                dups.append(name)
            cases[name] = status
    return cases, dups


def main(argv):
    if len(argv) not in (1, 2):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        entries = lava_log(argv[0])
        if len(argv) == 2:
            with open(argv[1], encoding="utf-8", errors="replace") as f:
                ktap = f.read()
        else:
            ktap = "\n".join(m for lvl, m in entries if lvl == "target" and isinstance(m, str))
    except OSError as e:
        print(f"lava_results.py: {e}", file=sys.stderr)
        return 2
    results = [m for lvl, m in entries if lvl == "results" and isinstance(m, dict)]
    problems = []
    job = [r for r in results if r.get("definition") == "lava" and r.get("case") == "job"]
    if [r.get("result") for r in job] != ["pass"]:
        problems.append("the job did not finish: " + (
            ", ".join(f"{r.get('result')} ({r.get('error_type')}: {r.get('error_msg')})" for r in job)
            or "no job result"))
    runs = [r for r in results if r.get("definition") == "lava" and DEFINITION_RE.match(str(r.get("case")))]
    if [r.get("result") for r in runs] != ["pass"]:
        problems.append("the test definition's run did not complete: %s" %
                        ([(r.get("case"), r.get("result")) for r in runs] or "no result for it"))

    lava, lava_dups = {}, []
    for r in results:
        if DEFINITION_RE.match(str(r.get("definition"))):
            if r["case"] in lava:
                lava_dups.append(r["case"])
            lava[r["case"]] = r.get("result")
    suite, suite_dups = ktap_cases(ktap)

    def counts(d):
        c = Counter(d.values())
        return ", ".join(f"{k} {c[k]}" for k in sorted(c))
    print(f"LAVA's results: {len(lava)} test cases ({counts(lava)}); "
          f"the suite's KTAP: {len(suite)} results ({counts(suite)})", file=sys.stderr)
    if not suite:
        problems.append("no KTAP results")
    problems += [f"LAVA has {c} twice" for c in lava_dups]
    problems += [f"the KTAP has {c} twice" for c in suite_dups]
    for name in sorted(set(lava) | set(suite)):
        got, want = lava.get(name), suite.get(name)
        if got != want:
            problems.append(f"{name}: LAVA {got or 'has no such test case'}, "
                            f"KTAP {want or 'has no such result'}")
    for p in problems[:20]:
        print(f"  {p}", file=sys.stderr)
    if len(problems) > 20:
        print(f"  ... and {len(problems) - 20} more", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
