"""``rig matrix``: the cross product of scenario settings, N VMs at once, one result per cell.

Each cell is a child ``rig run`` process (its own QEMU, its own log and result folder), so a cell
that crashes or hangs cannot disturb the others, and an interrupted matrix stops them all.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from rig.domain import scenario_file
from rig.domain.scenario import Scenario
from rig.errors import UsageError
from rig.judge.check import Status
from rig.judge.records import ScenarioRecord
from rig.judge.result import Result, load
from rig.machine import build, history
from rig.machine.children import die_with_parent
from rig.machine.timeouts import parse_timeouts
from rig.model import cost
from rig.output.cells import Cell, CellResult
from rig.output.paths import check_output, check_output_dir
from rig.progress import MatrixProgress, verbose


def expand(pairs: Sequence[str]) -> list[Cell]:
    """``["a=1", "a=2", "b=x"]`` → cells a=1 b=x, a=2 b=x. A key given again adds a value;
    values may hold commas (``xen.dom0_mem=3G,max:3G``); an empty value means "not set"."""
    values: dict[str, list[str]] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set {pair!r}: expected KEY=VALUE, e.g. dom0.kernel=6.12")
        values.setdefault(key.strip(), []).append(value)
    keys = list(values)
    combos = itertools.product(*(values[k] for k in keys))
    return [Cell(i, tuple(zip(keys, combo, strict=True))) for i, combo in enumerate(combos)]


def shard(cells: list[Cell], spec: str) -> list[Cell]:
    """``"2/3"`` → every third cell from the second on: a fixed split for parallel CI jobs."""
    try:
        index, count = (int(x) for x in spec.split("/"))
    except ValueError:
        raise UsageError(f"--shard {spec!r}: expected I/N, e.g. 1/4") from None
    if not 1 <= index <= count:
        raise UsageError(f"--shard {spec!r}: I must be between 1 and N")
    return [c for c in cells if c.index % count == index - 1]


def expect(s: Scenario, accel: str) -> tuple[float, str]:
    """(expected seconds, history key) of one cell: the time recorded for the same scenario on
    the same accelerator, else rig.model.cost's estimate (``auto`` looks for KVM's time
    first)."""
    recorded = history.load()
    record = ScenarioRecord.of(s)
    keys = [history.key(record, a) for a in (("kvm", "tcg") if accel == "auto" else (accel,))]
    for k in keys:
        if k in recorded:
            return recorded[k], keys[0]
    return cost.scenario_seconds(s), keys[0]


def order(cells: list[Cell]) -> list[Cell]:
    """Longest first: with N at a time, the long cells overlap the short ones instead of
    running alone at the end (the seed matrix: its 8 GiB cell first)."""
    return sorted(cells, key=lambda c: (-c.expected_s, c.index))


def run_matrix(scenario: str, cells: list[Cell], *, jobs: int, results: Path,
               run_args: Sequence[str] = (), progress: MatrixProgress | None = None,
               on_end: Callable[[list[CellResult]], None] | None = None) -> list[CellResult]:
    """Run the cells, at most ``jobs`` at once, longest expected first; returns the results
    in cell order, and records each cell's time (rig.machine.history). ``on_end`` gets the
    results however the matrix ends: interrupted, the cells stopped keep their partial
    results and the ones never started are errors without a document."""
    results.mkdir(parents=True, exist_ok=True)
    scheduler = _Scheduler(scenario, cells, jobs, results, run_args)
    progress = progress or MatrixProgress(len(cells), jobs)
    echo = ConsoleEcho() if verbose() else None
    try:
        with progress:
            scheduler.run(progress, echo)
    finally:
        scheduler.stop()
        done = scheduler.done
        history.record({r.cell.history_key: _seconds(r) for r in done.values()
                        if r.cell.history_key and r.doc and r.exit_code in (0, 1)})
        ended = [done.get(c.index) or CellResult(c, results / c.slug, -1, 0.0, None)
                 for c in cells]
        if on_end is not None:
            on_end(ended)
    return ended


def _seconds(r: CellResult) -> float:
    total = r.doc.timings.total_s if r.doc and r.doc.timings else None
    return float(total) if isinstance(total, int | float) else r.seconds


@dataclass(frozen=True)
class _Child:
    """A cell that runs: its child ``rig run``, its folder, when it started."""

    cell: Cell
    proc: subprocess.Popen[bytes]
    folder: Path
    t0: float

    def result(self) -> CellResult:
        """The cell's result, once its child ended."""
        return CellResult(self.cell, self.folder, self.proc.returncode,
                          round(time.monotonic() - self.t0, 3), _load(self.folder))


