"""``rig regressions``: every public regression of dom0's memory setup rig knows
(rig/regressions/registry.toml), each booted on its layout and judged by the check that
catches it; ``--prove`` boots each on a kernel (or Xen) with the fix and one without, and the
check must PASS on the first and FAIL on the second. Kernels without a fix that no Debian
binary lacks are built from Debian's source with the fix taken out (a patch kept beside the
registry), once: the build is cached. What the boots found, and how it is told (the table,
JUnit, the exit code), is rig.output.regressions'."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rig.judge.registry import registry, registry_folder, select
from rig.machine import build
from rig.output.cells import Cell
from rig.output.regressions import Report, Run
from rig.runner.matrix import expect, run_matrix


@dataclass
class Request:
    only: str | None = None
    prove: bool = False
    kernel: str | None = None
    xen: str | None = None
    jobs: int = 1
    results: Path | None = None
    accel: str = "auto"
    offline: bool = False
    quick: bool = False


def plan(req: Request) -> list[Run]:
    """The boots: each entry on its fixed side (or on the kernel and Xen given), and with
    ``prove`` on its broken side too, when it can be had here."""
    entries = select(registry(), req.only)
    runs = []
    for e in entries:
        if req.kernel or req.xen:
            runs.append(Run(e, "given", req.kernel or e.fixed.kernel, req.xen or e.fixed.xen))
            continue
        runs.append(Run(e, "fixed", e.fixed.kernel, e.fixed.xen))
        if req.prove and not e.broken.cannot:
            runs.append(Run(e, "broken", e.broken.kernel, e.broken.xen))
    return runs


def build_kernels(runs: list[Run], req: Request) -> None:
    """Build the kernels from Debian's source with their patch, the fix taken out (or, for
    rig's findings, put in), once: cached by the tree's state and the patch; point the runs at
    them."""
    for r in runs:
        # a given Xen alone boots the fixed side's kernel, built as it is when it has to be
        side = {"broken": r.entry.broken, "fixed": r.entry.fixed,
                "given": r.entry.fixed if r.kernel is None else None}.get(r.side)
        if side is None or not side.source:
            continue
        source = build.debian_source(side.source, offline=req.offline)
        folder = registry_folder()
        built = build.build(source, build.BuildRecipe(
            patches=tuple(folder / p for p in side.patches),
            extra_config=(folder / side.config,) if side.config else ()))
        r.kernel = str(built.bzimage)


def boot(runs: list[Run], req: Request, out: Path) -> list[Report]:
    """Boot every run (``jobs`` at once) and gather them by entry."""
    from rig.domain import scenario_file

    # entries that share a layout and software share a boot
    keys = [(str(r.entry.layout), r.kernel, r.xen) for r in runs]
    unique = list(dict.fromkeys(keys))
    cells = []
    for i, (layout, kernel, xen) in enumerate(unique):
        overrides = tuple((k, v) for k, v in (("dom0.kernel", kernel), ("xen.version", xen))
                          if v)
        s = scenario_file.load(layout, dict(overrides))
        seconds, key = expect(s, req.accel)
        names = [f"{r.entry.id} {r.side}" for r, k in zip(runs, keys, strict=True)
                 if k == (layout, kernel, xen)]
        cells.append(Cell(i, overrides, scenario=layout, label=", ".join(names),
                          expected_s=seconds, history_key=key))
    args = (["--accel", req.accel] + (["--offline"] if req.offline else [])
            + (["--quick"] if req.quick else []))
    results = run_matrix("", cells, jobs=req.jobs, results=out, run_args=args)
    for r, k in zip(runs, keys, strict=True):
        r.result = results[unique.index(k)]
    reports: dict[str, Report] = {}
    for r in runs:
        reports.setdefault(r.entry.id, Report(r.entry)).runs.append(r)
    for rep in reports.values():
        if req.prove and rep.entry.broken.cannot:
            rep.cannot = rep.entry.broken.cannot
    return list(reports.values())


def regressions(req: Request, out: Path) -> list[Report]:
    """Plan, build what the proof needs, boot, report."""
    runs = plan(req)
    build_kernels(runs, req)
    return boot(runs, req, out)
