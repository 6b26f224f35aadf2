#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Read scripts/mutations.txt (one userspace mutation per TEST_F) and judge
the VM run of the mutated suite. scripts/check.d/mutations.sh applies the
seds and runs the VM; this reads the table and the run's results.json (the
KTAP as scripts/ktap.py reads it, with the expectations results.py
applied), as kernel_mutants.py reads a kernel mutant's run (vm_record.py).

    mutations.py list TABLE
        the rows, one "PROGRAM<TAB>GLOB<TAB>SED<TAB>MESSAGE" a line; exit 1
        on a row that is not four or five " | "-separated fields (the
        fifth, NOT REACHED, only the judge reads)
    mutations.py cover TABLE SOURCE...
        every TEST_F of the sources has a row (a test added without one is
        a test nobody proved can fail)
    mutations.py judge TABLE OUT
        per row: every result of its glob that runs is "not ok" with its
        MESSAGE ("red as expected"), or SKIPs where the kernel's
        expectations say it SKIPs, or passes saying the row's NOT REACHED
        ("not verified"); and no result outside the rows failed
        unexpectedly (a mutation that breaks more than its own test).
        Prints a line per row, exits 1 when one does not hold.
"""

import os
import re
import sys

from results import glob_re
from vm_record import load, text_of

# The fields of a row, as the table's header says.
SEP = " | "
# A result line that says the test did not pass.
NOT_OK = ("fail", "crash", "timeout", "miss")
TEST_RE = re.compile(r"^TEST_F(?:_TIMEOUT)?\((\w+), *(\w+)|^TEST(?:_SIGNAL)?\((\w+)")


def rows(table):
    out = []
    with open(table, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            fields = [x.strip() for x in line.split(SEP)]
            if len(fields) not in (4, 5) or not all(fields):
                raise ValueError(f"{table}:{n}: not PROGRAM | GLOB | SED | MESSAGE [| NOT REACHED] "
                                 f"({len(fields)} fields)")
            out.append(dict(zip(("program", "glob", "sed", "message", "not_reached"), fields)))
    return out


def cover(table, sources):
    mine = [(r["program"], r["glob"]) for r in rows(table)]
    ok = True
    for src in sources:
        prog = os.path.basename(src)[:-2]
        with open(src, encoding="utf-8") as f:
            for line in f:
                m = TEST_RE.match(line)
                if not m:
                    continue
                fixture, name = (m.group(1), m.group(2)) if m.group(1) else ("global", m.group(3))
                # The row's glob names this fixture and test, any variant.
                if any(p == prog and g.startswith(f"{fixture}.") and g.endswith(f".{name}")
                       for p, g in mine):
                    continue
                print(f"  {prog}: {fixture}.{name} has no mutation in {table}", file=sys.stderr)
                ok = False
    return ok


def judge(table, out):
    doc, _ = load(out)
    results = [r for r in doc["results"] if r["subtest"]]
    table_rows = rows(table)
    ok = True
    for row in table_rows:
        pat = glob_re(row["glob"])
        mine = [r for r in results if r["program"] == row["program"] and pat.match(r["subtest"])]
        what = f"{row['program']} {row['glob']}"
        passed = [r for r in mine if r["outcome"] == "pass"]
        failed = [r for r in mine if r["outcome"] in NOT_OK]
        skipped = [r for r in mine if r["outcome"] == "skip"]
        # A pass that says this kernel lacks what the mutated check needs.
        said = row.get("not_reached")
        unreached = [r for r in passed if said and any(said in ln for ln in text_of(doc, r))]
        if len(unreached) < len(passed):
            r = next(r for r in passed if r not in unreached)
            print(f"  {what}: still passes with the mutation ({r['subtest']})", file=sys.stderr)
            ok = False
        elif not failed and passed:
            print(f"  {what}: passes saying \"{said}\" on this kernel: not verified", file=sys.stderr)
        elif not failed and skipped:
            # A SKIP the kernel's expectations do not name is no verdict.
            if any(r["expected"]["status"] == "unexpected" for r in skipped):
                print(f"  {what}: SKIPped where it should run", file=sys.stderr)
                ok = False
            else:
                print(f"  {what}: SKIPs on this kernel (as expected there): not verified", file=sys.stderr)
        elif not failed:
            print(f"  {what}: no result (did the program run?)", file=sys.stderr)
            ok = False
        else:
            quote, without = None, None
            for r in failed:
                hit = next((ln for ln in text_of(doc, r) if row["message"] in ln), None)
                if hit is None:
                    without = without or r["subtest"]
                elif quote is None:
                    quote = f"{r['subtest']}: {hit.strip()}"
            if without:
                print(f"  {what}: {without} failed without \"{row['message']}\"", file=sys.stderr)
                ok = False
            else:
                print(f"  red as expected ({len(failed)}): {quote}", file=sys.stderr)

    # Every other result as expected: a test that failed outside the rows
    # means a mutation broke more than its own test.
    for r in results:
        if r["outcome"] not in NOT_OK or r["expected"]["status"] != "unexpected":
            continue
        if not any(row["program"] == r["program"] and glob_re(row["glob"]).match(r["subtest"])
                   for row in table_rows):
            print(f"  not mutated, yet {r['outcome']}: {r['id']}", file=sys.stderr)
            ok = False
    return ok


def main(argv):
    try:
        if len(argv) == 3 and argv[1] == "list":
            for r in rows(argv[2]):
                print("\t".join((r["program"], r["glob"], r["sed"], r["message"])))
            return 0
        if len(argv) >= 3 and argv[1] == "cover":
            return 0 if cover(argv[2], argv[3:]) else 1
        if len(argv) == 4 and argv[1] == "judge":
            return 0 if judge(argv[2], argv[3]) else 1
    except (OSError, ValueError) as e:
        print(f"mutations.py: {e}", file=sys.stderr)
        return 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