class _Scheduler:
    """The cells of one matrix as they run, at most ``jobs`` at once: those waiting (longest
    expected first), those running (each a child ``rig run``), those done (by cell index)."""

    def __init__(self, scenario: str, cells: list[Cell], jobs: int, results: Path,
                 run_args: Sequence[str]) -> None:
        self.scenario, self.jobs, self.results, self.run_args = scenario, jobs, results, run_args
        self.pending = order(cells)
        self.running: dict[int, _Child] = {}
        self.done: dict[int, CellResult] = {}

    def run(self, progress: MatrixProgress, echo: ConsoleEcho | None = None) -> None:
        """Start cells while there is room, and collect the ones that ended, until none is
        left; ``progress`` is told after each look."""
        while self.pending or self.running:
            while self.pending and len(self.running) < max(1, self.jobs):
                cell = self.pending.pop(0)
                self.running[cell.index] = self._start(cell)
            time.sleep(0.2)
            for index, child in list(self.running.items()):
                if echo is not None:
                    echo.follow(child.cell.name, child.folder / "boot" / "console.log",
                                ended=child.proc.poll() is not None)
                if child.proc.poll() is None:
                    continue
                del self.running[index]
                self.done[index] = child.result()
            now = time.monotonic()
            progress.update(len(self.done),
                            sum(r.status.exit_code != 0 for r in self.done.values()),
                            [(c.cell.name, now - c.t0, c.cell.expected_s)
                             for c in self.running.values()],
                            [c.expected_s for c in self.pending])

    def _start(self, cell: Cell) -> _Child:
        """The cell's child ``rig run``, started in the cell's folder."""
        folder = self.results / cell.slug
        folder.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", "rig.cli", "run", cell.scenario or self.scenario,
                *self.run_args,
                "--output", str(folder / "boot"), "--json-out", str(folder / "result.json")]
        for key, value in cell.overrides:
            argv += ["--set", f"{key}={value}"]
        (folder / "command.txt").write_text(" ".join(argv) + "\n")
        with open(folder / "stdout.txt", "wb") as out:
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL,
                                    preexec_fn=die_with_parent)
        return _Child(cell, proc, folder, time.monotonic())

    def stop(self) -> None:
        """Interrupted: each child rig stops its QEMU and keeps its log and a partial result on
        SIGTERM; those results count as the cells'."""
        for child in self.running.values():
            with contextlib.suppress(ProcessLookupError):
                child.proc.send_signal(signal.SIGTERM)
        for index, child in list(self.running.items()):
            try:
                child.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(child.proc.pid, signal.SIGKILL)
                child.proc.wait()
            self.done[index] = child.result()
        self.running.clear()


class ConsoleEcho:
    """``-v``: each running cell's console as it grows, a line at a time, prefixed with the
    cell's name (the cells write their own logs; this reads what they wrote)."""

    def __init__(self) -> None:
        self.read: dict[Path, int] = {}
        self.partial: dict[Path, bytes] = {}

    def follow(self, name: str, log: Path, ended: bool = False) -> None:
        try:
            with open(log, "rb") as f:
                f.seek(self.read.get(log, 0))
                data = f.read(1 << 20)
        except OSError:
            return  # not there yet
        self.read[log] = self.read.get(log, 0) + len(data)
        lines = (self.partial.pop(log, b"") + data).split(b"\n")
        rest = lines.pop()
        if ended and rest:
            lines.append(rest)
        elif rest:
            self.partial[log] = rest
        for line in lines:
            text = line.decode("utf-8", "replace").rstrip("\r")
            with contextlib.suppress(OSError, ValueError):
                print(f"[{name}] {text}", flush=True)


def _load(folder: Path) -> Result | None:
    """The cell's result document; None when the child left none (it died, or never ran)."""
    try:
        return load(folder / "result.json")
    except UsageError:
        return None


def cells_named(results: Sequence[CellResult]) -> list[tuple[str, Result]]:
    """The cells that left a result document, by name (for the reports)."""
    return [(r.name, r.doc) for r in results if r.doc is not None]


def worst(results: list[CellResult]) -> Status:
    """The worst status of the cells (pass when there are none)."""
    return max((r.status for r in results), default=Status.PASS)


@dataclass
class MatrixRequest:
    """What ``rig matrix`` and ``rig compare`` were asked for."""

    scenario: str
    sets: list[str]
    jobs: int = 1
    shard: str | None = None
    junit: Path | None = None
    html: Path | None = None
    results: Path | None = None
    accel: str = "auto"
    offline: bool = False
    timeouts: list[str] = field(default_factory=list)
    quick: bool = False

    def run_args(self) -> list[str]:
        out = ["--accel", self.accel] + (["--quick"] if self.quick else [])
        if self.offline:
            out.append("--offline")
        for t in self.timeouts:
            out += ["--timeout", t]
        return out


def plan(req: MatrixRequest, pairs: Sequence[str] | None = None) -> tuple[list[Cell], str]:
    """The cells, every one of them checked before any boots (a bad value in the fifth cell
    must not cost four boots first: exit 2), and the scenario's name."""
    if req.jobs < 1:
        raise UsageError(f"-j {req.jobs}: run at least 1 cell at a time")
    parse_timeouts(req.timeouts)
    for path, flag in ((req.junit, "--junit"), (req.html, "--html")):
        check_output(path, flag)
    check_output_dir(req.results, "--results")
    name = scenario_file.load(req.scenario).name
    cells = expand(list(req.sets if pairs is None else pairs))
    if req.shard:
        cells = shard(cells, req.shard)
    planned = []
    for cell in cells:
        s = scenario_file.load(req.scenario, dict(cell.overrides))
        build.check("xen", s.xen_version)
        build.check("kernel", s.kernel)
        seconds, key = expect(s, req.accel)
        planned.append(replace(cell, expected_s=seconds, history_key=key))
    return planned, name
