"""A self-contained HTML report: per run, a picture of the memory map, the checks, the stage
timeline and a link to the console log. Pure: documents in, one HTML string out."""

from __future__ import annotations

import bisect
import contextlib
import html
import math
import os
import sys
from pathlib import Path

from msgspec import UNSET

from rig.judge.result import Result

WIDTH = 1000
ROW_H = 26

_CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 2em; }
.badge { padding: 0.1em 0.6em; border-radius: 0.6em; color: white; font-weight: bold; }
.pass { background: #2e7d32; } .fail { background: #c62828; } .crash { background: #6a1b9a; }
.error { background: #ef6c00; } .incomplete { background: #757575; } .skip { background: #9e9e9e; }
.warn { background: #f9a825; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.9em; }
td, th { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
.summary td { white-space: nowrap; }
svg text { font-size: 10px; font-family: monospace; }
rect.ram { fill: #66bb6a; } rect.reserved { fill: #9e9e9e; } rect.nvs { fill: #ffa726; }
rect.acpi { fill: #ffcc80; } rect.unusable { fill: #8d6e63; } rect.gap { fill: #ffffff; }
rect.other { fill: #bdbdbd; } rect.hole { fill: none; stroke: #d32f2f; stroke-width: 2; }
rect.area { fill: #ef5350; } rect.remap { fill: #42a5f5; } rect.freed { fill: #ef5350; }
rect.populated { fill: #1e88e5; } line.nr-boundary { stroke: #000; stroke-width: 2;
stroke-dasharray: 4 2; } rect.stage { stroke: white; }
.legend span { display: inline-block; margin-right: 1em; font-size: 0.85em; }
.legend i { display: inline-block; width: 1em; height: 0.8em; margin-right: 0.3em;
border: 1px solid #999; vertical-align: middle; }
"""

_TYPE_CLASS = {"usable": "ram", "reserved": "reserved", "ACPI NVS": "nvs", "ACPI data": "acpi",
               "unusable": "unusable"}


def _esc(value: object) -> str:
    return html.escape("-" if value is None else str(value))


class _Axis:
    """A piecewise scale: every interval between two interesting addresses gets a width that
    grows with the log of its size, so a 4 KiB hole and a 60 GiB RAM range are both visible."""

    def __init__(self, points: set[int]) -> None:
        self.points = sorted(points)
        widths = [4 + math.log2(1 + (b - a) / 4096)
                  for a, b in zip(self.points, self.points[1:], strict=False)]
        scale = WIDTH / (sum(widths) or 1)
        self.x = [0.0]
        for w in widths:
            self.x.append(self.x[-1] + w * scale)

    def pos(self, addr: int) -> float:
        i = bisect.bisect_right(self.points, addr) - 1
        if i < 0:
            return 0.0
        if i >= len(self.points) - 1:
            return WIDTH
        a, b = self.points[i], self.points[i + 1]
        return self.x[i] + (self.x[i + 1] - self.x[i]) * (addr - a) / (b - a)


def memory_map_svg(doc: Result) -> str:
    entries = doc.xen.e820 or doc.linux.e820 or []
    if not entries:
        return "<p>No E820 map in the log.</p>"
    ram_end = max((e.end for e in entries if e.is_ram), default=0)
    # the far reserved ranges (e.g. AMD's HyperTransport window near 1 TiB) would squash the
    # picture: stop at the end of RAM or 4 GiB
    limit = max(ram_end, 1 << 32)
    entries = [e for e in entries if e.start < limit]
    holes = doc.scenario_prediction.holes if doc.scenario_prediction else []
    nr = doc.xen.dom0_nr_pages
    pred = doc.pv_prediction
    areas = [(r.start_pfn << 12, r.end_pfn << 12) for r in (pred.hole_ranges if pred else [])]
    remapped = (pred.remapped_pages if pred else 0) or 0
    populated = [(r.start_pfn << 12, r.end_pfn << 12)
                 for r in (pred.populated_ranges if pred else [])]
    points = {0, limit}
    for e in entries:
        points |= {e.start, min(e.end, limit)}
    for h in holes:
        points |= {h.start, h.end}
    for a, b in areas + populated:
        points |= {a, b}
    if nr:
        points |= {nr << 12, (nr + remapped) << 12}
    axis = _Axis({p for p in points if 0 <= p <= limit})
    out = [f'<svg class="memmap" width="{WIDTH + 20}" height="{ROW_H * 4 + 40}" '
           f'xmlns="http://www.w3.org/2000/svg"><g transform="translate(10,10)">',
           f'<rect class="gap" x="0" y="0" width="{WIDTH}" height="{ROW_H}" stroke="#ccc"/>']
    for e in entries:
        x0, x1 = axis.pos(e.start), axis.pos(min(e.end, limit))
        cls = _TYPE_CLASS.get(e.type.value, "other")
        out.append(f'<rect class="{cls}" x="{x0:.1f}" y="0" width="{max(x1 - x0, 0.5):.1f}" '
                   f'height="{ROW_H}"><title>{e.start:#x}-{e.end:#x} '
                   f'{_esc(e.type.value)}</title></rect>')
    for h in holes:
        x0, x1 = axis.pos(h.start), axis.pos(h.end)
        out.append(f'<rect class="hole" x="{x0:.1f}" y="-2" width="{max(x1 - x0, 1):.1f}" '
                   f'height="{ROW_H + 4}"><title>requested {h.kind} {h.start:#x}-'
                   f'{h.end:#x}</title></rect>')
    y = ROW_H + 6
    out += _below_map(axis, y, areas, populated, nr, remapped)
    out += _ticks(axis)
    out.append("</g></svg>")
    legend = "".join(f'<span><i style="background:{c}"></i>{n}</span>' for n, c in (
        ("RAM", "#66bb6a"), ("reserved", "#9e9e9e"), ("ACPI NVS", "#ffa726"),
        ("gap", "#ffffff"), ("requested hole", "#d32f2f"), ("non-RAM below nr_pages", "#ef5350"),
        ("remapped to", "#42a5f5"), ("populated", "#1e88e5")))
    return "".join(out) + f'<div class="legend">{legend}</div>'


def _below_map(axis: _Axis, y: int, areas: list[tuple[int, int]],
               populated: list[tuple[int, int]], nr: int | None, remapped: int) -> list[str]:
    """The row under the map: non-RAM below nr_pages, where it went, the nr_pages line."""
    out = []
    for a, b in areas:
        out.append(f'<rect class="area" x="{axis.pos(a):.1f}" y="{y}" '
                   f'width="{max(axis.pos(b) - axis.pos(a), 1):.1f}" height="{ROW_H // 2}">'
                   f'<title>non-RAM below nr_pages: pfn {a >> 12:x}-{b >> 12:x}</title></rect>')
    if nr and remapped:
        a, b = nr << 12, (nr + remapped) << 12
        out.append(f'<rect class="remap" x="{axis.pos(a):.1f}" y="{y}" '
                   f'width="{max(axis.pos(b) - axis.pos(a), 1):.1f}" height="{ROW_H // 2}">'
                   f'<title>remapped: {remapped} pages from pfn {nr:x}</title></rect>')
    for a, b in populated:
        out.append(f'<rect class="populated" x="{axis.pos(a):.1f}" y="{y}" '
                   f'width="{max(axis.pos(b) - axis.pos(a), 1):.1f}" height="{ROW_H // 2}">'
                   f'<title>populated pfn {a >> 12:x}-{b >> 12:x}</title></rect>')
    if nr:
        x = axis.pos(nr << 12)
        out.append(f'<line class="nr-boundary" x1="{x:.1f}" y1="-4" x2="{x:.1f}" '
                   f'y2="{y + ROW_H}"/><text x="{x + 3:.1f}" y="{y + ROW_H + 8}">nr_pages '
                   f'{nr} (pfn {nr:x})</text>')
    return out


def _ticks(axis: _Axis) -> list[str]:
    out = []
    last = -100.0
    for p in axis.points:
        x = axis.pos(p)
        if x - last < 55:
            continue
        last = x
        out.append(f'<text x="{x:.1f}" y="{ROW_H * 3 + 20}" transform="rotate(20 {x:.1f} '
                   f'{ROW_H * 3 + 20})">{p:#x}</text>')
    return out


def _timeline(doc: Result) -> str:
    stages = doc.timings.stages if doc.timings is not None and doc.timings.stages is not UNSET \
        else {}
    if not stages:
        return ""
    items = sorted(stages.items(), key=lambda kv: kv[1])
    total = max(v for _, v in items) or 1
    out = [f'<svg class="timeline" width="{WIDTH + 20}" height="62">'
           '<g transform="translate(10,5)">']
    colours = ["#90caf9", "#64b5f6", "#42a5f5", "#2196f3", "#1e88e5", "#1976d2", "#1565c0"]
    for i, (name, t) in enumerate(items):
        end = items[i + 1][1] if i + 1 < len(items) else total
        x0, x1 = WIDTH * t / total, WIDTH * end / total
        out.append(f'<rect class="stage" x="{x0:.1f}" y="0" width="{max(x1 - x0, 1):.1f}" '
                   f'height="20" fill="{colours[i % len(colours)]}"><title>{_esc(name)} at '
                   f'{t:.1f} s</title></rect><text x="{x0 + 2:.1f}" y="{32 + 12 * (i % 2)}">'
                   f'{_esc(name)} {t:.1f}s</text>')
    out.append("</g></svg>")
    return "".join(out)


def _link(path: str | None, base: Path | None) -> str:
    if not path:
        return "-"
    target = path
    if base is not None:
        with contextlib.suppress(ValueError):
            target = os.path.relpath(path, base)
    return f'<a href="{html.escape(target)}">{html.escape(path)}</a>'


def section(doc: Result, title: str, base: Path | None) -> str:
    verdict = doc.verdict.label
    xen, linux = doc.xen, doc.linux
    accel = doc.accelerator.accel if doc.accelerator else None
    rows = "".join(
        f"<tr><td><span class='badge {_esc(c.status.label)}'>{_esc(c.status.label)}</span></td>"
        f"<td>{_esc(c.name)}</td><td>{_esc(c.expected)}</td><td>{_esc(c.observed)}</td>"
        f"<td>{_esc(c.message)}</td></tr>" for c in doc.checks)
    return (f'<section class="run"><h2>{_esc(title)} <span class="badge {_esc(verdict)}">'
            f"{_esc(verdict)}</span></h2>"
            f"<p>Xen {_esc(xen.version)} · Linux {_esc(linux.version)} "
            f"(era {_esc(linux.era)}) · dom0_mem={_esc(xen.dom0_mem)} · "
            f"nr_pages {_esc(xen.dom0_nr_pages)} · accel {_esc(accel)} · "
            f"console log {_link(doc.log, base)}</p>"
            f"{memory_map_svg(doc)}{_timeline(doc)}"
            "<table class='checks'><tr><th>status</th><th>check</th><th>expected</th>"
            f"<th>observed</th><th>message</th></tr>{rows}</table></section>")


def page(runs: list[tuple[str, Result]], title: str = "rig report",
         base: Path | None = None) -> str:
    summary = "".join(
        f"<tr><td>{_esc(name)}</td><td><span class='badge {_esc(d.verdict.label)}'>"
        f"{_esc(d.verdict.label)}</span></td><td>{_esc(d.linux.version)}"
        f"</td><td>{_esc(d.linux.remapped_pages)}</td>"
        f"<td>{_esc(d.pv_prediction.remapped_pages if d.pv_prediction else None)}</td></tr>"
        for name, d in runs)
    body = "".join(section(d, name, base) for name, d in runs)
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{_esc(title)}</title>"
            f"<style>{_CSS}</style></head><body><h1>{_esc(title)}</h1>"
            "<table class='summary'><tr><th>run</th><th>verdict</th><th>kernel</th>"
            f"<th>remapped</th><th>predicted</th></tr>{summary}</table>{body}</body></html>\n")


def write_page(runs: list[tuple[str, Result | None]], path: Path, title: str) -> None:
    """The report of ``runs`` (those without a document are left out) into ``path``."""
    docs = [(name, doc) for name, doc in runs if doc is not None]
    path.write_text(page(docs, title, base=path.resolve().parent))
    print(f"report    {path}", file=sys.stderr)
