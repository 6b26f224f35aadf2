#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Tabulate results.json files of several kernels as a test-by-kernel matrix.

    matrix.py --out DIR RESULTS.JSON...

writes DIR/matrix.md and DIR/matrix.html (one self-contained page: inline
CSS, no scripts, no external assets). Known kernel bugs, unexpected results
and SKIP reasons are marked in the cells and explained in footnotes (and in
tooltips in the HTML). A program that crashed, timed out or never ran shows
on its program's row. Exit: 0 written, 1 unreadable input, 2 bad usage.
"""

import argparse
import html
import json
import os
import re
import sys

# The same atomic write as the per-run results (a reader never sees half a file).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from results import write  # noqa: E402

OUT_WORD = {"pass": "PASS", "fail": "FAIL", "skip": "SKIP", "crash": "CRASH", "timeout": "TIMEOUT",
            "miss": "MISS"}


def load(paths):
    docs = []
    for p in paths:
        with open(p, encoding="utf-8") as f:
            d = json.load(f)
        if d.get("format") != "pfnmap-results":
            raise ValueError(f"{p}: not a pfnmap results.json")
        d["_label"] = d["kernel"]["release"]
        spec = d["kernel"].get("spec") or ""
        # matrix.sh numbers the runs it converts: the run's own name is the rest.
        d["_sub"] = os.path.basename(spec) if spec else \
            re.sub(r"^\d+-", "", os.path.basename(os.path.dirname(os.path.abspath(p))))
        docs.append(d)
    return docs


def rows_of(docs):
    """Programs in run order, each with its subtests in first-seen order."""
    progs, subs = [], {}
    for d in docs:
        for p in d["programs"]:
            key = (p["collection"], p["program"])
            if key not in subs:
                progs.append(key)
                subs[key] = []
        for r in d["results"]:
            key = (r["collection"], r["program"])
            if key not in subs:
                progs.append(key)
                subs[key] = []
            if r["subtest"] and r["subtest"] not in subs[key]:
                subs[key].append(r["subtest"])
    return [(k, subs[k]) for k in progs]


def race_brief(race):
    """The race counts that matter at a glance; the tooltip has them all."""
    if not race:
        return ""
    bits = []
    if "dma_map" in race:
        dm = race["dma_map"]
        bits.append(f"maps {dm.get('ok', 0)}/{dm.get('attempts', 0)}")
        errs = race.get("errno") or {}
        if errs:
            bits.append(" ".join(f"{k}={v}" for k, v in errs.items()))
    elif "walks" in race:
        bits.append(f"walks {sum(race['walks'].values())}")
        if "sweeps" in race:
            bits.append(f"sweeps {race['sweeps']}")
    if "mapper_kill" in race:
        bits.append(f"killed in {race['mapper_kill']['gone_ms']} ms")
    if "first_failure_s" in race:
        bits.append(f"1st failure {race['first_failure_s']} s")
    return ", ".join(bits)


def race_full(race, prefix=""):
    out = []
    for k, v in (race or {}).items():
        if isinstance(v, dict):
            out += race_full(v, f"{prefix}{k}.")
        else:
            out.append(f"{prefix}{k}={v}")
    return out


class Notes:
    """Numbered footnotes, one per distinct text."""

    def __init__(self, tag):
        self.tag, self.items = tag, {}

    def ref(self, text):
        if text not in self.items:
            self.items[text] = f"{self.tag}{len(self.items) + 1}"
        return self.items[text]


def cell(r, prog_info, skips, bugs):
    """(css class, word, marks [(kind, ref)], brief, tooltip) of one cell."""
    if r is None:
        if prog_info is None:
            return ("absent", "—", [], "", "not in this run")
        word = "ran" if prog_info["result"] == "ok" else "not ok"
        d = prog_info["directive"]
        return ("prog", word, [], d or "", f"program: {prog_info['result']}" + (f" # {d}" if d else ""))
    e = r["expected"]
    marks, tip = [], [f"{OUT_WORD[r['outcome']]}"]
    if r["outcome"] == "skip" and r["reason"]:
        marks.append(("skip", skips.ref(r["reason"])))
    elif r["reason"]:
        tip.append(r["reason"])
    if r.get("running"):
        tip.append(f"during {r['running']}")
    if e["known_bug"]:
        marks.append(("bug", bugs.ref(e["text"] or "known kernel bug")))
    if e["unexpected"]:
        marks.append(("unexpected", ""))
        tip.append(f"UNEXPECTED: expected {e['outcome']}" + (f" ({e['text']})" if e["text"] else ""))
    elif e["text"]:
        tip.append(f"expected {e['outcome']}: {e['text']}")
    if r["outcome"] == "skip" and r["reason"]:
        tip.append(f"skip reason: {r['reason']}")
    tip += race_full(r["race"])
    cls = r["outcome"] + (" unexpected" if e["unexpected"] else " known" if e["known_bug"] else "")
    brief = race_brief(r["race"])
    if r["outcome"] in ("crash", "timeout", "miss"):
        brief = "; ".join(x for x in (r["reason"], brief) if x)
    return (cls, OUT_WORD[r["outcome"]], marks, brief, "\n".join(tip))


def table(docs):
    """Rows of (kind, name, [cell...]) and the footnotes they refer to."""
    skips, bugs = Notes("S"), Notes("K")
    index = [{(r["program"], r["subtest"]): r for r in d["results"]} for d in docs]
    pinfo = [{p["program"]: p for p in d["programs"]} for d in docs]
    rows = []
    for (coll, prog), subtests in rows_of(docs):
        rows.append(("program", f"{coll}/{prog}",
                     [cell(ix.get((prog, None)), pi.get(prog), skips, bugs) for ix, pi in zip(index, pinfo)]))
        for s in subtests:
            cells = []
            for ix, pi in zip(index, pinfo):
                r = ix.get((prog, s))
                whole = ix.get((prog, None))
                if r:
                    cells.append(cell(r, None, skips, bugs))
                elif whole and whole.get("running") == s:
                    cells.append(("crashed", f"{OUT_WORD[whole['outcome']]} here", [], "see the program's row",
                                  f"the program's {whole['outcome']} came while this subtest ran"))
                elif prog in pi:
                    cells.append(("absent", "—", [], "", "not reported: the program ended before it"))
                else:
                    cells.append(("absent", "—", [], "", "not in this run"))
            rows.append(("subtest", s, cells))
    return rows, skips, bugs


def unexpected_list(docs):
    out = []
    for d in docs:
        for r in d["results"]:
            e = r["expected"]
            if e["unexpected"]:
                out.append(f"{d['_label']} ({d['_sub']}): {OUT_WORD[r['outcome']]} {r['id']}, expected {e['outcome']}"
                           + (f" ({e['text']})" if e["text"] else "")
                           + (f" -- {r['reason']}" if r["reason"] else ""))
    return out


def summary_line(d):
    s = d["summary"]
    parts = [f"{s[k]} {k}" for k in ("pass", "fail", "skip", "crash", "timeout", "miss") if s[k] or k in ("pass", "fail", "skip")]
    return ", ".join(parts) + f"; {s['known_bugs']} known bugs, {s['unexpected']} unexpected"


def markdown(docs):
    rows, skips, bugs = table(docs)
    md = ["# pfnmap selftests: results by kernel", ""]
    md.append("| test | " + " | ".join(f"{d['_label']}<br>{d['_sub']}" for d in docs) + " |")
    md.append("|---|" + "---|" * len(docs))
    md.append("| **summary** | " + " | ".join(summary_line(d) for d in docs) + " |")
    for kind, name, cells in rows:
        out = []
        for cls, word, marks, brief, _tip in cells:
            text = word
            for k, ref in marks:
                text += {"skip": f" [{ref}]", "bug": f" known bug [{ref}]", "unexpected": " **UNEXPECTED**"}[k]
            if brief:
                text += f" ({brief})"
            out.append(text.replace("|", "\\|"))
        label = f"**{name}**" if kind == "program" else name
        md.append(f"| {label} | " + " | ".join(out) + " |")
    md += ["", "Known kernel bugs:", ""]
    md += [f"- [{ref}] {text}" for text, ref in bugs.items.items()] or ["- none"]
    md += ["", "SKIP reasons:", ""]
    md += [f"- [{ref}] {text}" for text, ref in skips.items.items()] or ["- none"]
    md += ["", "Unexpected results:", ""]
    md += [f"- {u}" for u in unexpected_list(docs)] or ["- none"]
    return "\n".join(md) + "\n"


CSS = """
body { font: 13px/1.35 "DejaVu Sans", Arial, sans-serif; margin: 16px; color: #111; }
h1 { font-size: 18px; margin: 0 0 4px; }
p.legend span { display: inline-block; padding: 1px 6px; margin-right: 6px; border-radius: 3px; }
table { border-collapse: collapse; }
th, td { border: 1px solid #bbb; padding: 2px 6px; vertical-align: top; }
thead th { background: #e8e8ee; text-align: left; }
th small, td small { display: block; color: #444; font-weight: normal; font-size: 11px; }
tr.program td { font-weight: bold; border-top: 2px solid #667; }
tr.program td.name, tr.program td.prog, tr.program td.absent { background: #dde3ee; }
tr.summary td { background: #f6f6f9; }
tr.program td.prog { font-weight: normal; }
td.name { font-family: "DejaVu Sans Mono", monospace; font-size: 12px; white-space: nowrap; }
tr.program td.name { font-family: inherit; font-size: 13px; }
td.pass { background: #d6f5d6; }
td.skip { background: #eeeeee; color: #555; }
td.fail { background: #ffd0d0; }
td.crash { background: #b00020; color: #fff; font-weight: bold; }
td.crash small { color: #fff; }
td.crash.known { background-image: repeating-linear-gradient(135deg, transparent 0 6px, rgba(255,255,255,.12) 6px 9px); }
td.timeout { background: #ffb060; }
td.miss { background: #d0d0d0; color: #400; font-style: italic; }
td.absent { color: #999; text-align: center; }
td.crashed { background: #f3c0c8; color: #700010; }
td.known { background-image: repeating-linear-gradient(135deg, transparent 0 6px, rgba(255,255,255,.45) 6px 9px); }
td.unexpected { outline: 3px solid #d000d0; outline-offset: -3px; }
sup { font-size: 10px; }
b.bug, b.unexp { background: #fff; border-radius: 3px; padding: 0 3px; white-space: nowrap; }
b.bug { color: #7a0000; border: 1px solid #7a0000; }
b.unexp { color: #a000a0; border: 1px solid #a000a0; }
ol, ul { margin: 4px 0 12px; }
h2 { font-size: 15px; margin: 14px 0 2px; }
"""


def page(docs, title="pfnmap selftests: results by kernel"):
    rows, skips, bugs = table(docs)
    e = html.escape
    h = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8" />',
         f"<title>{e(title)}</title>", f"<style>{CSS}</style>", "</head>", "<body>",
         f"<h1>{e(title)}</h1>",
         '<p class="legend"><span style="background:#d6f5d6">PASS</span><span style="background:#ffd0d0">FAIL</span>'
         '<span style="background:#eee">SKIP <sup>S</sup> reason</span>'
         '<span style="background:#b00020;color:#fff">CRASH</span><span style="background:#ffb060">TIMEOUT</span>'
         '<span style="background:#ffd0d0"><b class="bug">known bug <sup>K</sup></b> (as expected)</span>'
         '<span style="outline:3px solid #d000d0"><b class="unexp">UNEXPECTED</b></span>'
         "hover a cell for the details and race counts</p>",
         "<table>", "<thead><tr><th>test</th>"]
    for d in docs:
        h.append(f"<th>{e(d['_label'])}<small>{e(d['_sub'])}</small></th>")
    h.append("</tr></thead>")
    h.append("<tbody>")
    h.append('<tr class="summary"><td class="name">summary</td>'
             + "".join(f"<td>{e(summary_line(d))}</td>" for d in docs) + "</tr>")
    for kind, name, cells in rows:
        h.append(f'<tr class="{kind}"><td class="name">{e(name)}</td>')
        for cls, word, marks, brief, tip in cells:
            inner = e(word)
            for k, ref in marks:
                if k == "skip":
                    inner += f" <sup>{ref}</sup>"
                elif k == "bug":
                    inner += f' <b class="bug">known bug <sup>{ref}</sup></b>'
                else:
                    inner += ' <b class="unexp">UNEXPECTED</b>'
            if brief:
                inner += f"<small>{e(brief)}</small>"
            h.append(f'<td class="{cls}" title="{e(tip)}">{inner}</td>')
        h.append("</tr>")
    h.append("</tbody></table>")
    h.append("<h2>Known kernel bugs</h2><ul>")
    h += [f"<li><sup>{ref}</sup> {e(text)}</li>" for text, ref in bugs.items.items()] or ["<li>none</li>"]
    h.append("</ul><h2>SKIP reasons</h2><ul>")
    h += [f"<li><sup>{ref}</sup> {e(text)}</li>" for text, ref in skips.items.items()] or ["<li>none</li>"]
    h.append("</ul><h2>Unexpected results</h2><ul>")
    h += [f"<li>{e(u)}</li>" for u in unexpected_list(docs)] or ["<li>none</li>"]
    h.append("</ul>")
    h.append("<p><small>Sources: " + "; ".join(e(d["ktap"]) for d in docs) + "</small></p>")
    h += ["</body>", "</html>"]
    return "\n".join(h) + "\n"



def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("results", nargs="+", help="results.json files, one per kernel, in column order")
    a = ap.parse_args(argv)
    try:
        docs = load(a.results)
        md, pg = markdown(docs), page(docs)
    except (OSError, ValueError, KeyError, TypeError) as ex:
        print(f"matrix.py: {ex}", file=sys.stderr)
        return 1
    os.makedirs(a.out, exist_ok=True)
    write(os.path.join(a.out, "matrix.md"), md)
    write(os.path.join(a.out, "matrix.html"), pg)
    n = sum(1 for _ in rows_of(docs))
    unexp = sum(d["summary"]["unexpected"] for d in docs)
    print(f"matrix: {a.out}/matrix.md, matrix.html: {n} programs on {len(docs)} kernels, "
          f"{unexp} unexpected results")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
