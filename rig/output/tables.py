"""The tables of many boots: a matrix's cells, and the seed commit's before/after table
(``rig compare``). Pure: results in, text out."""

from __future__ import annotations

from collections.abc import Sequence

from rig.domain.units import mib
from rig.output.cells import CellResult


def _text(value: object) -> str:
    return "-" if value is None else str(value)


def columns(rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows as aligned text: every column but the last padded to its widest value, two blanks
    between columns, no blank at a line's end. The one way rig lines up a table."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return ["  ".join([*(v.ljust(w) for v, w in zip(row, widths, strict=False)),
                       row[-1]]).rstrip() for row in rows]


def matrix_table(results: Sequence[CellResult]) -> str:
    rows = [("cell", "verdict", "remapped", "predicted", "nr_pages", "time", "log")]
    for r in results:
        d = r.doc
        pvh = d is not None and d.xen.dom0_kind == "PVH"  # no remap step: the column says so
        pred = d.pv_prediction if d else None
        rows.append((r.name, r.status.label,
                     "(pvh)" if pvh else str(d.linux.remapped_pages) if d else "-",
                     "(pvh)" if pvh else str(pred.remapped_pages) if pred else "-",
                     str(d.xen.dom0_nr_pages) if d else "-",
                     f"{r.seconds:.1f}s", str((d.log if d else None) or r.folder / "stdout.txt")))
    return "\n".join(columns(rows))


def compare_table(results: Sequence[CellResult], kernels: list[str], variants: list[str]) -> str:
    """Per dom0_mem variant and kernel: nr_pages, Xen's own count, pages in holes, released /
    populated / remapped, MemTotal and the balloon, beside the model's figure for a kernel
    without the fix (era B); the Memory: lines below."""
    by_cell = {(r.settings.get("dom0.kernel", ""), r.settings.get("xen.dom0_mem", "")): r
               for r in results}
    head = ("", "dom0_mem", "kernel", "verdict", "nr_pages", "Xen's count", "holes<nr",
            "released", "populated", "remapped", "MemTotal kB", "balloon kB",
            "without the fix (era B)")
    rows: list[tuple[str, ...]] = [head]
    memory_lines: list[str] = []
    for variant in variants:
        label = f"dom0_mem={variant}" if variant else "no dom0_mem"
        memory_lines.append(label)
        for i, kernel in enumerate(kernels):
            r = by_cell.get((kernel, variant))
            mark = "" if len(kernels) == 1 else ("-" if i == 0 else "+")
            rows.append(_compare_row(r, mark, variant, kernel))
            line = r.doc.linux.memory_line if r and r.doc else None
            memory_lines.append(f"{mark or ' '}{line or '(no Memory: line)'}")
    return "\n".join(columns(rows)) + "\n\n" + "\n".join(memory_lines)


def _compare_row(r: CellResult | None, mark: str, variant: str, kernel: str) -> tuple[str, ...]:
    doc = r.doc if r else None
    if doc is None:
        return (mark, variant or "(none)", kernel, r.status.label if r else "-", "-", "-", "-",
                "-", "-", "-", "-", "-", "-")
    pv, linux = doc.pv_prediction, doc.linux
    nr = doc.xen.dom0_nr_pages
    without = "-"
    remapped = _text(linux.remapped_pages)
    if doc.pvh_prediction is not None:
        # no PV setup code runs: Xen fills the physmap from its own E820 (rig.model.pvh), so
        # there is nothing a kernel could fail to give back; 6.12+ may remap non-RAM
        without = "n/a: PVH (Xen fills the physmap)"
        nonram = linux.remapped_nonram_pages
        remapped = f"{nonram} non-RAM" if nonram is not None else "-"
    elif pv is not None and nr is not None:
        lost = pv.hole_pages
        without = f"loses {lost} pages ({mib(lost)})" if lost else "loses nothing"
    return (mark, variant or "(none)", kernel, r.status.label if r else "-", _text(nr),
            _text(doc.xen.dom0_tot_pages), _text(pv.hole_pages if pv else None),
            _text(linux.released_pages), _text(linux.populated_pages), remapped,
            _text(linux.meminfo_total_kb), _text(linux.balloon_current_kb), without)
