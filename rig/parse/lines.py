"""Normalise raw console / dmesg / journal lines into (source, text) pairs.

The parsers downstream see one clean line at a time and never know whether it came from a live
serial console or a file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum


class Source(StrEnum):
    XEN = "xen"
    LINUX = "linux"  # dom0's kernel, its userspace (rig's /init) and anything unprefixed


@dataclass(frozen=True, slots=True)
class Line:
    no: int  # 1-based line number in the input
    source: Source
    text: str  # prefixes and timestamps removed, no trailing whitespace


# CSI sequences, two-byte escapes and stray control characters (GRUB clears the screen with them)
_ANSI = re.compile(
    r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78cDEHM]|[\x00-\x08\x0b-\x1f\x7f]"
)
# syslog "Nov 26 13:21:00 host kernel: ", ISO journal "2026-11-26T13:21:00+0000 host kernel: ",
# "journalctl -o short-monotonic" "[    1.234567] host kernel: "
_SYSLOG = re.compile(
    r"^(?:[A-Z][a-z]{2} [ \d]\d [\d:]{8}"  # syslog
    r"|\d{4}-\d\d-\d\dT[\d:.]+(?:[+-]\d\d:?\d\d|Z)?"  # ISO
    r"|\[\s*\d+\.\d+\])"  # monotonic
    r" \S+ kernel: ?"
)
_DMESG_LEVEL = re.compile(r"^(?:<\d+>|\w+\s*:\w+\s*: )")
_LINUX_STAMP = re.compile(r"^\[\s*\d+\.\d+\]\s?")
_XEN = re.compile(r"\(XEN\) ?")
# "(XEN) [2024-01-01 00:00:00] " / "(XEN) [    1.234567] " / "(XEN) [2024-...] "
_XEN_STAMP = re.compile(r"^\[[^\]]{1,40}\] ?")


def clean(raw: str) -> str:
    text = raw.rstrip("\r\n")
    if "\x1b" in text or "\r" in text or "\x00" in text:
        # a bare CR inside a line usually separates two writes; keep both halves readable
        text = _ANSI.sub("", text.replace("\r", " "))
    return text.rstrip()


def _strip_linux(text: str) -> str:
    if text.startswith("<") or ":" in text[:12]:
        text = _DMESG_LEVEL.sub("", text, count=1)
    if text.startswith("["):
        text = _LINUX_STAMP.sub("", text, count=1)
    return text


def split(no: int, raw: str) -> Iterator[Line]:
    """One raw line → one or more normalised lines (two when a Xen line cut into a Linux one)."""
    text = clean(raw)
    if not text:
        return
    m = _SYSLOG.match(text)
    if m:
        text = text[m.end():]
    idx = text.find("(XEN)")
    if idx < 0:
        yield Line(no, Source.LINUX, _strip_linux(text))
        return
    if idx > 0:
        head = text[:idx].rstrip()
        if head:
            yield Line(no, Source.LINUX, _strip_linux(head))
    rest = _XEN.sub("", text[idx:], count=1)
    if rest.startswith("["):
        rest = _XEN_STAMP.sub("", rest, count=1)
    yield Line(no, Source.XEN, rest.rstrip())


def normalise(raw_lines: Iterable[str]) -> Iterator[Line]:
    for no, raw in enumerate(raw_lines, start=1):
        yield from split(no, raw)
