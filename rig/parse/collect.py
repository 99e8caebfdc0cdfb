"""Feed normalised lines to every parser and collect what they found: one parse of one log.

Pure: the parsers take raw lines and never know whether they come from a live console or a
file. ``parse_lines`` reads any iterable of lines; rig.parse.scan reads files faster, with the
same result.

A log may hold several boots (a serial capture across reboots, a journal of every boot): the
last one is parsed, and the boots before it leave only where they began and their crash lines.
A boot begins at Xen's banner when the log already had one, or at dom0's "Linux version" when
the boot had one already (a log of dom0's kernel alone). The halves of one boot in one file
(``xl dmesg`` then ``dmesg``) hold one banner each, and stay one boot. What a later boot's
GRUB printed before Xen's banner stays with the boot before (rig's own logs hold one boot).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from rig.parse import crash, wrap
from rig.parse.grub import GrubInfo, GrubParser
from rig.parse.hints import HINT
from rig.parse.init import InitInfo, InitParser
from rig.parse.lava import LavaInfo
from rig.parse.lines import Line, Source, has_prefix, split
from rig.parse.linux import VERSION as LINUX_VERSION
from rig.parse.linux import LinuxInfo, LinuxParser
from rig.parse.xen import VERSION as XEN_VERSION
from rig.parse.xen import XenInfo, XenParser

#: continuation lines one message may have (a wrapped command line)
_MAX_JOINS = 4
#: as a module name: an enum member's lookup costs ~0.2 µs, twice for every line fed
_XEN = Source.XEN


@dataclass
class ParsedLog:
    xen: XenInfo
    linux: LinuxInfo
    init: InitInfo
    crashes: list[crash.Hit] = field(default_factory=list)
    lines: int = 0
    #: the last lines seen, for quoting in messages
    tail: list[str] = field(default_factory=list)
    #: known messages that were cut (wrapped) and could not be rejoined: (line, what, text)
    cut: list[tuple[int, str, str]] = field(default_factory=list)
    #: how many cut messages (of the parsed boot) were rejoined with their continuation
    rejoined: int = 0
    grub: GrubInfo = field(default_factory=GrubInfo)
    #: how the file was unpacked before its lines were read (a mail's decoded text parts)
    decoded: str | None = None
    #: LAVA's own results, when the log is a LAVA job's (log.yaml, results.yaml)
    lava: LavaInfo | None = None
    #: where each boot after the log's first begins (its line): the last one is parsed
    boot_starts: list[int] = field(default_factory=list)
    #: the crash lines of the boots before the parsed one
    earlier_crashes: list[crash.Hit] = field(default_factory=list)

    @property
    def fatal(self) -> crash.Hit | None:
        return next((h for h in self.crashes if h.fatal), None)


def xen_banner(line: Line) -> bool:
    """Whether ``line`` is Xen's banner, which begins each of its boots (Linux prints "Xen
    version: " too, on its own lines)."""
    return line.source is _XEN and line.text.startswith("Xen version ") and \
        XEN_VERSION.match(line.text) is not None


#: a line that ends in a number (decimal, or hex holding a digit) may have lost digits
_ENDS_IN_NUMBER = re.compile(r"\b(?=[0-9a-fA-F]*[0-9])[0-9a-fA-F]+$")


