"""Normalise raw console / dmesg / journal lines into (source, text) pairs.

The parsers downstream see one clean line at a time and never know whether it came from a live
serial console or a file. What is taken off, by the format's own definition:

- e-mail quoting: ``> ``, ``>> ``, ``> > `` (replies that carry a log);
- xenconsoled's wall clock ``[2022-09-19 19:50:56] `` (``xenconsoled --timestamp``, Qubes'
  ``hypervisor.log`` and ``guest-*.log``);
- syslog ``Nov 26 13:21:00 host kernel: ``, and journalctl's ``short-precise``
  (``Nov 26 13:21:00.123456 host kernel: ``), ``short-iso`` / ``short-iso-precise``
  (``2026-11-26T13:21:00.123456+00:00 host kernel: ``) and ``short-monotonic``
  (``[    1.234567] host kernel: ``);
- dmesg's printk time ``[    0.000000] ``, ``dmesg -T``'s ``[Fri Nov 27 02:43:37 2026] `` and a
  ``<6>`` level;
- Xen's ``(XEN) `` and its console timestamps ``(XEN) [2024-01-01 00:00:00] ``;
- CRs, ANSI sequences and stray control characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from enum import StrEnum
from typing import NamedTuple


class Source(StrEnum):
    XEN = "xen"
    LINUX = "linux"  # dom0's kernel, its userspace (rig's /init) and anything unprefixed


class Line(NamedTuple):
    """One normalised line (a tuple: one is made for every line a parser wants, and a frozen
    dataclass costs several times as much to build)."""

    no: int  # 1-based line number in the input
    source: Source
    text: str  # prefixes and timestamps removed, no trailing whitespace
    #: the raw line carried a prefix of its own (a timestamp, "(XEN)", a journal header): a
    #: line without one that follows it may be its wrapped continuation
    prefixed: bool = False
    #: noise came right after a number at the line's end: the number may be cut
    cut: bool = False


#: the members as module names: an enum member's lookup costs ~0.2 µs in Python 3.11, and
#: split runs for every line a parser wants
_LINUX, _XEN_SOURCE = Source.LINUX, Source.XEN

# CSI sequences, two-byte escapes and stray control characters (GRUB clears the screen with them)
_ANSI = re.compile(
    r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78cDEHM]|[\x00-\x08\x0b-\x1f\x7f]"
)
_QUOTE = re.compile(r"^(?:> ?)+")
_XENCONSOLED = re.compile(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?\] ")
# syslog and journalctl short/short-precise, short-iso(-precise), short-monotonic
_SYSLOG = re.compile(
    r"^(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)?"
    r"|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[.,]\d+)?(?:[+-]\d\d:?\d\d|Z)?"
    r"|\[\s*\d+\.\d+\])"
    r" \S+ kernel: ?"
)
_DMESG_LEVEL = re.compile(r"^(?:<\d+>|\w+\s*:\w+\s*: )")
_LINUX_STAMP = re.compile(
    r"^\[(?:\s*\d+\.\d+|(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} [ \d]\d "
    r"\d\d:\d\d:\d\d \d{4})\]\s?")
# "(XEN) [2024-01-01 00:00:00] " / "(XEN) [    1.234567] " / "(XEN) [2024-...] "
_XEN_STAMP = re.compile(r"^\[[^\]]{1,40}\] ?")


#: what a serial line's noise leaves at the end of a line: bytes that were no UTF-8 (decoded as
#: U+FFFD), stray control characters, blanks
_TRAILING_NOISE = re.compile(r"[\ufffd\x00-\x1f\x7f\s]+$")
#: a line that ends in a number (decimal, or hex holding a digit)
_ENDS_IN_NUMBER = re.compile(r"\b(?=[0-9a-fA-F]*[0-9])[0-9a-fA-F]+$")


def clean(raw: str) -> str:
    return _clean(raw)[0]


def _clean(raw: str) -> tuple[str, bool]:
    """The line without line end, ANSI sequences, mail quoting and the noise after it; and
    whether that noise came right after a number (which may then have lost digits to it)."""
    text = raw.rstrip("\r\n")
    if "\x1b" in text or "\r" in text or "\x00" in text:
        # a bare CR inside a line usually separates two writes; keep both halves readable
        text = _ANSI.sub("", text.replace("\r", " "))
    if text.startswith(">"):
        text = _QUOTE.sub("", text, count=1)
    cut = False
    if text and text[-1] == "\ufffd":
        # noise after the message (a serial line's stray bytes) is no part of it; a number
        # right before it may be cut, and is then not read (the line is marked cut)
        text = _TRAILING_NOISE.sub("", text)
        cut = bool(_ENDS_IN_NUMBER.search(text))
    return text.rstrip(), cut


def _strip_linux(text: str) -> tuple[str, bool]:
    stripped = False
    if (text.startswith("<") or ":" in text[:12]) and (m := _DMESG_LEVEL.match(text)):
        text, stripped = text[m.end():], True
    if text.startswith("[") and (m := _LINUX_STAMP.match(text)) is not None:
        text, stripped = text[m.end():], True
    return text, stripped


def _strip_outer(text: str) -> tuple[str, bool]:
    """The prefixes a whole line carries, whatever its source."""
    prefixed = False
    if text.startswith("["):
        m = _XENCONSOLED.match(text)
        if m:
            text, prefixed = text[m.end():], True
    # every syslog / journal header ends in " kernel:": a line without it is none
    if "kernel:" in text and (m := _SYSLOG.match(text)) is not None:
        text, prefixed = text[m.end():], True
    return text, prefixed


def has_prefix(raw: str) -> bool:
    """Whether a raw line begins with a line prefix of its own (so it is not the wrapped tail
    of the line before)."""
    text, prefixed = _strip_outer(clean(raw))
    if prefixed or text.startswith("(XEN)"):
        return True
    return _strip_linux(text)[1]


def split(no: int, raw: str) -> list[Line]:
    """One raw line → its normalised lines: none (a blank line), one, or two (a Xen line cut
    into a Linux one). A list, not a generator: it runs for every line a parser wants."""
    text, cut = _clean(raw)
    if not text:
        return []
    text, prefixed = _strip_outer(text)
    idx = text.find("(XEN)")
    if idx < 0:
        body, stamped = _strip_linux(text)
        return [Line(no, _LINUX, body, prefixed or stamped, cut)]
    out = []
    if idx > 0:
        head = text[:idx].rstrip()
        if head:
            body, stamped = _strip_linux(head)
            out.append(Line(no, _LINUX, body, prefixed or stamped))
    rest = text[idx + 5:]  # after "(XEN)" and the one blank Xen puts after it
    if rest.startswith(" "):
        rest = rest[1:]
    if rest.startswith("[") and (m := _XEN_STAMP.match(rest)) is not None:
        rest = rest[m.end():]
    out.append(Line(no, _XEN_SOURCE, rest.rstrip(), True, cut))
    return out


def normalise(raw_lines: Iterable[str]) -> Iterator[Line]:
    for no, raw in enumerate(raw_lines, start=1):
        yield from split(no, raw)
