#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Read kernel mutants (kernel/mutants/*.patch) and judge their runs.

    kernel_mutants.py plan PATCH
        the VM boots the mutant needs, one a line: "KIND|ENV|ONLY",
        KIND green or red (green first), ENV space-separated NAME=VALUE,
        ONLY space-separated PROGRAM:GLOB
    kernel_mutants.py base PATCH
        what the mutant applies on: plain or dmabuf-mmap
    kernel_mutants.py tries PATCH
        how many boots a red row may take (Tries:, default 1)
    kernel_mutants.py judge PATCH KIND ENV OUT [TRY]
        judge the rows of one boot from its output directory OUT
        (results.json, times); prints one table row per row and exits 1
        when a row does not hold; TRY: which boot of the row's Tries: it
        was (a red row caught in a later one says so)
    kernel_mutants.py detect PROGRAM:GLOB OUT
        scripts/race_bench.sh's verdict of one run: "caught SECONDS WHAT",
        "passed", or why there is no verdict
    kernel_mutants.py detect-naive OUT
        the same verdict for a run of vfio/vfio_naive_reproducer (its
        "naive:" line, or the kernel crashing after its start marker)

A crash's time in detect and detect-naive is by the console's clock from
the race's start marker where there is one (PFNMAP_RACE_MARK set).

Both read a run the same way (select, detect_time): the tests a
PROGRAM:GLOB names, and the time a failure took to show.

The header format is kernel/mutants/README.md's.
"""

import glob
import os
import re
import sys

from results import glob_re
from vm_record import load, text_of

FIELDS = ("Mutant", "Models", "Base", "Tries", "Red", "Green")


def parse(path):
    """The header: name, models, base, and rows (kind, glob, message, env)."""
    head, rows, key = {"Base": "plain", "Tries": "1"}, [], None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line == "---" or line.startswith("--- ") or line.startswith("diff "):
                break
            m = re.match(r"^([A-Z][a-z]+): ?(.*)$", line)
            if m and m.group(1) in FIELDS:
                key = m.group(1)
                if key in ("Red", "Green"):
                    parts = [p.strip() for p in m.group(2).split(" | ")]
                    if key == "Green":
                        parts.insert(1, "")
                    parts += [""] * (3 - len(parts))
                    glob, msg, env = parts[:3]
                    if len(parts) > 3:
                        raise ValueError(f"{path}: too many fields: {line}")
                    if ":" not in glob or (key == "Red" and not msg):
                        raise ValueError(f"{path}: bad row: {line}")
                    rows.append({"kind": key.lower(), "glob": glob, "message": msg,
                                 "env": " ".join(sorted(env.split()))})
                else:
                    head[key] = m.group(2)
            elif line.startswith("  ") and key in ("Models",):
                head[key] += " " + line.strip()
            elif line.strip():
                raise ValueError(f"{path}: not a header line: {line}")
    if "Mutant" not in head or not rows:
        raise ValueError(f"{path}: no Mutant: line or no Red:/Green: rows")
    if head["Base"] not in ("plain", "dmabuf-mmap"):
        raise ValueError(f"{path}: Base must be plain or dmabuf-mmap")
    if not re.fullmatch(r"[1-5]", head["Tries"]):
        raise ValueError(f"{path}: Tries must be 1 to 5")
    return head, rows


def boots(rows):
    """(kind, env) groups in run order: green first, then red, by first appearance."""
    order = []
    for kind in ("green", "red"):
        for r in rows:
            key = (kind, r["env"])
            if r["kind"] == kind and key not in order:
                order.append(key)
    return order


def select(doc, only):
    """The subtest results of a run that PROGRAM:GLOB names."""
    prog, glob = only.split(":", 1)
    pat = glob_re(glob)
    return [r for r in doc["results"]
            if r["program"] == prog and r["subtest"] and pat.match(r["subtest"])]


def detect_time(r, times):
    """How long a failure took to show: the race's own "first failure X s
    into the race", else the test's time (start to result, or to the kernel
    crash on the console)."""
    t = (r.get("race") or {}).get("first_failure_s")
    return t if t is not None else times.get(r["id"])


def judge(head, rows, kind, env, out, tries=1):
    doc, times = load(out)
    ok = True
    for row in rows:
        if row["kind"] != kind or row["env"] != env:
            continue
        mine = select(doc, row["glob"])
        if not mine:
            ok = False
            print(f"{head['Mutant']}\t{row['glob']}\tNO RESULT\tthe test did not run\t-\t{env}")
            continue
        for r in mine:
            lines = text_of(doc, r)
            t = detect_time(r, times) if kind == "red" else times.get(r["id"])
            when = f"{t:.1f} s" if t is not None else "-"
            if kind == "green":
                good = r["outcome"] == "pass"
                what = "green" if good else f"{r['outcome'].upper()} (expected green)"
                msg = r.get("reason") or next((ln for ln in lines if ln), "")
                print(f"{head['Mutant']}\t{r['id']}\t{what}\t{msg[:160] if not good else 'passed'}\t{when}\t{env}")
            else:
                # "A || B": either message will do (a race shows one or the other first).
                alts = row["message"].split(" || ")
                hit = next((ln for ln in lines if any(a in ln for a in alts)), None)
                good = r["outcome"] in ("fail", "crash") and hit is not None
                if r["outcome"] not in ("fail", "crash"):
                    what, msg = f"{r['outcome'].upper()} (expected red)", r.get("reason") or "passed"
                elif hit is None:
                    what, msg = "red, but not for its reason", f"no \"{row['message']}\" in: " + \
                        (r.get("reason") or next((ln for ln in lines if ln), ""))
                else:
                    what, msg = "red", hit.strip()
                    if tries > 1:
                        what += f" (try {tries} of {head['Tries']})"
                print(f"{head['Mutant']}\t{r['id']}\t{what}\t{msg[:160]}\t{when}\t{env}")
            ok &= good
    return ok


def detect(only, out):
    """One benchmark run's verdict per test it names."""
    try:
        doc, times = load(out)
    except OSError:
        print(f"did not finish: no results (output kept: {out})")
        return
    mine = select(doc, only)
    if not mine:
        # Counted as a run that caught nothing: the output stays for a look.
        print(f"no result: {only} did not run (output kept: {out})")
    for r in mine:
        race, t = r.get("race") or {}, detect_time(r, times)
        if r["outcome"] == "pass":
            print("passed")
        elif race.get("first_failure_s") is not None:
            print(f"caught {t:.1f} {race.get('first_failure', r['reason'] or '')}")
        elif (r["reason"] or "").startswith("CRASH"):
            # By the console's clock from the race's start when the run
            # marked it (race_bench.sh does), as the naive reproducer's.
            crash = console_crash_time(out)
            t = crash[0] if crash else t
            print(f"caught {t if t is not None else float('nan'):.1f} the kernel crashed in the test")
        else:
            print(f"{r['outcome']} {r['reason']}")


