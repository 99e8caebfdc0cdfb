"""``rig regressions``: every public regression of dom0's memory setup rig knows
(rig/regressions/registry.toml), each booted on its layout and judged by the check that
catches it; ``--prove`` boots each on a kernel (or Xen) with the fix and one without, and the
check must PASS on the first and FAIL on the second. Kernels without a fix that no Debian
binary lacks are built from Debian's source with the fix taken out (a patch kept beside the
registry), once: the build is cached."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from rig.errors import INFRASTRUCTURE_EXIT
from rig.judge.check import Status
from rig.judge.registry import (
    CHECKS,
    RegistryError,
    Regression,
    Side,
    registry,
    registry_folder,
    select,
)
from rig.judge.result import Result
from rig.machine import build
from rig.output.cells import Cell, CellResult
from rig.output.tables import columns
from rig.runner.matrix import expect, run_matrix

# the registry itself (decoded, checked) is rig.judge.registry; its names are used here and
# by the CLI and the tests as rig.runner.regressions' own
__all__ = ["CHECKS", "RegistryError", "Regression", "Side", "registry", "registry_folder",
           "select"]


class Outcome(StrEnum):
    CAUGHT = "caught"  # the check did what it must on every side booted
    BACK = "back"  # the fixed side (or the given kernel) fails the check: the bug is back
    MISSED = "missed"  # the broken side passes the check: rig does not catch it
    UNJUDGED = "unjudged"  # the check has no verdict (incomplete, skipped, absent)
    ERROR = "error"  # the machine or rig failed: nothing was tested

    @property
    def exit_code(self) -> int:
        return {Outcome.CAUGHT: 0, Outcome.ERROR: INFRASTRUCTURE_EXIT}.get(self, 1)


@dataclass
class Run:
    """One entry on one side."""

    entry: Regression
    side: str  # fixed | broken | given
    kernel: str | None
    xen: str | None
    result: CellResult | None = None

    def check_status(self) -> Status | None:
        doc = self.result.doc if self.result else None
        if doc is None:
            return None
        return next((c.status for c in doc.checks if c.name == self.entry.check), None)

    def message(self) -> str:
        doc: Result | None = self.result.doc if self.result else None
        if doc is None:
            return "no result document"
        return next((c.message for c in doc.checks if c.name == self.entry.check),
                    f"no {self.entry.check} check in the result")


@dataclass
class Report:
    entry: Regression
    runs: list[Run] = field(default_factory=list)
    cannot: str | None = None  # --prove: why the broken side was not booted

    @property
    def outcome(self) -> Outcome:
        for r in self.runs:
            doc = r.result.doc if r.result else None
            if doc is None or doc.verdict is Status.ERROR:
                return Outcome.ERROR
        for r in self.runs:
            status = r.check_status()
            if r.side == "broken":
                if status is Status.PASS:
                    return Outcome.MISSED
                if status not in (Status.FAIL, Status.CRASH):
                    return Outcome.UNJUDGED
            elif status in (Status.FAIL, Status.CRASH):
                return Outcome.BACK
            elif status is not Status.PASS:
                return Outcome.UNJUDGED
        return Outcome.CAUGHT


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


def listing(entries: list[Regression]) -> str:
    """``rig regressions --list``."""
    lines = []
    for e in entries:
        broken = (e.broken.describe() if not e.broken.cannot
                  else "cannot be had here: " + e.broken.cannot)
        lines += [f"{e.id}  ({e.year}, {e.landed})",
                  f"  fix     {e.fix}",
                  f"  layout  {e.layout.stem}: {e.description}",
                  f"  check   {e.check}",
                  f"  fixed   {e.fixed.describe(adds=e.finding)}",
                  f"  broken  {broken}"]
        if e.notes:
            lines.append(f"  note    {e.notes}")
    return "\n".join(lines)


def table(reports: list[Report]) -> str:
    """One row a boot, then each entry's outcome."""
    rows = [("entry", "side", "kernel / xen", "verdict", "check", "status", "time")]
    for rep in reports:
        for r in rep.runs:
            doc = r.result.doc if r.result else None
            status = r.check_status()
            rows.append((rep.entry.id, r.side, f"{_short(r.kernel)} / {r.xen or '-'}",
                         doc.verdict.label if doc else "error", rep.entry.check,
                         status.label if status else "-",
                         f"{r.result.seconds:.1f}s" if r.result else "-"))
    out = [*columns(rows), ""]
    for rep in reports:
        line = f"{rep.entry.id:<26} {rep.outcome.value:<9} {rep.entry.fix}"
        if rep.cannot:
            line += f"; not proved here: {rep.cannot}"
        out.append(line)
        if rep.outcome is not Outcome.CAUGHT:
            out += [f"    {r.side}: {r.message()}" for r in rep.runs]
    return "\n".join(out)


def junit_case(rep: Report) -> tuple[str, float, str | None, str]:
    """The entry as a JUnit case: a failure unless caught, an error when nothing was tested."""
    seconds = sum(r.result.seconds for r in rep.runs if r.result)
    outcome = rep.outcome
    kind = None if outcome is Outcome.CAUGHT else "error" if outcome is Outcome.ERROR \
        else "failure"
    message = f"{outcome.value}: {rep.entry.fix}; " + "; ".join(
        f"{r.side}: {r.message()}" for r in rep.runs)
    return rep.entry.id, seconds, kind, message


def _short(kernel: str | None) -> str:
    if not kernel:
        return "-"
    return kernel if "/" not in kernel else "built " + Path(kernel).name[:12]


def exit_code(reports: list[Report]) -> int:
    """The command's exit code (not the worst entry's: 1 wins over 125): 1 when any entry
    found its regression back or unjudged, whatever else happened (a bisect must not skip the
    commit that broke); else 125 when a machine failed (git bisect skips); 0 when every entry
    was caught."""
    codes = {rep.outcome.exit_code for rep in reports}
    return 1 if 1 in codes else INFRASTRUCTURE_EXIT if INFRASTRUCTURE_EXIT in codes else 0
