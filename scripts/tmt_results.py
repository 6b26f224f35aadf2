#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""A run's results as tmt custom results (a test with `result: custom`).

    tmt_results.py [--rc RC] [--reason TEXT] [--out DIR] RESULTS.JSON
    tmt_results.py [--rc RC] [--reason TEXT] [--out DIR] --ktap FILE --release RELEASE [--expect FILE]
    tmt_results.py --validate DIR

Writes DIR/results.json (default DIR: $TMT_TEST_DATA) in tmt's results
format, and each result's output as a log under DIR/pfnmap/. The input is a
run's results.json (scripts/results.py), or a KTAP that results.py's own
build() turns into the same document (no second parser, and no junitparser
needed on the test machine). RC is the runner's exit code: 4 (kselftest's
SKIP: a missing precondition, no device named) with no results becomes the
test's own result `skip` with REASON (the runner's line); 2 (bad usage)
`error`.

What tmt does with the file (teemtee/tmt, tmt/steps/execute/__init__.py,
extract_custom_results and _process_results_partials; spec/results.fmf):
it reads $TMT_TEST_DATA/results.yaml, else results.json, as a list of
results; each name is prefixed by the test's own name, `/` being the test
itself; `log` paths are relative to $TMT_TEST_DATA; the exit code of the
test is not looked at. The outcomes (tmt/schemas/common.yaml,
result_outcome): pass, fail, info, warn, error, skip. Ours map as:
    pass    pass
    fail    fail    the test completed and found the kernel faulty
    crash   fail    the kernel crashed during the test: faulty too
    timeout error   the test did not complete: its verdict is unknown
    miss    error   the test did not run (its program ended the VM)
    skip    skip    not applicable here (a missing option, interface, device)
The test itself (`/`) is the comparison with the expectations, as the
runner's verdict: fail when a fail or crash is unexpected, error when a
test timed out or did not run, skip when every result is a SKIP, else
pass (a known kernel bug caught, with an expectations file, is a pass; its
own result stays `fail`, with the expectation in its note).

