"""Drive the serial console through the boot stages, with crash and hang detection.

The console is only watched here, to know when to stop: the verdict is parsed from the saved log
afterwards (rig.parse), so a line matched too early or missed here cannot change a result.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

import pexpect

from rig.judge.records import ConsoleOutcome, ConsoleRecord
from rig.machine.timeouts import WAITED_FOR, Limits, Stage, silence_for, timeouts_for
from rig.parse import crash
from rig.parse.stages import MARKERS

#: each stage's line on the raw console, from the parsers' own messages (rig.parse.stages)
STAGE_PATTERNS: tuple[tuple[Stage, bytes], ...] = tuple((Stage(m.stage), m.live) for m in MARKERS)
# the stages a run waits for, as rig.machine.timeouts names them before this module is imported
assert (*(s for s, _ in STAGE_PATTERNS), Stage.XEN_QUERY) == WAITED_FOR, "stages differ"

#: after a fatal line, keep reading this long so the log holds the whole crash report
CRASH_DRAIN_S = 1.0
#: lines quoted in a failure message
QUOTE_LINES = 5
#: three CTRL-a switch the serial input to Xen (xen/drivers/char/console.c, ``conswitch``);
#: Xen 4.12+ says "*** Serial input to Xen", older ones "*** Serial input -> Xen"
XEN_INPUT = b"\x01\x01\x01"
_XEN_INPUT_ACK = rb"\*\*\* Serial input (?:to|->) Xen"
_DOM0_INPUT_ACK = rb"\*\*\* Serial input (?:to|->) DOM0"
#: keys sent at most to get the dump: the switch and 'q', each sent again up to twice
QUERY_SENDS = 6
#: debug key 'q' dumps every domain; dom0's page counts follow its header. Up to the line's end:
#: matched on "max_pages=\d+" alone, rig once stopped QEMU after "max_pages=26214" of 262144
_Q_DUMP = rb"General information for domain 0:[^\n]*\n(?:[^\n]*\n){0,3}?[^\n]*max_pages=\d+[^\n]*\n"


@dataclass
class ConsoleResult:
    outcome: ConsoleOutcome
    stage: Stage  # the last stage reached
    timeline: dict[str, float] = field(default_factory=dict)  # stage → s since QEMU started
    crash_kind: str | None = None
    waited_for: Stage | None = None
    message: str = ""

    def record(self) -> ConsoleRecord:
        return ConsoleRecord(outcome=self.outcome, stage=self.stage.value,
                             timeline=dict(self.timeline), crash_kind=self.crash_kind,
                             message=self.message)


@dataclass(frozen=True)
class StopAt:
    """Where a boot is done before /init (quick mode): after ``stage``, whose line is
    ``line`` when not the stage's own marker (Stage.SETUP: rig.parse.stages.QUICK_END, the
    kernel's last remap line rather than mem_init's Memory:)."""

    stage: Stage
    line: bytes | None = None


class _Counter:
    """Wraps the log file to count the bytes that arrive (for the silence watchdog)."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.count = inner, 0

    def write(self, data: bytes) -> int:
        self.count += len(data)
        return int(self.inner.write(data))

    def flush(self) -> None:
        self.inner.flush()


def drive(child: Any, limits: Limits | None = None, *, wait_exit: bool = False,
          query_xen: bool = True, started_at: float | None = None,
          stop_at: StopAt | None = None) -> ConsoleResult:
    """Follow ``child`` (a pexpect spawn) until the guest is done, crashed, hung or gone.

    ``limits`` bound each stage, and the time without any output at all, whatever the stage
    (default: TCG's). Once /init is done, ``query_xen`` asks Xen for its own count of dom0's
    pages (debug key 'q'; /init waits for it). The verdict is then in the log, so by default
    rig stops there instead of waiting for the guest's power-off (``wait_exit``). Silence is
    counted from ``started_at`` (when QEMU started) until the first output: a QEMU that froze
    before rig got here is a silence like any other.
    ``stop_at``: the stage after which the boot is done, and its line (quick mode: Stage.SETUP,
    Linux's memory setup over; Xen is asked for its count then)."""
    watch = _Watch(child, limits or Limits(timeouts_for("tcg"), silence_for("tcg")),
                   started_at, stop_at)
    try:
        ended = watch.stages()
        if ended is not None:
            return ended
        if query_xen:
            answered = _query_xen(child, watch.limits[Stage.XEN_QUERY], watch.t0)
            if answered is not None:
                watch.timeline[Stage.XEN_QUERY.value] = answered
        if wait_exit:  # the guest powers off through Xen; QEMU then exits by itself
            idx = child.expect([pexpect.EOF, pexpect.TIMEOUT], timeout=watch.limits[Stage.EXIT])
            if idx == 0:
                watch.timeline[Stage.EXIT.value] = round(time.monotonic() - watch.t0, 3)
        return ConsoleResult(ConsoleOutcome.DONE, watch.reached, watch.timeline)
    finally:
        child.logfile_read = watch.counter.inner


