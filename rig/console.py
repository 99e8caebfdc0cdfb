"""Drive the serial console through the boot stages, with crash and hang detection.

The console is only watched here, to know when to stop: the verdict is parsed from the saved log
afterwards (rig.parse), so a line matched too early or missed here cannot change a result.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Any

import pexpect

from rig.parse import crash
from rig.parse.init import MARKER


class Stage(Enum):
    """Boot stages in order; each is reached when its line appears."""

    FIRMWARE = "firmware"  #: QEMU started, nothing seen yet
    XEN = "xen"  #: Xen's banner
    DOM0_BUILD = "dom0-build"  #: Xen builds dom0
    LINUX = "linux"  #: dom0's kernel prints its version
    INIT = "init"  #: rig's /init runs
    DONE = "done"  #: /init printed everything
    EXIT = "exit"  #: QEMU exited after the guest powered off


STAGE_PATTERNS: tuple[tuple[Stage, bytes], ...] = (
    (Stage.XEN, rb"\(XEN\) Xen version \d"),
    (Stage.DOM0_BUILD, rb"\*\*\* (?:Building a PVH? Dom0|LOADING DOMAIN 0) \*\*\*"),
    (Stage.LINUX, rb"Linux version \d"),
    (Stage.INIT, re.escape(f"{MARKER} stage init".encode())),
    (Stage.DONE, re.escape(f"{MARKER} stage done".encode())),
)

#: seconds allowed to reach each stage from the previous one, under TCG (boot-recipe.md: a
#: whole boot takes 7–17 s; 1 TiB layouts spend ~50 s in Xen before dom0 is built)
TCG_TIMEOUTS: dict[Stage, float] = {
    Stage.XEN: 60,
    Stage.DOM0_BUILD: 240,
    Stage.LINUX: 60,
    Stage.INIT: 240,
    Stage.DONE: 60,
    Stage.EXIT: 30,
}
#: after a fatal line, keep reading this long so the log holds the whole crash report
CRASH_DRAIN_S = 1.0


class Outcome(StrEnum):
    DONE = "done"  #: every stage reached, QEMU exited or was stopped after DONE
    CRASH = "crash"  #: a fatal line (crash table) appeared
    TIMEOUT = "timeout"  #: a stage was not reached in time
    EXITED = "exited"  #: QEMU exited before DONE without a fatal line


@dataclass
class ConsoleResult:
    outcome: Outcome
    stage: Stage  # the last stage reached
    timeline: dict[str, float] = field(default_factory=dict)  # stage → seconds since start
    crash_kind: str | None = None
    crash_text: str | None = None
    waited_for: Stage | None = None
    message: str = ""

    def to_json(self) -> dict[str, object]:
        return {
            "outcome": self.outcome.value,
            "stage": self.stage.value,
            "timeline": dict(self.timeline),
            "crash_kind": self.crash_kind,
            "message": self.message,
        }


def drive(child: Any, timeouts: dict[Stage, float] | None = None) -> ConsoleResult:
    """Follow ``child`` (a pexpect spawn) until the guest is done, crashed, hung or gone."""
    limits = {**TCG_TIMEOUTS, **(timeouts or {})}
    t0 = time.monotonic()
    timeline: dict[str, float] = {Stage.FIRMWARE.value: 0.0}
    fatal = [(kind, re.compile(rx.encode())) for kind, rx in crash.LIVE_FATAL]
    reached = Stage.FIRMWARE
    remaining = list(STAGE_PATTERNS)

    while remaining:
        waiting = remaining[0][0]
        patterns: list[Any] = [re.compile(rx) for _, rx in remaining]
        patterns += [rx for _, rx in fatal]
        patterns += [pexpect.EOF, pexpect.TIMEOUT]
        idx = child.expect(patterns, timeout=limits[waiting])
        now = round(time.monotonic() - t0, 3)
        if idx < len(remaining):
            # a later stage may come first when an earlier banner changed shape: count it all
            for stage, _ in remaining[: idx + 1]:
                timeline.setdefault(stage.value, now)
            reached = remaining[idx][0]
            remaining = remaining[idx + 1:]
            continue
        idx -= len(remaining)
        if idx < len(fatal):
            kind = fatal[idx][0]
            line = _line_of(child)
            _drain(child, CRASH_DRAIN_S)
            return ConsoleResult(Outcome.CRASH, reached, timeline, kind.value, line,
                                 message=f"{kind.value} during stage {waiting.value}: {line}")
        if patterns[len(remaining) + idx] is pexpect.EOF:
            return ConsoleResult(Outcome.EXITED, reached, timeline, waited_for=waiting,
                                 message=f"QEMU exited while waiting for stage {waiting.value}")
        return ConsoleResult(Outcome.TIMEOUT, reached, timeline, waited_for=waiting,
                             message=f"stage {waiting.value} not reached within "
                                     f"{limits[waiting]:.0f} s (last stage: {reached.value})")

    # the guest powers off through Xen; QEMU then exits by itself
    idx = child.expect([pexpect.EOF, pexpect.TIMEOUT], timeout=limits[Stage.EXIT])
    if idx == 0:
        timeline[Stage.EXIT.value] = round(time.monotonic() - t0, 3)
    return ConsoleResult(Outcome.DONE, Stage.DONE, timeline)


def _line_of(child: Any) -> str:
    """The whole line the last match sits in, as far as it has arrived."""
    before = child.before or b""
    after = child.after if isinstance(child.after, bytes) else b""
    head = before.rsplit(b"\n", 1)[-1]
    tail = (child.buffer or b"").split(b"\n", 1)[0]
    return (head + after + tail).decode(errors="replace").strip()


def _drain(child: Any, seconds: float) -> None:
    """Read (and so log) whatever arrives for ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        try:
            child.read_nonblocking(65536, timeout=left)
        except (pexpect.TIMEOUT, pexpect.EOF):
            return
