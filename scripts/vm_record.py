# SPDX-License-Identifier: GPL-2.0
"""What a VM run left in its output directory (vm/run.sh --out OUT), read
the one way the judges of the kernel mutants (kernel_mutants.py) and of the
userspace mutations (mutations.py) read it: results.json (the KTAP as
scripts/ktap.py reads it, with results.py's expectations applied) and the
per-test times vm/run.sh wrote."""

import json
import os


def load(out):
    """(results.json's document, {PROGRAM:TEST: seconds from start to result})."""
    with open(os.path.join(out, "results.json"), encoding="utf-8") as f:
        doc = json.load(f)
    times = {}
    try:
        with open(os.path.join(out, "times"), encoding="utf-8") as f:
            for line in f:
                prog, test, secs = line.rstrip("\n").split("\t")
                times[f"{prog}:{test}"] = float(secs)
    except OSError:
        pass
    return doc, times


def text_of(doc, r):
    """All a result says: its reason and output, and for a test the kernel
    crashed in, the crash record of its program (the console)."""
    lines = [r.get("reason") or ""] + r.get("output", [])
    if (r.get("reason") or "").startswith("CRASH"):
        for p in doc["results"]:
            if p["program"] == r["program"] and p["subtest"] is None:
                lines += [p.get("reason") or ""] + p.get("output", [])
    return lines
