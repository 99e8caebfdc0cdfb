"""Line-stream parsers for Xen's and Linux's console output and rig's own /init.

Pure: they take an iterable of raw lines and never know whether it comes from a live console or
a file. ``parse_lines`` is the one entry point that ``rig parse`` and ``rig run`` share.
"""

from __future__ import annotations

import io
import itertools
import mmap
import multiprocessing
import os
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rig.parse import crash, lava, mail, wrap
from rig.parse.grub import GrubInfo, GrubParser
from rig.parse.init import InitInfo, InitParser
from rig.parse.lines import Line, Source, has_prefix, split
from rig.parse.linux import LinuxInfo, LinuxParser
from rig.parse.xen import XenInfo, XenParser

__all__ = ["ParsedLog", "combine", "one_boot", "parse_file", "parse_lines"]

# cheap pre-filter before the crash table's regexes
_CRASH_HINT = re.compile(r"Panic|crashed|panic|Oops|BUG|WARNING|halted|conflict|E820 entry")
# Every line that starts something a parser or the crash table uses holds one of these; lines
# inside an E820 block need none (the parsers ask for them while the block is open).
_HINTS = (
    "RAM map", "Xen version [0-9]", "Command line", "System RAM", "Dom0 al", "Dom0 crashed",
    "Domain 0 ", "Dom0 memory map", r"Init\. r", r"\*\*\*", "General info", "_pages=",
    r"\(total: ", "RIG:", "BIOS-", "Linux version", "ARRANGEMENT", "Phys-Mach", "Dom0 kernel",
    "pressed -> ", "Dom0 halted", "conflicts with E820", "E820 map conflict",
    "E820 entry remapping", "Xen version: ", "xen_release_chunk", "Freeing  ?[0-9a-f]+-",
    "Populating", "Released", "unused memory", "Remapped", "-1 mapping", "Unable to find",
    "Memory:", "Panic", "Kernel panic", "Oops", "BUG", "WARNING", "base_addr = ", "error: ",
)
_HINT = re.compile("|".join(_HINTS))
# A file is scanned for the hints in two ways. The regex takes those that start with a capital
# or punctuation: the engine skips fast over characters that cannot start a match. A hint that
# starts with a lowercase letter or "_" would make it try at nearly every character (0.69 s vs
# 0.37 s per 20 MB, measured), so those, plain text all, are found with bytes.find, which runs
# at memory speed (~0.01 s per 20 MB each).
_LOWER_LED = tuple(h for h in _HINTS if h[0].islower() or h[0] == "_")
assert not any(c in h for h in _LOWER_LED for c in ".^$*+?{}[]\\|()"), "plain text only"
_HINT_BYTES = re.compile("|".join(h for h in _HINTS if h not in _LOWER_LED).encode())
_HINT_LITERALS = tuple(h.encode() for h in _LOWER_LED)
#: continuation lines one message may have (a wrapped command line)
_MAX_JOINS = 4
#: files from this size on are scanned by several processes
_PARALLEL_MIN = 32 << 20
_WORKERS = 4
_SLICE = 1 << 24


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
    #: how many cut messages were rejoined with their continuation
    rejoined: int = 0
    grub: GrubInfo = field(default_factory=GrubInfo)
    #: how the file was unpacked before its lines were read (a mail's decoded text parts)
    decoded: str | None = None
    #: LAVA's own results, when the log is a LAVA job's (log.yaml, results.yaml)
    lava: lava.LavaInfo | None = None

    @property
    def fatal(self) -> crash.Hit | None:
        return next((h for h in self.crashes if h.fatal), None)


#: a line that ends in a number (decimal, or hex holding a digit) may have lost digits
_ENDS_IN_NUMBER = re.compile(r"\b(?=[0-9a-fA-F]*[0-9])[0-9a-fA-F]+$")


