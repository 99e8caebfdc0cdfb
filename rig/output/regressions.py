"""What ``rig regressions`` found, read and told: an entry's boots (``Run``), gathered by entry
(``Report``), each entry's ``Outcome``; ``rig regressions --list``, the text table, a JUnit case
per entry and the command's exit code. Pure: results in, an outcome and text out (the boots
are rig.runner.regressions')."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from rig.errors import INFRASTRUCTURE_EXIT
from rig.judge.check import Status
from rig.judge.registry import Regression
from rig.judge.result import Result
from rig.output.cells import CellResult
from rig.output.tables import columns


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


def regressions_table(reports: list[Report]) -> str:
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
