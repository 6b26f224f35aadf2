#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The suite's one reader of kselftest KTAP: a program's block, its nested
results, the test a crash cut short. results.py, the VM runner and the
checks use it; TAP::Parser and tappy stay as independent cross-checks
(scripts/check.d/tap.sh).

    ktap.py merge OUT PROGRAM...
        one KTAP document of a VM run (OUT/ktap.log, all boots): each
        program's blocks merged and renumbered, the test a boot ended in as
        "not ok ... # CRASH", and each test the program was to run
        (OUT/planned/PROGRAM) that has no result at all as
        "not ok ... # MISS: ..." (KCIDB's word for a test that did not run),
        so that every test appears once
    ktap.py seen FILE COLLECTION/PROGRAM
        the tests of PROGRAM that FILE (one boot's KTAP) has a result for or
        started (the test a crash cut short), one a line
    ktap.py finished FILE
        the programs FILE has a result line for, as COLLECTION/PROGRAM
    ktap.py record FILE COLLECTION/PROGRAM
        the results of PROGRAM in a merged document: its header, its tests'
        result lines and its own result line (what the terminal ends with for
        a program whose streamed blocks were cut short by a crash)
    ktap.py summary FILE
        "pfnmap: P passed, F failed, S skipped" of a merged document
    ktap.py counts FILE
        the top-level results of a document, as the TAP cross-check
        (scripts/check.d/tap.sh) compares them with TAP::Parser's and tappy's:
        "tests=T pass=P fail=F skip=S plan=N errors=0"
    ktap.py split DIR FILE
        one TAP document per program of kselftest-style KTAP (ours, or
        run_kselftest.sh's): the program's nested block without its "# "
        prefix as DIR/NN.PROGRAM.tap, its own result line as
        DIR/NN.PROGRAM.result, for the cross-check's parsers
    ktap.py all-skip N FILE
        kselftest runner output (run_kselftest.sh) of N programs: exit 0 only
        when nothing failed and every test SKIPped with a reason, what a
        machine without the suite's devices must show
"""

import os
import re
import sys

COLLECTION = "pfnmap"
PROG_RE = re.compile(r"^# selftests: pfnmap/([^:]+): (\S+)$")
PROG_END_RE = re.compile(r"^(not )?ok \d+ selftests: pfnmap/([^:]+): (\S+)(?: # (.*))?$")
SUB_RE = re.compile(r"^# (not )?ok \d+ (.*)$")
PLAN_RE = re.compile(r"^# 1\.\.(\d+)")
RUN_RE = re.compile(r"^# #  RUN +(\S+) \.\.\.$")
# Where a program's block ends in a run's log: another program's header or
# result, the next boot's document or its kernel line.
BLOCK_END_RE = re.compile(r"^(# selftests: pfnmap/|(not )?ok \d+ selftests: |TAP version|# kernel )")
TOTALS_RE = re.compile(r"^# # (Totals: |PASSED: |FAILED: |\d+ skipped test)")


def lines_of(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return [ln.rstrip("\r\n") for ln in f]


def parse(text):
    """Programs, each with its subtests and their output, in KTAP order."""
    programs, cur, sub_lines, running = [], None, [], None

    def flush_running():
        nonlocal running, sub_lines
        if cur is not None and running:
            cur["running"] = {"name": running, "output": sub_lines}
        running, sub_lines = None, []

    for raw in text.splitlines():
        line = raw.rstrip("\r")
        m = PROG_RE.match(line)
        if m:
            cur = {"collection": m.group(1), "program": m.group(2), "subtests": [],
                   "console": [], "lines": [], "plan": None, "plan_skip": None,
                   "result": None, "directive": None}
            programs.append(cur)
            running, sub_lines = None, []
            continue
        m = PROG_END_RE.match(line)
        if m and cur is not None and m.group(3) == cur["program"]:
            flush_running()
            cur["result"] = "not ok" if m.group(1) else "ok"
            cur["directive"] = m.group(4)
            cur = None
            continue
        if cur is None:
            continue
        if line.startswith("# [console] "):
            cur["console"].append(line[len("# [console] "):])
            continue
        m = PLAN_RE.match(line)
        if m and cur["plan"] is None:
            cur["plan"] = int(m.group(1))
            skip = re.search(r" # SKIP ?(.*)$", line)
            if skip:
                cur["plan_skip"] = skip.group(1) or None
            continue
        m = RUN_RE.match(line)
        if m:
            running, sub_lines = m.group(1), []
            continue
        m = SUB_RE.match(line)
        if m:
            rest, directive = m.group(2), ""
            if " # " in rest:
                rest, directive = rest.split(" # ", 1)
            skip = not m.group(1) and directive.startswith("SKIP")
            miss = bool(m.group(1)) and directive.startswith("MISS")
            reason = re.sub(r"^MISS: ?" if miss else r"^SKIP ?", "", directive)
            cur["subtests"].append({
                "name": rest,
                "outcome": "miss" if miss else "fail" if m.group(1) else "skip" if skip else "pass",
                "reason": reason or None,
                "output": sub_lines if running == rest else [],
            })
            running, sub_lines = None, []
            continue
        if running and line.startswith("# # "):
            body = line[4:]
            # The harness's own verdict lines repeat what the result line says.
            if not re.match(r"^ +(OK|FAIL|XFAIL|XPASS|SKIP) +", body):
                sub_lines.append(body)
        elif running and line.startswith("# "):
            # What the test wrote to stderr: the runner prefixes it once, the
            # harness's own lines twice. The lib's asserts say why the test
            # failed there ("dma_driver.c:157: ... assertion ... failed: ...").
            sub_lines.append(line[2:])
        elif not running and line.startswith("# ") and not line.startswith("# TAP version"):
            # What the program said outside any subtest (a crash before the
            # first one, the harness's totals).
            cur["lines"].append(re.sub(r"^# (# )?", "", line))
    flush_running()
    return programs


def _title(prog):
    coll, name = prog.split("/", 1)
    return f"selftests: {COLLECTION}/{coll}: {name}"


def _merge_blocks(log, title, planned, miss_why):
    """One program's blocks of a run's log as one nested block: a crashed
    program's blocks (one per boot it ran in) merged and renumbered."""
    head, result_re = f"# {title}", re.compile(rf"^(not )?ok \d+ {re.escape(title)}")
    out, totals, plan, blocks, on, cut, merged = [], [], None, 0, False, None, False
    n = {"pass": 0, "fail": 0, "skip": 0, "error": 0}
    seen = set()

    def add(ok, name_rest, kind):
        n[kind] += 1
        out.append(f"# {'ok' if ok else 'not ok'} {sum(n.values())} {name_rest}")

    def close():
        nonlocal cut, on, merged
        if cut is not None:
            # The test the VM ended in: its RUN line is the last word of it.
            add(False, f"{cut} # CRASH: the VM ended during this test", "fail")
            seen.add(cut)
            merged = True
        cut, on = None, False

    for line in log:
        if line == head:
            if on:
                close()
            on, blocks = True, blocks + 1
            continue
        if on and (result_re.match(line) or BLOCK_END_RE.match(line)):
            close()
            continue
        if not on or line.startswith("# TAP version "):
            continue
        if line.startswith("# 1.."):
            plan = line
            continue
        m = SUB_RE.match(line)
        if m:
            rest = m.group(2)
            seen.add(rest.split(" ", 1)[0])
            kind = "fail" if m.group(1) else "skip" if "# SKIP" in rest else "pass"
            add(not m.group(1), rest, kind)
            cut = None
            continue
        # One boot's totals: a merged block gets its own below.
        if TOTALS_RE.match(line):
            totals.append(line)
            continue
        m = RUN_RE.match(line)
        if m:
            cut = m.group(1)
        out.append(line)
    if on:
        close()
    missing = [t for t in planned if t not in seen]
    for t in missing:
        add(False, f"{t} # MISS: {miss_why}", "error")
    if not blocks and not missing:
        return []
    k = sum(n.values())
    doc = ["# TAP version 13", plan if blocks == 1 and plan and k == 0 else f"# 1..{k}"]
    doc += out
    if blocks > 1 or merged or missing:
        doc.append(f"# # Totals: pass:{n['pass']} fail:{n['fail']} xfail:0 xpass:0 "
                   f"skip:{n['skip']} error:{n['error']}")
    else:
        doc += totals
    return [ln for ln in doc if ln]


def _read(path, default=""):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return default


def merge(out, programs):
    log = lines_of(os.path.join(out, "ktap.log"))
    crashes = {}
    for ln in _read(os.path.join(out, "crashes")).splitlines():
        prog, _, why = ln.partition("|")
        crashes.setdefault(prog, []).append(why)
    doc = ["TAP version 13", f"1..{len(programs)}"]
    for i, prog in enumerate(programs, 1):
        title, name = _title(prog), prog.split("/", 1)[1]
        planned = _read(os.path.join(out, "planned", name)).split()
        whys = crashes.get(prog, [])
        miss_why = (f"not run: the program ended the VM {len(whys)} time(s) ({whys[-1]}), "
                    "and the last boot ran none of its tests" if whys else
                    "not run: the VM ended before the program got to it")
        doc.append(f"# {title}")
        doc += _merge_blocks(log, title, planned, miss_why)
        if whys:
            console = _read(os.path.join(out, f"crash.{prog.replace('/', '_')}.txt"))
            doc += [f"# [console] {ln}" for ln in console.splitlines()]
            doc.append(f"not ok {i} {title} # CRASH: {whys[0]}")
            continue
        result_re = re.compile(rf"^(not )?ok \d+ {re.escape(title)}(.*)$")
        m = next((m for m in map(result_re.match, log) if m), None)
        if m:
            doc.append(f"{m.group(1) or ''}ok {i} {title}{m.group(2)}")
        else:
            doc.append(f"not ok {i} {title} # not run: the VM ended first")
    return "\n".join(doc) + "\n"


def seen(path, prog):
    """Tests of prog one boot's KTAP has a result for, or started."""
    head, on, names = f"# {_title(prog)}", False, []
    for line in lines_of(path):
        if line == head:
            on = True
            continue
        if on and PROG_RE.match(line):
            on = False
        if not on:
            continue
        m = SUB_RE.match(line) or RUN_RE.match(line)
        if m and m.group(m.lastindex).split(" ", 1)[0] not in names:
            names.append(m.group(m.lastindex).split(" ", 1)[0])
    return names


def record(path, prog):
    title, on, out = _title(prog), False, []
    for line in lines_of(path):
        if line == f"# {title}":
            on = True
            out.append(line)
        elif on and SUB_RE.match(line):
            out.append(line)
        elif on and PROG_END_RE.match(line):
            out.append(line)
            break
    return out


def finished(path):
    return [f"{m.group(2)}/{m.group(3)}" for m in map(PROG_END_RE.match, lines_of(path)) if m]


def summary(path):
    p = f = s = 0
    for line in lines_of(path):
        m = SUB_RE.match(line)
        if m:
            if m.group(1):
                f += 1
            elif "# SKIP" in m.group(2):
                s += 1
            else:
                p += 1
        elif re.match(r"^not ok .*# (CRASH|TIMEOUT|not run)", line):
            f += 1
    return f"{COLLECTION}: {p} passed, {f} failed, {s} skipped"


def counts(path):
    t = f = sk = 0
    plan = ""
    for line in lines_of(path):
        if re.match(r"^(not )?ok \d+ ", line):
            t += 1
            if line.startswith("not ok "):
                f += 1
            elif re.match(r"^ok .* # SKIP", line):
                sk += 1
        m = re.match(r"^1\.\.(\d+)", line)
        if m:
            plan = m.group(1)
    return f"tests={t} pass={t - f - sk} fail={f} skip={sk} plan={plan} errors=0"


def split(d, path):
    head_re = re.compile(r"^# selftests: \S+: (\S+)$")
    n, tap, body = 0, None, []
    for line in lines_of(path):
        m = head_re.match(line)
        if m:
            n += 1
            tap, body = os.path.join(d, f"{n:02d}.{m.group(1)}"), []
            continue
        if tap and re.match(r"^(not )?ok \d+ selftests: ", line):
            with open(tap + ".tap", "w", encoding="utf-8") as f:
                f.write("".join(ln + "\n" for ln in body))
            with open(tap + ".result", "w", encoding="utf-8") as f:
                f.write(line + "\n")
            tap = None
        elif tap and re.match(r"^#( |$)", line):
            body.append(line[2:])
    if tap:
        # A program cut short: its block, with no result of its own.
        with open(tap + ".tap", "w", encoding="utf-8") as f:
            f.write("".join(ln + "\n" for ln in body))


def all_skip(want, path):
    """run_kselftest.sh's output: the runner's own per-program line says SKIP
    without a reason (or ok: the harness exits 0 when all its tests skip),
    so the reasons are looked for in each program's nested KTAP."""
    head_re = re.compile(rf"^# selftests: {COLLECTION}: (\S+)$")
    end_re = re.compile(rf"^ok \d+ selftests: {COLLECTION}: ")
    bad, programs, results, total, skips, reasons = 0, 0, 0, 0, 0, {}
    prog, nested, skip_all = None, 0, False

    def problem(msg):
        nonlocal bad
        bad += 1
        print(f"all-skip: {msg}", file=sys.stderr)

    def finish():
        nonlocal prog
        if prog is not None and nested == 0 and not skip_all:
            problem(f"{prog}: no nested results")
        prog = None

    for line in lines_of(path):
        m = head_re.match(line)
        if m:
            finish()
            prog, nested, skip_all, programs = m.group(1), 0, False, programs + 1
        elif re.match(r"^(# +)?not ok ", line):
            problem(f"failed: {line}")
        elif end_re.match(line):
            finish()
            results += 1
        elif prog is not None and re.match(r"^# 1\.\.0 # SKIP \S", line):
            skip_all = True
        elif prog is not None and re.match(r"^# ok \d+ ", line):
            nested, total = nested + 1, total + 1
            m = re.search(r" # SKIP (\S.*)$", line)
            if m:
                skips += 1
                reasons[m.group(1)] = reasons.get(m.group(1), 0) + 1
            else:
                problem(f"not a SKIP with a reason: {line}")
    finish()
    if programs != want or results != want:
        problem(f"{programs} program headers and {results} results, wanted {want}")
    print(f"all-skip: {programs} programs, {total} nested tests, {skips} SKIP with a reason, "
          f"{bad} problems", file=sys.stderr)
    for r, c in reasons.items():
        print(f"  {c:4d} x SKIP {r}", file=sys.stderr)
    return 1 if bad else 0


def main(argv):
    cmd, args = (argv[0], argv[1:]) if argv else ("", [])
    if cmd == "merge" and len(args) >= 1:
        sys.stdout.write(merge(args[0], args[1:]))
    elif cmd == "seen" and len(args) == 2:
        print("\n".join(seen(*args)))
    elif cmd == "record" and len(args) == 2:
        print("\n".join(record(*args)))
    elif cmd == "finished" and len(args) == 1:
        print("\n".join(finished(args[0])))
    elif cmd == "summary" and len(args) == 1:
        print(summary(args[0]))
    elif cmd == "counts" and len(args) == 1:
        print(counts(args[0]))
    elif cmd == "split" and len(args) == 2:
        split(*args)
    elif cmd == "all-skip" and len(args) == 2 and args[0].isdigit():
        return all_skip(int(args[0]), args[1])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except OSError as e:
        print(f"ktap.py: {e}", file=sys.stderr)
        sys.exit(1)
