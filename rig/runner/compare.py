"""``rig compare``: the seed commit's before/after table for any layout, as matrix cells.

For each dom0_mem variant on each kernel one cell; the table (rig.output.tables) sets nr_pages,
Xen's own count, pages in holes, released / populated / remapped, MemTotal and the balloon
beside the model's figure for a kernel without the fix (era B: what dom0 would have lost). A
PVH dom0 has no PV setup to get wrong: its row says so and shows 6.12+'s non-RAM remap.
"""

from __future__ import annotations

from dataclasses import dataclass

from rig.domain import scenario_file
from rig.errors import UsageError
from rig.output.cells import Cell
from rig.runner.matrix import MatrixRequest, plan

DEFAULT_VARIANTS = ("", "3G", "max:3G")  # the seed's three rows


@dataclass(frozen=True)
class Comparison:
    name: str
    kernels: list[str]
    variants: list[str]
    cells: list[Cell]


def plan_comparison(req: MatrixRequest, kernels: list[str],
                    variants: list[str] | None) -> Comparison:
    """Each dom0_mem variant on each kernel (the scenario's own kernel when none is named),
    with the request's --set values applied to every cell; every cell checked first."""
    clash = [p for p in req.sets if p.partition("=")[0].strip() in ("dom0.kernel",
                                                                   "xen.dom0_mem")]
    if clash:
        raise UsageError(f"--set {clash[0]!r}: rig compare sets dom0.kernel and xen.dom0_mem "
                         "itself; use --kernel and --dom0-mem")
    if not kernels:
        kernels = [scenario_file.load(req.scenario,
                                      scenario_file.overrides_from(req.sets)).kernel]
    variants = list(DEFAULT_VARIANTS) if variants is None else variants
    pairs = list(req.sets) + [f"dom0.kernel={k}" for k in kernels] + \
        [f"xen.dom0_mem={v}" for v in variants]
    cells, name = plan(req, pairs)
    return Comparison(name, kernels, variants, cells)