class Collector:
    """Feeds normalised lines to every parser; one per parse. A known message that looks cut
    waits for the next raw line, which may be its wrapped continuation (rig.parse.wrap)."""

    def __init__(self) -> None:
        self._boot()
        self.boot_starts: list[int] = []
        self.earlier_crashes: list[crash.Hit] = []
        #: a known message that may go on in the next raw line, and its raw line's length
        self._pending: tuple[Line, wrap.Known, int] | None = None
        self._joins = 0

    def _boot(self) -> None:
        """A boot's parsers, empty."""
        self.xen, self.linux, self.init = XenParser(), LinuxParser(), InitParser()
        self.grub = GrubParser()
        self.crashes: list[crash.Hit] = []
        self.cut: list[tuple[int, str, str]] = []
        self.rejoined = 0

    def _next_boot(self, line: Line) -> None:
        """``line`` begins another boot: the one before leaves its start and crash lines."""
        self.boot_starts.append(line.no)
        self.earlier_crashes.extend(self.crashes)
        self._boot()

    @property
    def in_block(self) -> bool:
        return self.xen.in_map or self.linux.in_map or self._pending is not None

    def feed(self, no: int, raw: str, unterminated: bool = False) -> None:
        """``unterminated``: the file's last line, without its line end: the capture stopped
        inside it, so a number at its end may be cut ("max_pages=26214" of 262144 was seen)."""
        lines = split(no, raw)
        if unterminated and lines and _ENDS_IN_NUMBER.search(lines[-1].text):
            for line in lines:
                self.cut.append((line.no, "the log's last line (no line end)", line.text))
                self._dispatch(line, cut=True)
            return
        if lines and lines[-1].cut:
            for line in lines:
                self.cut.append((line.no, "a number followed by noise", line.text))
                self._dispatch(line, cut=True)
            return
        if self._pending is not None:
            line, known, width = self._pending
            self._pending = None
            joined = None
            if len(lines) == 1 and not lines[0].prefixed and not has_prefix(raw):
                joined = wrap.join(known, line.text, lines[0].text, width)
            if joined is not None:
                self.rejoined += 1
                line = Line(line.no, line.source, joined, line.prefixed)
                # a long line may have been wrapped more than once
                if self._joins < _MAX_JOINS and (known.read(joined) is None or known.open_tail):
                    self._joins += 1
                    self._pending = (line, known, len(raw.rstrip("\r\n")))
                else:
                    self._joins = 0
                    self._dispatch(line)
                return
            self._joins = 0
            if known.read(line.text) is None:
                self.cut.append((line.no, known.name, line.text))
                self._dispatch(line, cut=True)
            else:
                self._dispatch(line)  # complete, and nothing went on
        for line in lines:
            in_map = self.xen.in_map if line.source is _XEN else self.linux.in_map
            starts = wrap.started(line.source, line.text, in_map)
            if starts is not None and line is lines[-1]:
                self._pending = (line, starts, len(raw.rstrip("\r\n")))
                continue
            self._dispatch(line)

    def _dispatch(self, line: Line, cut: bool = False) -> None:
        if line.source is _XEN:
            if self.xen.info.version is not None and xen_banner(line):
                self._next_boot(line)
            self.grub.xen_started = True
            self.xen.feed(line.text, cut)
        else:
            if self.linux.info.version is not None and line.text.startswith("Linux version ") \
                    and LINUX_VERSION.match(line.text):
                self._next_boot(line)
            self.linux.feed(line.text, cut)
            if not cut:  # a cut line's numbers are not read, rig's own lines' neither
                self.init.feed(line.text)
                self.grub.feed(line.text)
        if not cut and crash.KEYS.search(line.text):
            pattern = crash.match(line.source, line.text)
            if pattern is not None:
                fatal = pattern.fatal
                if pattern.kind is crash.Kind.DOM0_HALT:
                    # a halt before dom0's kernel printed anything of its own ended the boot;
                    # after that it is the machine being shut down (rig.parse.hints.EARLIER_BOOT
                    # keeps these lines of the boots before a log's last)
                    li = self.linux.info
                    fatal = not (li.version or li.memory_line or self.init.info.stages)
                self.crashes.append(crash.Hit(pattern.kind, line.no, line.text, fatal))

    def result(self, count: int, tail: list[str]) -> ParsedLog:
        if self._pending is not None:
            self.feed(count + 1, "")  # the log ended: a waiting message stays as it was
        return ParsedLog(self.xen.finish(), self.linux.finish(), self.init.finish(),
                         self.crashes, count, tail, self.cut, self.rejoined, self.grub.finish(),
                         boot_starts=self.boot_starts, earlier_crashes=self.earlier_crashes)


def combine(dom0: ParsedLog, xen: ParsedLog) -> ParsedLog:
    """One boot from two files: dom0's kernel log (dmesg, a journal, a guest console log) and
    Xen's (``xl dmesg``, a serial capture, Qubes' hypervisor.log). Xen's facts come from Xen's
    log; the kernel's, its /init's and GRUB's from dom0's. Line numbers stay per file."""
    return ParsedLog(
        xen=xen.xen if xen.xen.seen else dom0.xen,
        linux=dom0.linux,
        init=dom0.init,
        crashes=dom0.crashes + xen.crashes,
        lines=dom0.lines + xen.lines,
        tail=dom0.tail,
        cut=dom0.cut + xen.cut,
        rejoined=dom0.rejoined + xen.rejoined,
        grub=dom0.grub,
        boot_starts=dom0.boot_starts,
        earlier_crashes=dom0.earlier_crashes + xen.earlier_crashes,
    )


def one_boot(a: ParsedLog, b: ParsedLog) -> tuple[ParsedLog, ParsedLog] | None:
    """When two logs are the two halves of one boot (one has Xen's lines only, the other the
    kernel's only, and the Xen version dom0 printed is Xen's), (dom0's log, Xen's log)."""
    for dom0, xen in ((a, b), (b, a)):
        if not xen.xen.seen or xen.linux.seen or not dom0.linux.seen or dom0.xen.seen:
            continue
        seen_by_dom0, xen_says = dom0.linux.xen_version, xen.xen.version
        if seen_by_dom0 and xen_says and not xen_says.startswith(seen_by_dom0):
            return None
        return dom0, xen
    return None


def tail_of(raw: Iterable[str], n: int) -> list[str]:
    return [ln.text for no, r in enumerate(raw) for ln in split(no, r)][-n:]


def parse_lines(raw_lines: Iterable[str], tail: int = 20) -> ParsedLog:
    """Parse any iterable of raw lines (a live stream, stdin, a list)."""
    c = Collector()
    last: deque[str] = deque(maxlen=tail)
    count = 0
    hint = HINT.search
    # one line behind: the last one, without its line end, may be cut (a list of lines without
    # line ends, as callers build them, is not)
    held: str | None = None
    ended = False
    for count, raw in enumerate(raw_lines, start=1):
        if count == 1:
            raw = raw.removeprefix("\ufeff")  # a byte-order mark an editor wrote
        last.append(raw)
        if held is not None and (hint(held) or c.in_block):
            c.feed(count - 1, held)
        ended = ended or raw.endswith("\n")
        held = raw
    if held is not None and (hint(held) or c.in_block):
        c.feed(count, held, unterminated=ended and not held.endswith("\n"))
    return c.result(count, tail_of(last, tail))


