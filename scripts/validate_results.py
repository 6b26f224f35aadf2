#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Check the dashboard files of VM runs and of a kernel matrix.

    validate_results.py [--matrix DIR] RUN-DIR...

For each RUN-DIR: results.json against scripts/results.schema.json
(jsonschema), junit.xml against scripts/junit.xsd (lxml) and as junitparser
reads it, the one agreeing with the other result by result, their counts
with the runner's expectations.txt (written by results.py --report) and
with the KTAP's own result lines, and both files with a
fresh conversion of results.ktap (so they are what run.sh wrote from it).
With --matrix: DIR/matrix.html parses as XML, loads nothing from outside,
and has a row per program and subtest of the runs, as does DIR/matrix.md.

Needs Debian's python3-jsonschema, python3-lxml and python3-junitparser
(hence /usr/bin/python3). Exit 0 all good, 1 a file missing or malformed.
"""

import json
import os
import re
import sys
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import results as conv  # noqa: E402

import jsonschema  # noqa: E402
import junitparser  # noqa: E402
from lxml import etree  # noqa: E402


class Bad(Exception):
    pass


def need(cond, why):
    if not cond:
        raise Bad(why)


def check_json(d):
    path = os.path.join(d, "results.json")
    need(os.path.isfile(path), "no results.json")
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except ValueError as e:
        raise Bad(f"results.json is not JSON: {e}")
    with open(os.path.join(HERE, "results.schema.json"), encoding="utf-8") as f:
        schema = json.load(f)
    errs = sorted(jsonschema.Draft7Validator(schema).iter_errors(doc), key=lambda e: list(e.path))
    need(not errs, "results.json against the schema: " + "; ".join(
        f"{'/'.join(map(str, e.path)) or '(top)'}: {e.message}" for e in errs[:3]))
    s, res = doc["summary"], doc["results"]
    for k in conv.OUTCOMES:
        need(s[k] == sum(r["outcome"] == k for r in res), f"summary {k}={s[k]} disagrees with the results")
    need(s["total"] == len(res), "summary total disagrees with the results")
    need(s["as_expected"] + s["known_bugs"] + s["unexpected"] == s["total"], "expectation counts do not add up")
    for r in res:
        e = r["expected"]
        need(r["id"] == r["program"] + (":" + r["subtest"] if r["subtest"] else ""), f"{r['id']}: id is not PROGRAM[:SUBTEST]")
        need(e["status"] == ("unexpected" if e["unexpected"] else "known kernel bug" if e["known_bug"] else "as expected"),
             f"{r['id']}: expectation status disagrees with its flags")
        need(not e["known_bug"] or r["outcome"] in ("fail", "crash", "timeout"), f"{r['id']}: a known bug that did not fail")
    need(len({r["id"] for r in res}) == len(res), "a result appears twice")
    return doc


def check_junit(d, doc):
    path = os.path.join(d, "junit.xml")
    need(os.path.isfile(path), "no junit.xml")
    try:
        tree = etree.parse(path)
    except etree.XMLSyntaxError as e:
        raise Bad(f"junit.xml is not XML: {e}")
    xsd = etree.XMLSchema(etree.parse(os.path.join(HERE, "junit.xsd")))
    need(xsd.validate(tree), f"junit.xml against junit.xsd: {xsd.error_log.last_error}")
    xml = junitparser.JUnitXml.fromfile(path)
    cases = []
    for suite in xml:
        mine = list(suite)
        need(suite.tests == len(mine), f"testsuite {suite.name}: tests={suite.tests}, has {len(mine)}")
        for attr, kind in (("failures", junitparser.Failure), ("errors", junitparser.Error),
                           ("skipped", junitparser.Skipped)):
            n = sum(any(isinstance(x, kind) for x in c.result) for c in mine)
            need(getattr(suite, attr) == n, f"testsuite {suite.name}: {attr}={getattr(suite, attr)}, has {n}")
        cases += mine
    s, res = doc["summary"], doc["results"]
    need(len(cases) == s["total"], f"junit.xml has {len(cases)} testcases, results.json {s['total']} results")
    root = tree.getroot()
    for attr, want in (("tests", s["total"]), ("failures", s["fail"]),
                       ("errors", s["crash"] + s["timeout"] + s.get("miss", 0)), ("skipped", s["skip"])):
        need(int(root.get(attr)) == want, f"testsuites {attr}={root.get(attr)}, results.json says {want}")
    kinds = {"fail": junitparser.Failure, "crash": junitparser.Error, "timeout": junitparser.Error,
             "miss": junitparser.Error, "skip": junitparser.Skipped}
    # junitparser 2.8 reads no testcase properties: lxml does.
    xprops = [{p.get("name"): p.get("value") for p in tc.iterfind("properties/property")}
              for tc in root.iter("testcase")]
    for c, props, r in zip(cases, xprops, res):
        need(c.name == (r["subtest"] or f"{r['program']} (whole program)"), f"testcase {c.name} is not {r['id']}")
        want = kinds.get(r["outcome"])
        got = [type(x) for x in c.result]
        need(got == ([want] if want else []), f"{r['id']}: junit result {got} for outcome {r['outcome']}")
        need(props.get("outcome") == r["outcome"] and props.get("expected.status") == r["expected"]["status"],
             f"{r['id']}: testcase properties disagree with results.json")
    return len(cases)


def check_expect_txt(d, doc):
    """The runner's comparison (expectations.txt) must say what results.json says."""
    path = os.path.join(d, "expectations.txt")
    need(os.path.isfile(path), "no expectations.txt")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"^expected: (\d+) results as expected, (\d+) known kernel bugs, (\d+) unexpected$", text, re.M)
    need(m, "expectations.txt has no 'expected: ...' line")
    s = doc["summary"]
    got = (s["as_expected"], s["known_bugs"], s["unexpected"])
    need(tuple(map(int, m.groups())) == got,
         f"expectations.txt says {m.group(0)!r}, results.json {got[0]}/{got[1]}/{got[2]}")
    status = {r["id"]: r for r in doc["results"]}
    for key, out in re.findall(r"^  known kernel bug: (\S+) (\w+):", text, re.M):
        need(key in status and status[key]["expected"]["known_bug"] and status[key]["outcome"] in (out, "timeout"),
             f"expectations.txt lists known bug {key}; results.json does not")
    for out, key in re.findall(r"^  UNEXPECTED (\w+): (\S+)", text, re.M):
        need(key in status and status[key]["expected"]["unexpected"],
             f"expectations.txt lists UNEXPECTED {key}; results.json does not")