class _Collector:
    """Feeds normalised lines to every parser; one per parse. A known message that looks cut
    waits for the next raw line, which may be its wrapped continuation (rig.parse.wrap)."""

    def __init__(self) -> None:
        self.xen, self.linux, self.init = XenParser(), LinuxParser(), InitParser()
        self.grub = GrubParser()
        self.crashes: list[crash.Hit] = []
        self.cut: list[tuple[int, str, str]] = []
        self.rejoined = 0
        #: a known message that may go on in the next raw line, and its raw line's length
        self._pending: tuple[Line, wrap.Known, int] | None = None
        self._joins = 0

    @property
    def in_block(self) -> bool:
        return self.xen.in_map or self.linux.in_map or self._pending is not None

    def feed(self, no: int, raw: str, unterminated: bool = False) -> None:
        """``unterminated``: the file's last line, without its line end: the capture stopped
        inside it, so a number at its end may be cut ("max_pages=26214" of 262144 was seen)."""
        lines = list(split(no, raw))
        if unterminated and lines and _ENDS_IN_NUMBER.search(lines[-1].text):
            for line in lines:
                self.cut.append((line.no, "the log's last line (no line end)", line.text))
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
            in_map = self.xen.in_map if line.source is Source.XEN else self.linux.in_map
            starts = wrap.started(line.source, line.text, in_map)
            if starts is not None and line is lines[-1]:
                self._pending = (line, starts, len(raw.rstrip("\r\n")))
                continue
            self._dispatch(line)

    def _dispatch(self, line: Line, cut: bool = False) -> None:
        if line.source is Source.XEN:
            self.grub.xen_started = True
            self.xen.feed(line.text, cut)
        else:
            self.linux.feed(line.text, cut)
            self.init.feed(line.text)
            self.grub.feed(line.text)
        if not cut and _CRASH_HINT.search(line.text):
            pattern = crash.match(line.source, line.text)
            if pattern is not None:
                fatal = pattern.fatal
                if pattern.kind is crash.Kind.DOM0_HALT:
                    # a halt before dom0's kernel printed anything of its own ended the boot;
                    # after that it is the machine being shut down
                    li = self.linux.info
                    fatal = not (li.version or li.memory_line or self.init.info.stages)
                self.crashes.append(crash.Hit(pattern.kind, line.no, line.text, fatal))

    def result(self, count: int, tail: list[str]) -> ParsedLog:
        if self._pending is not None:
            self.feed(count + 1, "")  # the log ended: a waiting message stays as it was
        return ParsedLog(self.xen.finish(), self.linux.finish(), self.init.finish(),
                         self.crashes, count, tail, self.cut, self.rejoined, self.grub.finish())


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


def _tail(raw: Iterable[str], n: int) -> list[str]:
    return [ln.text for no, r in enumerate(raw) for ln in split(no, r)][-n:]


def parse_lines(raw_lines: Iterable[str], tail: int = 20) -> ParsedLog:
    """Parse any iterable of raw lines (a live stream, stdin, a list)."""
    c = _Collector()
    last: deque[str] = deque(maxlen=tail)
    count = 0
    hint = _HINT.search
    # one line behind: the last one, without its line end, may be cut (a list of lines without
    # line ends, as callers build them, is not)
    held: str | None = None
    ended = False
    for count, raw in enumerate(raw_lines, start=1):
        last.append(raw)
        if held is not None and (hint(held) or c.in_block):
            c.feed(count - 1, held)
        ended = ended or raw.endswith("\n")
        held = raw
    if held is not None and (hint(held) or c.in_block):
        c.feed(count, held, unterminated=ended and not held.endswith("\n"))
    return c.result(count, _tail(last, tail))


