#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Turn a run's KTAP into results.json and junit.xml for CI dashboards.

    results.py DIR
        a VM run's output directory: reads DIR/results.ktap, and the kernel
        release and expectations file from DIR/expectations.txt
    results.py --ktap FILE --release RELEASE [--spec SPEC] [--expect FILE]
               [--out DIR]
        any saved KTAP, e.g. of ./run_tests.sh on real hardware

Every subtest becomes one result; a program that crashed the kernel, timed
out or never ran (or failed or skipped without reporting any subtest)
becomes one result of its own. Each result carries its expectation (the
rules are below, "expectations"; this is their only implementation, and
--report writes the runner's expectations.txt from it). The '# race: ...' lines of the race tests are parsed into
numbers. Both files are written next to each other through a temporary name
and a rename, so a reader never sees half a file.

Exit: 0 written; 1 unreadable input, or with --report an unexpected
result; 2 bad usage.
"""

import argparse
import datetime
import json
import os
import re
import sys

from ktap import parse as parse_ktap

FORMAT = "pfnmap-results"
# 2: the outcome "miss", a test that did not run (its program ended the VM
# and no later boot got to it): KCIDB's MISS.
VERSION = 2
OUTCOMES = ("pass", "fail", "skip", "crash", "timeout", "miss")

NUM = r"-?\d+(?:\.\d+)?"


def number(text):
    return float(text) if "." in text else int(text)


# --- race counts -----------------------------------------------------------

def _key(words):
    return re.sub(r"[^a-z0-9]+", "_", words.lower()).strip("_")


# Words that open a group of NAME=N counts rather than start a name.
GROUPS = ("walks", "dma_map", "errno")


def _kv_segment(seg, race):
    """'walks numa_maps=1 smaps=2', 'unmap failures=0', 'errno: EINVAL=9'."""
    group = None
    words = seg.replace(":", " ").split()
    if words and words[0] in GROUPS and (len(words) == 1 or "=" in words[1] or words[1] == "none"):
        group = words.pop(0)
    target = race.setdefault(group, {}) if group else race
    pending = []
    for w in words:
        if "=" in w:
            k, v = w.split("=", 1)
            name = _key(" ".join(pending + [k])) if group != "errno" else k
            pending = []
            if re.fullmatch(NUM, v):
                target[name] = number(v)
            else:
                return False
        elif w == "none" and group:
            continue
        else:
            pending.append(w)
    return not pending


def parse_race(line):
    """The counts of a 'race: ...' line, by the formats of mm/ and vfio/."""
    race = {}
    for seg in re.split(r"[,;] ", line):
        seg = seg.strip()
        # "4 walkers: walks ..." and "PUD (1 GiB) leaves: walks ..."
        m = re.match(r"^(.*?): (.*)$", seg)
        if m and not m.group(1).startswith("errno"):
            head, seg = m.group(1), m.group(2)
            if not _head(head, race):
                race.setdefault("unparsed", []).append(head)
        if _head(seg, race):
            continue
        if not _kv_segment(seg, race):
            race.setdefault("unparsed", []).append(seg)
    return race


def _head(seg, race):
    m = re.fullmatch(rf"({NUM}) of (\d+) s", seg)
    if m:
        race["elapsed_s"] = number(m.group(1))
        race["duration_s"] = int(m.group(2))
        return True
    m = re.fullmatch(r"(\d+) ([a-z]+)", seg)
    if m:
        race[m.group(2)] = int(m.group(1))
        return True
    m = re.fullmatch(r"(.+) leaves", seg)
    if m:
        race["leaves"] = m.group(1)
        return True
    m = re.fullmatch(rf"([a-z ]+) ({NUM}) ms", seg)
    if m:
        race[_key(m.group(1)) + "_ms"] = number(m.group(2))
        return True
    return False


def parse_diag(lines):
    """Race counts and related figures from a subtest's diagnostic lines."""
    race = {}
    for ln in lines:
        m = re.match(r"^race: (.*)$", ln)
        if m:
            race.update(parse_race(m.group(1)))
            continue
        m = re.match(rf"^first failure ({NUM}) s into the race(?:: (.*))?$", ln)
        if m:
            race["first_failure_s"] = number(m.group(1))
            if m.group(2):
                race["first_failure"] = m.group(2)
            continue
        m = re.match(rf"^killed the mapper after (\d+) map attempts under (\d+) walkers: "
                     rf"gone in ({NUM}) ms \(bound ({NUM}) ms, uncontended map ({NUM}) ms\)$", ln)
        if m:
            race["mapper_kill"] = {
                "map_attempts": int(m.group(1)), "walkers": int(m.group(2)),
                "gone_ms": number(m.group(3)), "bound_ms": number(m.group(4)),
                "uncontended_map_ms": number(m.group(5)),
            }
    return race or None


# --- expectations -------------------------------------------------------------
#
# An expectations file (vm/expect/*.expect):
#   # match: GLOB ...                  kernel releases or SPECs it is for
#   PROGRAM[:SUBTEST-GLOB] OUTCOME "CAUSE" [what it is, and its fix]
# OUTCOME is pass, fail, skip or crash; fail, skip and crash need CAUSE, a
# fixed string the result's own words must hold (its failure message, SKIP
# reason or, for a crash, the console), so that a known bug is matched by
# how it fails and anything else failing there is unexpected. The last
# matching line wins; no line: the test must pass. With no file at all a
# test must pass, or SKIP for a missing kernel option, interface or device
# (MISSING_PRECONDITION).

# What a SKIP reason says when a precondition is missing, as the suite's
# SKIP messages put it (lib/ and the tests): a kernel option, interface or
# device, or a premise the hardware did not give.
MISSING_PRECONDITION = re.compile("|".join([
    r"CONFIG_[A-Z0-9_]+", r"\bno /dev/", r"\bno PCI device\b", r"\bno (edu|BAR) device named\b",
    r"not an edu device", r"which no DMA driver drives", r"has no mmap-able BAR", r"has no IOMMU group",
    r"is not viable", r"is not loaded", r"has no reset method", r" probe: ", r"cannot mmap VFIO DMA-BUFs",
    r"built against uapi headers without", r"IOMMU_IOAS_MAP_FILE is not available",
    r"transparent hugepages are disabled", r"hugetlb page", r"wanted .* leaves, the kernel installed",
    r"the IOMMU has no large pages", r"no second device",
    r"the page tables cannot be seen", r"BAR0 is smaller than", r"the IOVA space has no end",
    r"cannot export DMA-BUFs",
]))


def glob_re(glob):
    return re.compile("^" + re.escape(glob).replace(r"\*", ".*").replace(r"\?", ".") + "$")


def load_expectations(path):
    rules = []
    if not path:
        return rules
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if re.match(r"^[ \t]*(#|$)", line):
                continue
            m = re.match(r'^(\S+)[ \t]+(\S+)(?:[ \t]+"([^"]*)")?(?:[ \t]+(.*))?$', line)
            if not m or m.group(2) not in ("pass", "fail", "skip", "crash"):
                raise ValueError(f"bad outcome in {path}: {line}")
            if m.group(2) != "pass" and not m.group(3):
                raise ValueError(f'{path}: a {m.group(2)} needs its "CAUSE" (the words it fails or SKIPs with): {line}')
            rules.append((glob_re(m.group(1)), m.group(2), m.group(3) or "", m.group(4) or ""))
    return rules


def judge(rules, have_file, key, outcome, words=()):
    """words: what the result said (reason, output, console) for its CAUSE."""
    want, cause, text = "pass", "", ""
    for pat, out, c, why in rules:
        if pat.match(key):
            want, cause, text = out, c, why
    got = "fail" if outcome == "timeout" else outcome
    mismatch = None
    if got == "miss":
        # No expectation covers a test that did not run: it has no verdict.
        as_expected = False
    elif not have_file:
        reason = next((w for w in words if w), "")
        as_expected = got == "pass" or (got == "skip" and bool(MISSING_PRECONDITION.search(reason)))
        if got == "skip" and not as_expected:
            mismatch = "a SKIP that names no missing kernel option, interface or device"
    else:
        as_expected = got == want
        if as_expected and cause and not any(cause in w for w in words if w):
            as_expected = False
            mismatch = f'{got}, but not with "{cause}"'
    known = as_expected and got in ("fail", "crash")
    return {
        "outcome": want,
        "cause": cause or None,
        "text": text or None,
        "known_bug": known,
        "unexpected": not as_expected,
        "mismatch": mismatch,
        "status": "unexpected" if not as_expected else "known kernel bug" if known else "as expected",
    }


def build(ktap_path, release, spec, expect_path):
    with open(ktap_path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    if not text.startswith("TAP version"):
        raise ValueError(f"{ktap_path}: not KTAP (no 'TAP version' line)")
    rules = load_expectations(expect_path)
    have_file = bool(expect_path)
    programs = parse_ktap(text)
    results = []

    def add(prog, subtest, outcome, reason, output, running=None):
        key = prog["program"] + (":" + subtest if subtest else "")
        words = [reason or ""] + output
        # A test the VM ended in: the kernel's console says why.
        if subtest and (reason or "").startswith("CRASH"):
            words += prog["console"]
        r = {
            "id": key,
            "collection": prog["collection"],
            "program": prog["program"],
            "subtest": subtest,
            "outcome": outcome,
            "reason": reason,
            "expected": judge(rules, have_file, key, outcome, words),
            "race": parse_diag(output),
            "output": output,
        }
        if running is not None:
            r["running"] = running
        results.append(r)

    for p in programs:
        for s in p["subtests"]:
            reason = s["reason"]
            if s["outcome"] == "fail" and not reason:
                # The harness's first failed assertion says where and why; a
                # test's own report (TH_LOG) has the same "file.c:line:" form.
                where = [ln for ln in s["output"] if re.match(r"^\S+\.c:\d+:", ln)]
                reason = next((ln for ln in where if re.match(r"^\S+\.c:\d+:\w+:Expected ", ln)),
                              where[-1] if where else None)
            add(p, s["name"], s["outcome"], reason, s["output"])
        d = p["directive"] or ""
        run = p.get("running") or {}
        if p["result"] is None:
            add(p, None, "fail", "no result line in the KTAP", run.get("output", []), run.get("name"))
        elif d.startswith("CRASH"):
            add(p, None, "crash", d[len("CRASH: "):] or "the kernel crashed",
                run.get("output", []) + p["console"], run.get("name"))
        elif d.startswith("TIMEOUT"):
            add(p, None, "timeout", d, run.get("output", []), run.get("name"))
        elif d.startswith("not run"):
            add(p, None, "fail", d, [], None)
        elif not p["subtests"] and p["result"] == "not ok":
            add(p, None, "fail", d or "not ok", p["lines"], None)
        elif not p["subtests"] and d.startswith("SKIP"):
            add(p, None, "skip", d[len("SKIP"):].strip() or p["plan_skip"], p["lines"], None)
        elif p["result"] == "ok":
            # A program whose crash was expected must crash.
            want = judge(rules, have_file, p["program"], "pass")
            if want["outcome"] == "crash":
                add(p, None, "pass", None, [])

    summary = {k: 0 for k in OUTCOMES}
    for r in results:
        summary[r["outcome"]] += 1
    summary["total"] = len(results)
    summary["as_expected"] = sum(r["expected"]["status"] == "as expected" for r in results)
    summary["known_bugs"] = sum(r["expected"]["known_bug"] for r in results)
    summary["unexpected"] = sum(r["expected"]["unexpected"] for r in results)

    mtime = datetime.datetime.fromtimestamp(os.stat(ktap_path).st_mtime, datetime.timezone.utc)
    return {
        "format": FORMAT,
        "version": VERSION,
        "kernel": {"release": release, "spec": spec or None},
        "expectations_file": expect_path or None,
        "ktap": os.path.abspath(ktap_path),
        # The KTAP's time, not the conversion's: converting again gives the same file.
        "timestamp": mtime.replace(microsecond=0).isoformat(),
        "summary": summary,
        "programs": [{
            "collection": p["collection"], "program": p["program"], "plan": p["plan"],
            "result": p["result"], "directive": p["directive"],
        } for p in programs],
        "results": results,
    }


# --- JUnit --------------------------------------------------------------------

def _flat(prefix, value, out):
    if isinstance(value, dict):
        for k, v in value.items():
            _flat(f"{prefix}.{k}", v, out)
    elif isinstance(value, list):
        out.append((prefix, "; ".join(map(str, value))))
    elif value is not None:
        out.append((prefix, str(value).lower() if isinstance(value, bool) else str(value)))


# XML 1.0 has no way to write most control characters, which a kernel
# console can carry.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(s):
    return _NOT_XML.sub("\ufffd", s) if s else s


def junit(doc):
    """JUnit XML as Jenkins, GitLab and junitparser read it, written with
    junitparser: a testsuite per program, failure for fail, error for
    crash, timeout and miss (a test that did not run), skipped for skip;
    each testcase's outcome, expectation and race counts as properties."""
    # Debian's python3-junitparser: the system python3 (vm/run.sh runs this
    # with it); imported here so that the other functions need no package.
    from junitparser import (Error, Failure, JUnitXml, Properties, Property, Skipped,
                             TestCase, TestSuite)

    release = doc["kernel"]["release"]
    xml = JUnitXml(f"pfnmap selftests on {release}")
    for p in doc["programs"]:
        cls = f"pfnmap.{p['collection']}.{p['program']}"
        suite = TestSuite(cls)
        suite.timestamp = doc["timestamp"][:19]
        # Properties first: the schema wants them before the testcases.
        for k, v in (("kernel.release", release), ("kernel.spec", doc["kernel"]["spec"]),
                     ("expectations_file", doc["expectations_file"]),
                     ("program.result", " # ".join(x for x in (p["result"], p["directive"]) if x))):
            if v:
                suite.add_property(k, v)
        for r in (r for r in doc["results"] if r["program"] == p["program"]):
            case = TestCase(r["subtest"] or f"{r['program']} (whole program)", cls)
            e = r["expected"]
            cprops = [("outcome", r["outcome"])]
            _flat("expected", e, cprops)
            if r["race"]:
                _flat("race", r["race"], cprops)
            props = Properties()
            for k, v in cprops:
                props.add_property(Property(k, xml_text(v)))
            case.append(props)
            note = f"{e['status']}: expected {e['outcome']}" + (f" ({e['text']})" if e["text"] else "")
            output = xml_text("\n".join(r["output"])) or None
            if r["outcome"] == "fail":
                res = Failure(xml_text((r["reason"] + "; " if r["reason"] else "") + note), e["status"])
                res.text = output
                case.result = [res]
            elif r["outcome"] in ("crash", "timeout", "miss"):
                where = f" during {r['running']}" if r.get("running") else ""
                res = Error(xml_text(f"{r['outcome'].upper()}: {r['reason']}{where}; {note}"),
                            r["outcome"])
                res.text = output
                case.result = [res]
            elif r["outcome"] == "skip":
                case.result = [Skipped(xml_text(r["reason"] or "skipped"))]
            if output and r["outcome"] in ("pass", "skip"):
                case.system_out = output
            suite.add_testcase(case)
        suite.update_statistics()
        xml.add_testsuite(suite)
    xml.update_statistics()
    return '<?xml version="1.0" encoding="utf-8"?>\n' + xml.tostring().decode("utf-8") + "\n"


# --- the comparison, as the runner prints it (expectations.txt) -----------------

# What covers a group of SKIPs: the reason's words, and the command that
# gives the missing kernel option, interface or device.
SKIP_HINTS = [
    (r"CONFIG_IOMMUFD|CONFIG_PTDUMP_DEBUGFS|CONFIG_INTEL_IOMMU_DEBUGFS",
     "a kernel with the suite's config: make run KERNEL=build:debian-backports (about 10 min once, on 2 cores)"),
    (r"cannot mmap VFIO DMA-BUFs",
     'a kernel with "vfio/pci: Add mmap() for DMABUFs": scripts/build_kernel.sh --patch SERIES.patch debian-backports, '
     'then ./run_tests.sh --vm --kernel THAT-BZIMAGE (make check does it with ../shared/kernels)'),
    (r"built against uapi headers without",
     "the suite built against that kernel's uapi: make KSRC=$(scripts/build_kernel.sh --headers --patch SERIES.patch debian-backports)"),
    (r"VFIO_DEVICE_FEATURE_DMA_BUF probe", "a 6.19+ kernel with CONFIG_VFIO_PCI_DMABUF: make run KERNEL=debian-sid"),
    (r"has no reset method", "a device with a reset method (FLR, PM or bus reset; QEMU's edu has none)"),
    (r"no (edu|BAR) device named", "name one: PFNMAP_EDU_BDF=, PFNMAP_BAR_BDF= or PFNMAP_BDF= (README, Distro QA)"),
]


def skip_groups(doc):
    """SKIPs by reason (BDFs and IOMMU mode names taken out), most first."""
    groups = {}
    for r in doc["results"]:
        if r["outcome"] != "skip" or not r["reason"]:
            continue
        reason = re.sub(r"\b[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]\b", "BDF", r["reason"])
        reason = re.sub(r"^(vfio_type1v?2?_iommu|iommufd_compat_type1v?2?|iommufd): ", "", reason)
        groups.setdefault(reason, []).append(r["id"])
    out = []
    for reason, ids in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        hint = next((h for pat, h in SKIP_HINTS if re.search(pat, reason)), None)
        out.append(f"  {len(ids)} SKIP: {reason}" + (f"\n      covered by {hint}" if hint else ""))
    return out

def report(doc):
    """The known bugs apart from the unexpected results, and the counts."""
    out = [f"expectations for {doc['kernel']['release']}: " +
           (doc["expectations_file"] or "none (every test expected to pass, or SKIP for a missing kernel option, interface or device)")]
    known, unexpected = [], []
    for r in doc["results"]:
        e = r["expected"]
        what = e["text"] or e["cause"] or ""
        if e["known_bug"]:
            known.append(f"  known kernel bug: {r['id']} {r['outcome']}: {what}")
        elif e["unexpected"]:
            line = f"  UNEXPECTED {r['outcome'].upper()}: {r['id']} (expected {e['outcome']}"
            line += (f": {what}" if what else "") + ")"
            if e["mismatch"]:
                line += f" -- {e['mismatch']}"
            if r["reason"]:
                line += f" -- {r['reason']}"
            unexpected.append(line)
    s = doc["summary"]
    out += known
    groups = skip_groups(doc)
    if groups:
        out.append(f"skipped: {s['skip']}, by reason:")
        out += groups
    # Last, by the counts: where a log is cut to its tail (CI), these stay.
    out += unexpected
    out.append(f"expected: {s['as_expected']} results as expected, {s['known_bugs']} known kernel bugs, "
               f"{s['unexpected']} unexpected")
    return "\n".join(out) + "\n"


# --- the command --------------------------------------------------------------

def from_dir(d):
    """Release and expectations file of a VM run, from its expectations.txt."""
    with open(os.path.join(d, "expectations.txt"), encoding="utf-8") as f:
        head = f.readline().rstrip("\n")
    m = re.match(r"^expectations for (\S+): (.*)$", head)
    if not m:
        raise ValueError(f"{d}/expectations.txt: no 'expectations for RELEASE: FILE' line")
    release, expect = m.group(1), m.group(2)
    if expect.startswith("none "):
        expect = ""
    elif not os.path.isabs(expect):
        # vm_run names it relative to the suite, where the run started.
        suite = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        expect = os.path.join(suite, expect)
    return release, expect


def write(path, text):
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir", nargs="?", help="a VM run's output directory")
    ap.add_argument("--ktap")
    ap.add_argument("--release")
    ap.add_argument("--spec", default="")
    ap.add_argument("--expect", default="", help="expectations file (none: every test expected to pass or skip)")
    ap.add_argument("--out", help="where results.json and junit.xml go (default: beside the KTAP)")
    ap.add_argument("--report", metavar="FILE",
                    help="also write the comparison with the expectations to FILE (- for stdout); "
                         "exit 1 when a result is unexpected")
    a = ap.parse_args(argv)
    try:
        if a.dir:
            if a.ktap or a.release:
                ap.error("give a VM output directory or --ktap and --release, not both")
            release, expect = from_dir(a.dir)
            ktap, out = os.path.join(a.dir, "results.ktap"), a.out or a.dir
            expect = a.expect or expect
        else:
            if not a.ktap or not a.release:
                ap.error("--ktap FILE and --release RELEASE are needed (or a VM output directory)")
            ktap, release, expect = a.ktap, a.release, a.expect
            out = a.out or os.path.dirname(os.path.abspath(ktap))
        doc = build(ktap, release, a.spec, os.path.abspath(expect) if expect else "")
    except (OSError, ValueError) as e:
        print(f"results.py: {e}", file=sys.stderr)
        return 1
    try:
        xml = junit(doc)
    except ImportError as e:
        print(f"results.py: {e}: needs Debian's python3-junitparser for the system python3 "
              "(/usr/bin/python3; 'make setup' installs it)", file=sys.stderr)
        return 1
    os.makedirs(out, exist_ok=True)
    write(os.path.join(out, "results.json"), json.dumps(doc, indent=1) + "\n")
    write(os.path.join(out, "junit.xml"), xml)
    s = doc["summary"]
    print(f"results: {out}/results.json, junit.xml: {s['total']} results "
          f"({s['pass']} pass, {s['fail']} fail, {s['skip']} skip, {s['crash']} crash, "
          f"{s['timeout']} timeout, {s['miss']} not run; {s['unexpected']} unexpected)", file=sys.stderr if a.report == "-" else sys.stdout)
    if a.report:
        text = report(doc)
        if a.report == "-":
            sys.stdout.write(text)
        else:
            write(a.report, text)
        return 1 if s["unexpected"] else 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