def check_ktap(d, doc):
    """Subtest lines counted straight from the KTAP, and a fresh conversion."""
    path = os.path.join(d, "results.ktap")
    need(os.path.isfile(path), "no results.ktap")
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    counts = {"pass": 0, "fail": 0, "skip": 0}
    for ln in lines:
        if re.match(r"^# not ok \d+ ", ln):
            counts["fail"] += 1
        elif re.match(r"^# ok \d+ .* # SKIP", ln):
            counts["skip"] += 1
        elif re.match(r"^# ok \d+ ", ln):
            counts["pass"] += 1
    subs = [r for r in doc["results"] if r["subtest"]]
    for k, n in counts.items():
        m = sum(r["outcome"] == k for r in subs)
        need(m == n, f"results.ktap has {n} subtest {k} lines, results.json {m}")
    fresh = conv.build(path, doc["kernel"]["release"], doc["kernel"]["spec"], doc["expectations_file"] or "")
    fresh["ktap"] = doc["ktap"]  # the directory may have moved since
    need(fresh == doc, "results.json differs from a fresh conversion of results.ktap")
    with open(os.path.join(d, "junit.xml"), encoding="utf-8") as f:
        need(f.read() == conv.junit(fresh), "junit.xml differs from a fresh conversion of results.ktap")


