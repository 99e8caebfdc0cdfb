"""Line-stream parsers for Xen's and Linux's console output and rig's own /init.

Pure: they take an iterable of raw lines and never know whether it comes from a live console or
a file. ``parse_lines`` is the one entry point that ``rig parse`` and ``rig run`` share.
"""

from __future__ import annotations

import re
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
_CRASH_HINT = re.compile(r"Panic|crashed|panic|Oops|BUG|WARNING|error:")


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


def parse_lines(raw_lines: Iterable[str], tail: int = 20) -> ParsedLog:
    xen, linux, init = XenParser(), LinuxParser(), InitParser()
    crashes: list[crash.Hit] = []
    last: list[str] = []
    count = 0
    for count, raw in enumerate(raw_lines, start=1):
        for line in split(count, raw):
            if line.source is Source.XEN:
                xen.feed(line.text)
            else:
                linux.feed(line.text)
                init.feed(line.text)
            if _CRASH_HINT.search(line.text):
                pattern = crash.match(line.source, line.text)
                if pattern is not None:
                    crashes.append(crash.Hit(pattern.kind, line.no, line.text, pattern.fatal))
            last.append(line.text)
            if len(last) > 2 * tail:
                del last[:-tail]
    return ParsedLog(xen.finish(), linux.finish(), init.finish(), crashes, count, last[-tail:])


def parse_file(path: Path) -> ParsedLog:
    with open(path, encoding="utf-8", errors="replace", newline="\n") as f:
        return parse_lines(f)