class _Watch:
    """One boot followed through its stages: what was reached when, and how it ended."""

    def __init__(self, child: Any, limits: Limits, started_at: float | None,
                 stop_at: StopAt | None = None) -> None:
        self.child, self.limits, self.quiet = child, limits.stages, limits.silence
        self.counter = _Counter(child.logfile_read)
        child.logfile_read = self.counter
        #: the timeline counts from QEMU's start, as its readers are told, not from this
        #: watch's, which begins after QMP's queries (~0.1 s later)
        self.t0 = started_at if started_at is not None else time.monotonic()
        #: when output last arrived (or QEMU started)
        self.last_seen = self.t0
        self._last_count = 0
        self.timeline: dict[str, float] = {Stage.FIRMWARE.value: 0.0}
        self.fatal = [(kind, re.compile(rx.encode())) for kind, rx in crash.LIVE_FATAL]
        self.reached = Stage.FIRMWARE
        self.remaining = list(STAGE_PATTERNS)
        if stop_at is not None:
            last = [s for s, _ in STAGE_PATTERNS].index(stop_at.stage)
            self.remaining = [(s, stop_at.line if s is stop_at.stage and stop_at.line else rx)
                              for s, rx in STAGE_PATTERNS[:last + 1]]

    def stages(self) -> ConsoleResult | None:
        """Every stage in turn; the result when the boot ended before the last one."""
        while self.remaining:
            waiting = self.remaining[0][0]
            patterns: list[Any] = [re.compile(rx) for _, rx in self.remaining]
            patterns += [rx for _, rx in self.fatal]
            patterns += [pexpect.EOF, pexpect.TIMEOUT]
            found = self._expect(waiting, patterns)
            if isinstance(found, ConsoleResult):
                return found
            now = round(time.monotonic() - self.t0, 3)
            if found < len(self.remaining):
                # a later stage may come first when an earlier banner changed shape
                for stage, _ in self.remaining[: found + 1]:
                    self.timeline.setdefault(stage.value, now)
                self.reached = self.remaining[found][0]
                self.remaining = self.remaining[found + 1:]
                continue
            return self._ended(waiting, found - len(self.remaining), now)
        return None

    def _expect(self, waiting: Stage, patterns: list[Any]) -> int | ConsoleResult:
        """The index of the pattern that came, or the result of a timeout or a silence."""
        child = self.child
        deadline = time.monotonic() + self.limits[waiting]
        while True:
            left = deadline - time.monotonic()
            step = max(0.05, min(left, self.quiet - (time.monotonic() - self.last_seen)))
            idx = int(child.expect(patterns, timeout=step))
            if self.counter.count != self._last_count:
                self.last_seen, self._last_count = time.monotonic(), self.counter.count
            if patterns[idx] is not pexpect.TIMEOUT:
                return idx
            if time.monotonic() >= deadline:
                return ConsoleResult(
                    ConsoleOutcome.TIMEOUT, self.reached, self.timeline, waited_for=waiting,
                    message=f"stage {waiting.value} not reached within "
                            f"{self.limits[waiting]:.0f} s (last stage: {self.reached.value})"
                            + _quote(child))
            if time.monotonic() - self.last_seen >= self.quiet:
                return ConsoleResult(
                    ConsoleOutcome.SILENT, self.reached, self.timeline, waited_for=waiting,
                    message=f"no output for {self.quiet:.0f} s while waiting for stage "
                            f"{waiting.value} (last stage: {self.reached.value})"
                            + _quote(child))

    def _ended(self, waiting: Stage, idx: int, now: float) -> ConsoleResult:
        """A fatal line (``idx`` into the crash table) or QEMU's end came before the stage."""
        child = self.child
        if idx < len(self.fatal):
            kind = self.fatal[idx][0]
            self.timeline["crash"] = now
            line = _line_of(child)
            _drain(child, CRASH_DRAIN_S)
            return ConsoleResult(ConsoleOutcome.CRASH, self.reached, self.timeline, kind.value,
                                 message=f"{kind.value} during stage {waiting.value}: {line}")
        return ConsoleResult(ConsoleOutcome.EXITED, self.reached, self.timeline, waited_for=waiting,
                             message=f"QEMU exited while waiting for stage {waiting.value}"
                                     + _quote(child))


def _query_xen(child: Any, limit: float, t0: float) -> float | None:
    """Switch the serial input to Xen and press 'q'; the dump lands in the log, where the
    parsers find it. Each key waits ``limit`` for Xen's answer and is sent again without one
    (one CI boot's three CTRL-a got no answer in 9 s, where 0.16 s is the slowest seen); the
    input switching back to dom0 (an earlier switch was only late, and the next one toggled
    it back) sends the switch again. At most ``QUERY_SENDS`` keys: a Xen that never answers
    leaves the log without the dump (the judge says so). Returns when the dump came (seconds
    since ``t0``); None without it."""
    to_xen = False
    try:
        for _ in range(QUERY_SENDS):
            child.send(b"q" if to_xen else XEN_INPUT)
            idx = child.expect([_Q_DUMP, _XEN_INPUT_ACK, _DOM0_INPUT_ACK, pexpect.EOF,
                                pexpect.TIMEOUT], timeout=limit)
            if idx == 0:
                return round(time.monotonic() - t0, 3)
            if idx == 3:
                return None
            if idx in (1, 2):
                to_xen = idx == 1
    except OSError:
        return None  # QEMU went away meanwhile
    return None


def _quote(child: Any) -> str:
    """The last lines the console showed, for a failure message."""
    text = (child.before or b"") if isinstance(child.before, bytes) else b""
    text += child.buffer or b""
    lines = [ln.strip() for ln in text.decode(errors="replace").splitlines() if ln.strip()]
    if not lines:
        return ""
    return "; last lines: " + " | ".join(lines[-QUOTE_LINES:])


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
