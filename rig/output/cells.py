"""A matrix's cells: the ``Cell`` the runner plans (its settings, its expected time) and the
``CellResult`` it gives, which the outputs of many boots read (tables, JUnit)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rig.judge.check import Status
from rig.judge.result import Result


@dataclass(frozen=True)
class Cell:
    index: int
    overrides: tuple[tuple[str, str], ...]
    #: a scenario of the cell's own (rig fuzz: a file per cell), else the matrix's
    scenario: str | None = None
    label: str | None = None
    #: seconds this cell is expected to take (recorded before, else rig.model.cost's estimate)
    expected_s: float = 0.0
    #: the cell's key in rig.machine.history (its scenario on its accelerator)
    history_key: str | None = None

    @property
    def name(self) -> str:
        if self.label:
            return self.label
        return " ".join(f"{k}={v or '(unset)'}" for k, v in self.overrides) or "default"

    @property
    def slug(self) -> str:
        safe = "".join(c if c.isalnum() or c in ".-" else "_" for c in self.name)
        return f"{self.index:03d}-{safe}"[:120]


@dataclass
class CellResult:
    cell: Cell
    folder: Path
    exit_code: int
    seconds: float
    doc: Result | None

    @property
    def name(self) -> str:
        return self.cell.name

    @property
    def settings(self) -> dict[str, str]:
        return dict(self.cell.overrides)

    @property
    def status(self) -> Status:
        return Status.ERROR if self.doc is None else self.doc.verdict
