#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A run's results.json (scripts/results.py) as KCIDB test records, for a lab
that submits to KernelCI's common database (kcidb-submit reads this JSON).

    kcidb.py [--origin ORIGIN] [--build-id ID] [--checkout-id ID]
             [--log-url URL] RESULTS.JSON [OUT.JSON]

ORIGIN is the submitting CI system's name, as KCIDB registered it
(default: pfnmap); the build and checkout ids are the lab's own for the
kernel it tested (default: ORIGIN:RELEASE, a build and checkout of that
kernel release made up here, so that the records stand alone). Every id
carries its origin as its prefix, as KCIDB requires.

One test record per result, under the path
    kselftest.pfnmap.COLLECTION.PROGRAM[.FIXTURE.VARIANT.TEST]
with the status by KCIDB's own words (its schema's "status"):
    pass    PASS   the test completed and found the kernel correct
    fail    FAIL   the test completed and found the kernel faulty
    crash   FAIL   the kernel crashed during the test: the kernel is faulty
    timeout ERROR  the test did not complete: the kernel's status is unknown
    miss    MISS   the test did not run (its program ended the VM before it)
    skip    SKIP   not applicable here (a missing option, interface, device)
The expectation (known kernel bug or not), the failure or SKIP reason and
the race counts go into "misc"; the reason and the test's output, into
"log_excerpt" (at most 16384 characters, as the schema allows).

scripts/kcidb.schema.json is the part of KCIDB's I/O schema (v4.3) these
records use, written from its specification; "make check" validates every
conversion against it.
"""

import argparse
import json
import os
import sys

KCIDB_VERSION = {"major": 4, "minor": 3}
STATUS = {"pass": "PASS", "fail": "FAIL", "crash": "FAIL", "timeout": "ERROR",
          "miss": "MISS", "skip": "SKIP"}
LOG_EXCERPT_MAX = 16384


def test_path(r):
    path = f"kselftest.pfnmap.{r['collection']}.{r['program']}"
    return path + (f".{r['subtest']}" if r["subtest"] else "")


def excerpt(r):
    text = "\n".join(x for x in [r.get("reason") or ""] + r.get("output", []) if x)
    # The end says most: the failed assertion and what follows it.
    return text if len(text) <= LOG_EXCERPT_MAX else text[-LOG_EXCERPT_MAX:]


def convert(doc, origin, build_id=None, checkout_id=None, log_url=None):
    release = doc["kernel"]["release"]
    build_id = build_id or f"{origin}:{release}"
    checkout_id = checkout_id or f"{origin}:{release}"
    # A run: the kernel, and the time its KTAP was written.
    run = f"{release}:{doc['timestamp']}"
    tests = []
    for r in doc["results"]:
        e = r["expected"]
        misc = {"outcome": r["outcome"], "expected": e["status"],
                "expected_outcome": e["outcome"], "known_kernel_bug": e["known_bug"]}
        for k in ("cause", "text", "mismatch"):
            if e.get(k):
                misc[f"expected_{k}"] = e[k]
        if r.get("reason"):
            misc["reason"] = r["reason"]
        if r.get("race"):
            misc["race"] = r["race"]
        t = {
            "id": f"{origin}:{run}:{r['id']}",
            "build_id": build_id,
            "origin": origin,
            "path": test_path(r),
            "status": STATUS[r["outcome"]],
            "start_time": doc["timestamp"],
            "environment": {"comment": f"kernel {release}"
                            + (f" ({doc['kernel']['spec']})" if doc["kernel"]["spec"] else "")},
            "misc": misc,
        }
        if excerpt(r):
            t["log_excerpt"] = excerpt(r)
        if log_url:
            t["log_url"] = log_url
        tests.append(t)
    return {
        "version": KCIDB_VERSION,
        "checkouts": [{"id": checkout_id, "origin": origin}],
        "builds": [{"id": build_id, "checkout_id": checkout_id, "origin": origin,
                    "architecture": "x86_64", "comment": f"kernel {release}"}],
        "tests": tests,
    }


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results")
    ap.add_argument("out", nargs="?", help="where the JSON goes (default: stdout)")
    ap.add_argument("--origin", default="pfnmap")
    ap.add_argument("--build-id")
    ap.add_argument("--checkout-id")
    ap.add_argument("--log-url")
    a = ap.parse_args(argv)
    try:
        with open(a.results, encoding="utf-8") as f:
            doc = json.load(f)
        data = convert(doc, a.origin, a.build_id, a.checkout_id, a.log_url)
    except (OSError, ValueError, KeyError) as e:
        print(f"kcidb.py: {a.results}: {e}", file=sys.stderr)
        return 1
    text = json.dumps(data, indent=1) + "\n"
    if a.out:
        tmp = f"{a.out}.tmp.{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, a.out)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
