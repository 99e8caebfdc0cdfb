"""Progress: live lines for a person at a terminal; off a terminal (a CI job's log), a line
when a long step starts and a heartbeat at least every HEARTBEAT_S while it runs, so a job is
never silent for a whole fetch, build or boot. ``-q`` silences both; ``-v`` streams the
serial console (rig.runner: the run's, a matrix's cells' prefixed with the cell)."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Iterator
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # rich is imported when a matrix shows its progress: 41 ms of every start
    from rich.console import Console
    from rich.live import Live
    from rich.text import Text


#: what the user asked to see: "quiet" (-q, the verdict alone), "normal", "verbose" (-v)
LEVEL = "normal"
#: off a terminal, the longest a long step goes without a line
HEARTBEAT_S = 30.0


def set_level(verbose: bool = False, quiet: bool = False) -> None:
    global LEVEL
    LEVEL = "quiet" if quiet else "verbose" if verbose else "normal"


def verbose() -> bool:
    return LEVEL == "verbose"


def say(message: str) -> None:
    """A live progress line on a terminal."""
    if sys.stderr.isatty() and LEVEL != "quiet":
        print(f"rig: {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def step(what: str, every: float | None = None) -> Iterator[None]:
    """A long step (a fetch, a build, a boot): said when it starts; off a terminal, said
    again every ``every`` seconds (HEARTBEAT_S) until it ends."""
    if LEVEL == "quiet":
        yield
        return
    print(f"rig: {what}", file=sys.stderr, flush=True)
    if sys.stderr.isatty():
        yield
        return
    stop = threading.Event()
    t0 = time.monotonic()

    def beat() -> None:
        while not stop.wait(every or HEARTBEAT_S):
            with contextlib.suppress(OSError, ValueError):
                print(f"rig: still {what} ({time.monotonic() - t0:.0f} s)", file=sys.stderr,
                      flush=True)

    beater = threading.Thread(target=beat, name="rig-heartbeat", daemon=True)
    beater.start()
    try:
        yield
    finally:
        stop.set()
        beater.join(timeout=1)


def _duration(seconds: float) -> str:
    whole = max(0, round(seconds))
    return f"{whole // 60}m{whole % 60:02d}s" if whole >= 60 else f"{whole}s"


class MatrixProgress:
    """A matrix's cells on a terminal, redrawn in place (rich): done, running, left, failures
    so far, and an ETA from each cell's expected time (rig.machine.history, else
    rig.model.cost). Does nothing when stderr is not a terminal, unless a console is given
    (tests)."""

    def __init__(self, total: int, jobs: int, console: Console | None = None) -> None:
        from rich.console import Console

        self.total, self.jobs = total, jobs
        self.console = console or (Console(stderr=True) if sys.stderr.isatty() else None)
        self._live: Live | None = None
        self._t0 = time.monotonic()

    def __enter__(self) -> MatrixProgress:
        if self.console is not None:
            from rich.live import Live
            from rich.text import Text

            self._live = Live(Text(""), console=self.console, refresh_per_second=4,
                              transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._live is not None:
            self._live.__exit__(kind, exc, tb)
            self._live = None

    def render(self, done: int, failed: int, running: list[tuple[str, float, float]],
               left: list[float]) -> Text:
        """``running``: (cell, seconds so far, expected seconds); ``left``: expected seconds of
        the cells not started."""
        from rich.text import Text

        remaining = sum(left) + sum(max(0.0, exp - sofar) for _, sofar, exp in running)
        eta = remaining / max(1, self.jobs)
        head = (f"rig matrix: {done}/{self.total} done, {len(running)} running, {len(left)} "
                f"left, {failed} failed, {_duration(time.monotonic() - self._t0)} elapsed, "
                f"ETA {_duration(eta)}")
        text = Text(head, style="bold red" if failed else "bold")
        for name, sofar, exp in running:
            text.append(f"\n  running {name} ({_duration(sofar)} of ~{_duration(exp)})")
        return text

    def update(self, done: int, failed: int, running: list[tuple[str, float, float]],
               left: list[float]) -> None:
        if self._live is not None:
            self._live.update(self.render(done, failed, running, left))


__all__ = ["MatrixProgress", "say", "set_level", "step", "verbose"]