def crash_re():
    """The runner's own pattern of a kernel crash on the console (vm/run.sh)."""
    with open(os.path.join(os.path.dirname(__file__), "..", "vm", "run.sh"), encoding="utf-8") as f:
        return re.compile(re.search(r"^CRASH_RE='(.*)'$", f.read(), re.M).group(1))


def console_crash_time(out):
    """Seconds from the race's start marker ("pfnmap race: starts", written
    with PFNMAP_RACE_MARK set) to the first crash line after it, by the
    kernel's clock on the console, with that line; None without both."""
    stamp = re.compile(r"^\[\s*(\d+\.\d+)\]")
    bad = crash_re()
    for console in sorted(glob.glob(os.path.join(out, "console.*.log"))):
        start = None
        with open(console, encoding="utf-8", errors="replace") as f:
            for ln in f:
                m = stamp.match(ln)
                if not m:
                    continue
                if "pfnmap race: starts" in ln:
                    start = float(m.group(1))
                elif start is not None and bad.search(ln):
                    return float(m.group(1)) - start, ln[m.end():].strip()
    return None


def detect_naive(out):
    """The naive reproducer's verdict: its own line when it lived to print
    it, else the time from its start marker to the crash."""
    try:
        with open(os.path.join(out, "ktap.log"), encoding="utf-8", errors="replace") as f:
            line = next((ln for ln in f if ln.startswith("naive: ")), None)
    except OSError:
        line = None
    if line:
        kv = dict(w.split("=", 1) for w in line.split()[1:] if "=" in w)
        if kv.get("caught") == "1":
            print(f"caught {float(kv['first_failure_s']):.1f} MAP_DMA {kv.get('errno', '?')} "
                  f"after {kv.get('maps')} maps, {kv.get('reads')} numa_maps reads, leaf {kv.get('leaf')}")
        elif "caught" in kv:
            print(f"passed ({kv.get('maps')} maps, {kv.get('reads')} numa_maps reads, leaf {kv.get('leaf')})")
        else:
            print(f"no result: {line.strip()} (output kept: {out})")
        return
    crash = console_crash_time(out)
    if crash:
        print(f"caught {crash[0]:.1f} the kernel crashed: {crash[1][:100]}")
    else:
        print(f"no result: no naive: line and no crash after the start marker (output kept: {out})")


def main(argv):
    if len(argv) == 2 and argv[0] == "detect-naive":
        detect_naive(argv[1])
        return 0
    if len(argv) < 2 or argv[0] not in ("plan", "base", "tries", "judge", "detect"):
        print(__doc__, file=sys.stderr)
        return 2
    if argv[0] == "detect":
        if len(argv) != 3 or ":" not in argv[1]:
            print(__doc__, file=sys.stderr)
            return 2
        detect(argv[1], argv[2])
        return 0
    try:
        head, rows = parse(argv[1])
    except (OSError, ValueError) as e:
        print(f"kernel_mutants.py: {e}", file=sys.stderr)
        return 2
    if argv[0] in ("base", "tries"):
        print(head[argv[0].capitalize()])
        return 0
    if argv[0] == "plan":
        for kind, env in boots(rows):
            only = sorted({r["glob"] for r in rows if r["kind"] == kind and r["env"] == env})
            print(f"{kind}|{env}|{' '.join(only)}")
        return 0
    if len(argv) not in (5, 6) or (len(argv) == 6 and not argv[5].isdigit()):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        return 0 if judge(head, rows, argv[2], argv[3], argv[4], int(argv[5]) if len(argv) == 6 else 1) else 1
    except (OSError, ValueError) as e:
        print(f"{head['Mutant']}\t-\tNO RESULT\t{e}\t-\t{argv[3]}")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
