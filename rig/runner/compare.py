"""``rig compare``: the seed commit's before/after table for any layout.

For each dom0_mem variant: nr_pages, Xen's own count of dom0's pages (debug key 'q'), pages in
holes, released / populated / remapped, the ``Memory:`` line, MemTotal and the balloon, next to
the model's figure for a kernel without the fix (era B: what dom0 would have lost). A PVH dom0
has no PV setup to get wrong: its row says so and shows 6.12+'s non-RAM remap instead.
With two kernels, their lines side by side with -/+.
"""

from __future__ import annotations

import sys
from typing import Any

from rig.errors import UsageError
from rig.runner.matrix import CellResult, MatrixRequest, plan, run_matrix, worst

DEFAULT_VARIANTS = ("", "3G", "max:3G")  # the seed's three rows


def _mib(pages: int) -> str:
    return f"{pages * 4096 / 2**20:.1f} MiB"


def _get(doc: dict[str, Any] | None, *path: str) -> Any:
    node: Any = doc or {}
    for p in path:
        node = (node or {}).get(p)
    return "-" if node is None else node


def table(results: list[CellResult], kernels: list[str], variants: list[str]) -> str:
    by_cell = {(dict(r.cell.overrides).get("dom0.kernel", ""),
                dict(r.cell.overrides).get("xen.dom0_mem", "")): r for r in results}
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
            doc = r.doc if r else None
            mark = "" if len(kernels) == 1 else ("-" if i == 0 else "+")
            pred = (doc or {}).get("prediction") or {}
            nr = _get(doc, "xen", "dom0_nr_pages")
            without = "-"
            remapped = str(_get(doc, "linux", "remapped_pages"))
            if pred.get("mode") == "pvh":
                # no PV setup code runs: Xen fills the physmap from its own E820 (rig.pvh), so
                # there is nothing a kernel could fail to give back; 6.12+ may remap non-RAM
                without = "n/a: PVH (Xen fills the physmap)"
                nonram = _get(doc, "linux", "remapped_nonram_pages")
                remapped = f"{nonram} non-RAM" if nonram != "-" else "-"
            elif pred and nr != "-":
                lost = pred.get("hole_pages", 0)
                without = f"loses {lost} pages ({_mib(lost)})" if lost else "loses nothing"
            rows.append((mark, variant or "(none)", kernel, r.status.label if r else "-",
                         str(nr),
                         str(_get(doc, "xen", "dom0_tot_pages")),
                         str(pred.get("hole_pages", "-")),
                         str(_get(doc, "linux", "released_pages")),
                         str(_get(doc, "linux", "populated_pages")),
                         remapped,
                         str(_get(doc, "linux", "meminfo_total_kb")),
                         str(_get(doc, "linux", "balloon_current_kb")), without))
            line = (doc or {}).get("linux", {}).get("memory_line") or "(no Memory: line)"
            memory_lines.append(f"{mark or ' '}{line}")
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    text = "\n".join("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
                     for row in rows)
    return text + "\n\n" + "\n".join(memory_lines)


def main_compare(req: MatrixRequest, kernels: list[str], variants: list[str] | None) -> int:
    """``rig compare``: each dom0_mem variant on each kernel (the scenario's own kernel when
    none is named), with the request's --set values applied to every cell."""
    from rig.output import html
    from rig.domain import scenario
    from rig.runner.run import results_folder

    clash = [p for p in req.sets if p.partition("=")[0].strip() in ("dom0.kernel",
                                                                   "xen.dom0_mem")]
    if clash:
        raise UsageError(f"--set {clash[0]!r}: rig compare sets dom0.kernel and xen.dom0_mem "
                         "itself; use --kernel and --dom0-mem")
    if not kernels:
        kernels = [scenario.load(req.scenario, scenario.overrides_from(req.sets)).kernel]
    variants = list(DEFAULT_VARIANTS) if variants is None else variants
    pairs = list(req.sets) + [f"dom0.kernel={k}" for k in kernels] + \
        [f"xen.dom0_mem={v}" for v in variants]
    cells, name = plan(req, pairs)
    folder = results_folder(req.results, f"compare-{name}")
    print(f"rig: {len(cells)} cell(s), {req.jobs} at a time, results in {folder}",
          file=sys.stderr)
    results = run_matrix(req.scenario, cells, jobs=req.jobs, results=folder,
                         run_args=req.run_args())
    print(table(results, kernels, variants))
    if req.html:
        html.write_page([(r.cell.name, r.doc) for r in results], req.html,
                        f"rig compare {name}")
    return worst(results).exit_code