--validate DIR checks DIR/results.json against tmt's schema rules
(tmt/schemas/results.yaml, common.yaml; spec/results.fmf): a list of
mappings of known keys only, `name` a string starting with '/' and
`result` one of the outcomes (both required), `note` and `log` lists of
strings, `log` paths relative and inside DIR, `ids` string values; and
(ours) every name once. Exit: 0 written or valid; 1 unreadable input or
invalid; 2 bad usage.
"""

import argparse
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import results as pfnmap_results  # noqa: E402  (scripts/results.py)

OUTCOME = {"pass": "pass", "fail": "fail", "crash": "fail", "timeout": "error",
           "miss": "error", "skip": "skip"}
# tmt/schemas/common.yaml, definitions/result_outcome.
TMT_OUTCOMES = ("pass", "fail", "info", "warn", "error", "skip")
# tmt/schemas/results.yaml: the keys of a result (additionalProperties: false).
TMT_KEYS = ("guest", "name", "serial-number", "result", "original-result", "context", "note",
            "start-time", "end-time", "duration", "ids", "log", "check", "subresult",
            "fmf-id", "data-path")
LOG_DIR = "pfnmap"


def tmt_name(r):
    # One path component per level the suite has: collection, program, and
    # the harness's FIXTURE.VARIANT.TEST kept whole (it is the test's name).
    name = f"/{r['collection']}/{r['program']}"
    return name + (f"/{r['subtest']}" if r["subtest"] else "")


def log_path(r):
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", r["id"].replace(":", "."))
    return f"{LOG_DIR}/{safe}.log"


def verdict(doc, rc, reason):
    res = doc["results"] if doc else []
    if not res:
        if rc == 4:
            return "skip", reason or "a missing precondition (the runner's exit 4)"
        if rc == 0:
            return "error", "the runner passed but reported no result"
        return "error", reason or f"the runner ended with exit {rc} and no result"
    bad = [r for r in res if r["expected"]["unexpected"]]
    if any(r["outcome"] in ("fail", "crash") for r in bad):
        return "fail", f"{sum(r['outcome'] in ('fail', 'crash') for r in bad)} unexpected failures"
    if any(r["outcome"] in ("timeout", "miss") for r in res):
        return "error", f"{sum(r['outcome'] in ('timeout', 'miss') for r in res)} tests timed out or did not run"
    if all(r["outcome"] == "skip" for r in res):
        return "skip", "every test SKIPped"
    s = doc["summary"]
    note = f"{s['pass']} pass, {s['skip']} skip, {s['known_bugs']} known kernel bugs"
    if bad:
        note += f"; {len(bad)} SKIPs name no missing precondition"
    return "pass", note


def convert(doc, rc=0, reason=None):
    """tmt results (a list of mappings) and the logs to write, {path: text}."""
    out, logs = [], {}
    res, note = verdict(doc, rc, reason)
    top = {"name": "/", "result": res, "note": [note]}
    if doc:
        top["ids"] = {"kernel-release": doc["kernel"]["release"]}
        if doc.get("ktap") and os.path.isfile(doc["ktap"]):
            logs[f"{LOG_DIR}/results.ktap"] = None      # copied from doc["ktap"]
            top["log"] = [f"{LOG_DIR}/results.ktap"]
    out.append(top)
    for r in (doc["results"] if doc else []):
        e = r["expected"]
        t = {"name": tmt_name(r), "result": OUTCOME[r["outcome"]],
             "ids": {"pfnmap-id": r["id"]}}
        notes = []
        if r["outcome"] != t["result"]:
            notes.append(f"pfnmap outcome: {r['outcome']}")
        if r.get("reason"):
            notes.append(r["reason"])
        notes.append(f"{e['status']} (expected {e['outcome']})" + (f": {e['text']}" if e.get("text") else ""))
        t["note"] = notes
        text = "\n".join(x for x in [r.get("reason") or ""] + r.get("output", []) if x)
        if text:
            p = log_path(r)
            logs[p] = text + "\n"
            t["log"] = [p]
        out.append(t)
    return out, logs


def write(out_dir, results, logs, ktap=None):
    for p, text in logs.items():
        dest = os.path.join(out_dir, p)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        if text is None:
            with open(ktap, encoding="utf-8", errors="replace") as f:
                text = f.read()
        with open(dest, "w", encoding="utf-8") as f:
            f.write(text)
    tmp = os.path.join(out_dir, f"results.json.tmp.{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1)
        f.write("\n")
    os.replace(tmp, os.path.join(out_dir, "results.json"))


def validate(d):
    """Problems of DIR/results.json by tmt's rules; empty when valid."""
    bad = []
    try:
        with open(os.path.join(d, "results.json"), encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        return [f"unreadable: {e}"]
    if not isinstance(data, list) or not data:
        return ["not a non-empty list of results (tmt: 'no custom results were provided')"]
    names = {}
    for i, r in enumerate(data):
        where = f"result {i}"
        if not isinstance(r, dict):
            bad.append(f"{where}: not a mapping")
            continue
        where = f"result {i} ({r.get('name')!r})"
        for k in ("name", "result"):
            if k not in r:
                bad.append(f"{where}: no {k} (required)")
        bad += [f"{where}: unknown key {k!r}" for k in r if k not in TMT_KEYS]
        n = r.get("name")
        if n is not None and (not isinstance(n, str) or not n.startswith("/")):
            bad.append(f"{where}: name must be a string starting with '/'")
        elif isinstance(n, str):
            if n in names:
                bad.append(f"{where}: name given twice (results {names[n]} and {i})")
            names[n] = i
        for k in ("result", "original-result"):
            if k in r and r[k] not in TMT_OUTCOMES:
                bad.append(f"{where}: {k} {r[k]!r} is none of {', '.join(TMT_OUTCOMES)}")
        for k in ("note", "log"):
            if k in r and (not isinstance(r[k], list) or not all(isinstance(x, str) for x in r[k])):
                bad.append(f"{where}: {k} must be a list of strings")
        for p in r.get("log", []) if isinstance(r.get("log"), list) else []:
            if not isinstance(p, str):
                continue
            full = os.path.normpath(os.path.join(d, p))
            if os.path.isabs(p) or not full.startswith(os.path.normpath(d) + os.sep):
                bad.append(f"{where}: log {p!r} is not relative to TMT_TEST_DATA")
            elif not os.path.isfile(full):
                bad.append(f"{where}: log {p!r} does not exist")
        ids = r.get("ids", {})
        if not isinstance(ids, dict) or not all(isinstance(v, str) for v in ids.values()):
            bad.append(f"{where}: ids must map names to strings")
        if "serial-number" in r and not isinstance(r["serial-number"], int):
            bad.append(f"{where}: serial-number must be an integer")
    if "/" not in names:
        bad.append("no result named '/' (the test itself)")
    return bad


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results", nargs="?", help="a run's results.json")
    ap.add_argument("--ktap")
    ap.add_argument("--release")
    ap.add_argument("--expect", default="")
    ap.add_argument("--rc", type=int, default=0, help="the runner's exit code")
    ap.add_argument("--reason", help="the runner's last line, for a run it refused")
    ap.add_argument("--out", default=os.environ.get("TMT_TEST_DATA"))
    ap.add_argument("--validate", metavar="DIR")
    a = ap.parse_args(argv)
    if a.validate:
        bad = validate(a.validate)
        for b in bad:
            print(f"tmt_results.py: {a.validate}/results.json: {b}", file=sys.stderr)
        return 1 if bad else 0
    if not a.out:
        ap.error("--out DIR or TMT_TEST_DATA is needed")
    if a.results and a.ktap:
        ap.error("give RESULTS.JSON or --ktap, not both")
    doc = None
    try:
        if a.results:
            with open(a.results, encoding="utf-8") as f:
                doc = json.load(f)
            if doc.get("format") != pfnmap_results.FORMAT:
                raise ValueError(f"{a.results}: not a {pfnmap_results.FORMAT} document")
        elif a.ktap and os.path.exists(a.ktap) and os.path.getsize(a.ktap) > 0:
            if not a.release:
                ap.error("--ktap needs --release")
            doc = pfnmap_results.build(a.ktap, a.release, "", os.path.abspath(a.expect) if a.expect else "")
        results, logs = convert(doc, a.rc, a.reason)
        os.makedirs(a.out, exist_ok=True)
        write(a.out, results, logs, doc.get("ktap") if doc else None)
    except (OSError, ValueError, KeyError) as e:
        print(f"tmt_results.py: {e}", file=sys.stderr)
        return 1
    print(f"tmt_results.py: {a.out}/results.json: {len(results)} results, the test itself: "
          f"{results[0]['result']} ({results[0]['note'][0]})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