def check_run(d):
    doc = check_json(d)
    ncases = check_junit(d, doc)
    check_expect_txt(d, doc)
    check_ktap(d, doc)
    s = doc["summary"]
    return (f"{doc['kernel']['release']}: {s['total']} results ({s['pass']} pass, {s['fail']} fail, "
            f"{s['skip']} skip, {s['crash']} crash, {s['timeout']} timeout), junit.xml {ncases} testcases; "
            f"{s['as_expected']} as expected, {s['known_bugs']} known bugs, {s['unexpected']} unexpected, "
            f"as expectations.txt says"), doc


def check_matrix(m, docs):
    path = os.path.join(m, "matrix.html")
    need(os.path.isfile(path), "no matrix.html")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    need(text.startswith("<!DOCTYPE html>"), "matrix.html has no doctype")
    try:
        root = ET.fromstring(text[len("<!DOCTYPE html>"):])
    except ET.ParseError as e:
        raise Bad(f"matrix.html does not parse: {e}")
    for el in root.iter():
        for attr in ("src", "href"):
            need(el.get(attr) is None or el.get(attr).startswith("#"), f"matrix.html loads {el.get(attr)}")
        need(el.tag not in ("script", "link", "img", "iframe"), f"matrix.html has a <{el.tag}>")
    need(not re.search(r"url\(|@import", text), "matrix.html's CSS loads something")
    head = [th.text for th in root.iter("th")][1:]
    need(head == [d["kernel"]["release"] for d in docs], f"matrix.html columns {head}")
    names = sorted(td.text for td in root.iter("td") if td.get("class") == "name")
    rows = {("summary",)}
    for d in docs:
        rows |= {(f"{p['collection']}/{p['program']}",) for p in d["programs"]}
        rows |= {(r["program"], r["subtest"]) for r in d["results"] if r["subtest"]}
    want = sorted(r[-1] for r in rows)
    need(names == want, f"matrix.html rows: {len(names)}, want {len(want)}; "
         f"missing {sorted(set(want) - set(names))[:3]}")
    for tr in root.iter("tr"):
        need(len(list(tr)) == len(docs) + 1, "matrix.html has a row of the wrong width")
    with open(os.path.join(m, "matrix.md"), encoding="utf-8") as f:
        md = [ln for ln in f if ln.startswith("| ")]
    need(len(md) == len(want) + 1, f"matrix.md has {len(md) - 1} rows, want {len(want)}")
    body = text[text.index("<tbody>"):text.index("</tbody>")]
    unexp = sum(d["summary"]["unexpected"] for d in docs)
    marked = body.count('<b class="unexp">UNEXPECTED</b>')
    need(marked == unexp, f"matrix.html marks {marked} cells UNEXPECTED, the runs have {unexp}")
    known = sum(d["summary"]["known_bugs"] for d in docs)
    need(body.count('<b class="bug">known bug') == known, "matrix.html does not mark every known bug")
    return f"{len(names) - 1} rows x {len(docs)} kernels, {unexp} unexpected and {known} known bugs marked"


def main(argv):
    matrix = None
    if argv[:1] == ["--matrix"]:
        if len(argv) < 2:
            print(__doc__, file=sys.stderr)
            return 2
        matrix, argv = argv[1], argv[2:]
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    bad, docs = 0, []
    for d in argv:
        try:
            msg, doc = check_run(d)
            docs.append(doc)
            print(f"reports: {d}: ok: {msg}")
        except Bad as e:
            bad += 1
            print(f"reports: {d}: BAD: {e}")
    if matrix and not bad:
        try:
            print(f"reports: {matrix}: ok: {check_matrix(matrix, docs)}")
        except Bad as e:
            bad += 1
            print(f"reports: {matrix}: BAD: {e}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
