"""Line-stream parsers for Xen's and Linux's console output and rig's own /init.

Pure: they take an iterable of raw lines and never know whether it comes from a live console or
a file. ``parse_lines`` is the one entry point that ``rig parse`` and ``rig run`` share.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rig.parse import crash
from rig.parse.init import InitInfo, InitParser
from rig.parse.lines import Source, split
from rig.parse.linux import LinuxInfo, LinuxParser
from rig.parse.xen import XenInfo, XenParser

__all__ = ["ParsedLog", "parse_file", "parse_lines"]

# cheap pre-filter before the crash table's regexes
_CRASH_HINT = re.compile(r"Panic|crashed|panic|Oops|BUG|WARNING")
# Every line that starts something a parser or the crash table uses holds one of these; lines
# inside an E820 block need none (the parsers ask for them while the block is open). Mostly
# capitals and punctuation first: the regex engine skips fast over characters that cannot
# start a match, which keeps `rig parse` far above 50 MB/s.
_HINT_TEXT = (
    r"RAM map|Xen version [0-9]|Command line|System RAM|Dom0 al|Dom0 crashed|Domain 0 "
    r"|Init\. r|\*\*\*|General info|_pages=|\(total: |RIG:|BIOS-|Linux version"
    r"|xen_release_chunk|Freeing  ?[0-9a-f]+-|Populating|Released"
    r"|unused memory|Remapped|-1 mapping|Unable to find|Memory:"
    r"|Panic|Kernel panic|Oops|BUG|WARNING"
)
_HINT = re.compile(_HINT_TEXT)
_HINT_BYTES = re.compile(_HINT_TEXT.encode())
_CHUNK = 1 << 24


@dataclass
class ParsedLog:
    xen: XenInfo
    linux: LinuxInfo
    init: InitInfo
    crashes: list[crash.Hit] = field(default_factory=list)
    lines: int = 0
    #: the last lines seen, for quoting in messages
    tail: list[str] = field(default_factory=list)

    @property
    def fatal(self) -> crash.Hit | None:
        return next((h for h in self.crashes if h.fatal), None)


class _Collector:
    """Feeds normalised lines to every parser; one per parse."""

    def __init__(self) -> None:
        self.xen, self.linux, self.init = XenParser(), LinuxParser(), InitParser()
        self.crashes: list[crash.Hit] = []

    @property
    def in_block(self) -> bool:
        return self.xen.in_map or self.linux.in_map

    def feed(self, no: int, raw: str) -> None:
        for line in split(no, raw):
            if line.source is Source.XEN:
                self.xen.feed(line.text)
            else:
                self.linux.feed(line.text)
                self.init.feed(line.text)
            if _CRASH_HINT.search(line.text):
                pattern = crash.match(line.source, line.text)
                if pattern is not None:
                    self.crashes.append(
                        crash.Hit(pattern.kind, line.no, line.text, pattern.fatal))

    def result(self, count: int, tail: list[str]) -> ParsedLog:
        return ParsedLog(self.xen.finish(), self.linux.finish(), self.init.finish(),
                         self.crashes, count, tail)


def _tail(raw: Iterable[str], n: int) -> list[str]:
    return [ln.text for no, r in enumerate(raw) for ln in split(no, r)][-n:]


def parse_lines(raw_lines: Iterable[str], tail: int = 20) -> ParsedLog:
    """Parse any iterable of raw lines (a live stream, stdin, a list)."""
    c = _Collector()
    last: deque[str] = deque(maxlen=tail)
    count = 0
    hint = _HINT.search
    for count, raw in enumerate(raw_lines, start=1):
        last.append(raw)
        if hint(raw) or c.in_block:
            c.feed(count, raw)
    return c.result(count, _tail(last, tail))


def parse_file(path: Path, tail: int = 20) -> ParsedLog:
    """Parse a file: same result as ``parse_lines`` over its lines, found faster by scanning
    big chunks for hints and decoding only the lines that carry one."""
    c = _Collector()
    base = 0  # lines before the current chunk
    carry = b""
    with open(path, "rb") as f:
        while True:
            block = f.read(_CHUNK)
            data = carry + block
            if not block:
                if data:
                    base = _scan(c, data + b"\n", base)
                break
            cut = data.rfind(b"\n") + 1
            carry = data[cut:]
            if cut:
                base = _scan(c, data[:cut], base)
        size = f.tell()
        f.seek(max(0, size - 65536))
        end = f.read().decode("utf-8", "replace").split("\n")
    if end and end[-1] == "":
        end.pop()
    return c.result(base, _tail(end[-tail:], tail))


def _scan(c: _Collector, chunk: bytes, base: int) -> int:
    """Feed the hinted lines of ``chunk`` (whole lines) and the E820 blocks they open.
    Returns the line count after the chunk."""
    pos = 0  # everything before pos has been fed or skipped
    counted_to, count = 0, 0  # newlines in chunk[:counted_to]

    def feed_from(start: int) -> int:
        nonlocal counted_to, count
        count += chunk.count(b"\n", counted_to, start)
        counted_to = start
        end = chunk.index(b"\n", start) + 1
        c.feed(base + count + 1, chunk[start:end].decode("utf-8", "replace"))
        return end

    while c.in_block and pos < len(chunk):  # a block left open by the previous chunk
        pos = feed_from(pos)
    for m in _HINT_BYTES.finditer(chunk):
        if m.start() < pos:
            continue
        pos = feed_from(chunk.rfind(b"\n", 0, m.start()) + 1)
        while c.in_block and pos < len(chunk):
            pos = feed_from(pos)
    return base + chunk.count(b"\n")