def parse_file(path: Path, tail: int = 20) -> ParsedLog:
    """Parse a file: the same result as ``parse_lines`` over its lines, found faster. The regex
    scan for hints (the costly part) runs over the mapped file in parallel slices; the parsers
    then see, in order, only the hinted lines and the E820 blocks they open."""
    c = _Collector()
    size = path.stat().st_size
    if size == 0:
        return c.result(0, [])
    with open(path, "rb") as f:
        head = f.read(65536)
    if lava.looks_like_log(head):
        console, info = lava.read_log(path.read_text(encoding="utf-8", errors="replace"))
        log = parse_lines(console, tail)
        log.decoded, log.lava = "a LAVA job log: its target (console) lines", info
        return log
    if size <= lava.MAX_RESULTS and lava.looks_like_results(head) and \
            (results := lava.read_results(path.read_text(errors="replace"))) is not None:
        log = c.result(0, [])
        log.decoded, log.lava = "LAVA's results of a job (no console lines)", results
        return log
    if size <= mail.MAX_MAIL and mail.looks_like_mail(head) and \
            (text := mail.decode(path.read_bytes())) is not None:
        log = parse_lines(io.StringIO(text, newline="\n"), tail)
        log.decoded = "a mail: its text/plain parts, transfer-decoded"
        return log
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        offsets = _hinted_lines(path, mm, size)
        pos = 0  # everything before pos has been fed or skipped
        counted_to = count = 0  # newlines in mm[:counted_to]

        def feed_from(start: int) -> int:
            nonlocal counted_to, count
            count += _count_newlines(mm, counted_to, start)
            counted_to = start
            end = mm.find(b"\n", start)
            end = size if end < 0 else end + 1
            c.feed(count + 1, mm[start:end].decode("utf-8", "replace"),
                   unterminated=end == size and mm[size - 1:size] != b"\n" and start > 0)
            return end

        for start in offsets:
            if start < pos:
                continue
            pos = feed_from(start)
            while c.in_block and pos < size:
                pos = feed_from(pos)
        lines = count + _count_newlines(mm, counted_to, size)
        if mm[size - 1:size] != b"\n":
            lines += 1  # a last line without its newline
        end_text = mm[max(0, size - 65536):].decode("utf-8", "replace").split("\n")
    if end_text and end_text[-1] == "":
        end_text.pop()
    return c.result(lines, _tail(end_text[-tail:], tail))


def _count_newlines(mm: mmap.mmap, start: int, end: int) -> int:
    count = 0
    while start < end:  # in slices, so that a long stretch never copies much at once
        stop = min(end, start + _SLICE)
        count += mm[start:stop].count(b"\n")
        start = stop
    return count


def _hinted_lines(path: Path, mm: mmap.mmap, size: int) -> list[int]:
    """Start offsets of the lines holding a hint, in order; large files in parallel slices."""
    workers = min(os.cpu_count() or 1, _WORKERS)
    if size < _PARALLEL_MIN or workers < 2:
        return _scan_range(mm, 0, size)
    cuts = [0]
    for i in range(1, workers):
        nl = mm.find(b"\n", size * i // workers)
        cuts.append(size if nl < 0 else nl + 1)
    cuts.append(size)
    ranges = [(a, b) for a, b in itertools.pairwise(cuts) if b > a]
    # spawn, not fork: forking a process that may hold threads (pytest, a caller) can deadlock
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(len(ranges)) as pool:
        parts = pool.starmap(_scan_file_range, [(str(path), a, b) for a, b in ranges])
    return [off for part in parts for off in part]


def _scan_file_range(path: str, start: int, end: int) -> list[int]:
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        return _scan_range(mm, start, end)


def _scan_range(mm: mmap.mmap, start: int, end: int) -> list[int]:
    """Start offsets of the lines in [start, end) that hold a hint, in order."""
    found = [m.start() for m in _HINT_BYTES.finditer(mm, start, end)]
    for literal in _HINT_LITERALS:
        at = mm.find(literal, start, end)
        while at >= 0:
            found.append(at)
            at = mm.find(literal, at + 1, end)
    if len(found) > 1:
        found.sort()
    out: list[int] = []
    last = -1
    for at in found:
        nl = mm.rfind(b"\n", start, at)
        line = nl + 1 if nl >= 0 else start
        if line != last:
            out.append(line)
            last = line
    return out
