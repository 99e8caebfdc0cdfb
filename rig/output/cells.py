"""What the outputs of many boots need of each cell (rig.runner.matrix.CellResult)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from rig.judge.check import Status
from rig.judge.result import Result


class Cell(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def status(self) -> Status: ...

    @property
    def settings(self) -> dict[str, str]:
        """The cell's scenario settings (``--set`` keys and values)."""
        ...

    @property
    def folder(self) -> Path: ...

    @property
    def seconds(self) -> float: ...

    @property
    def doc(self) -> Result | None: ...
