"""Rejoin known messages that a mail client or an 80-column terminal cut in two.

A mail client wraps at a space (the space becomes the line break); a terminal cuts at its
width, inside a word or a number. Both leave a continuation line that has none of the log's
line prefixes. For a message rig knows, both joins are tried (with and without the space): the
join is taken only when exactly one reading of the whole message results. Anything else stays
cut, and a cut message is never parsed as a shorter one: a wrapped ``Dom0 alloc.`` line used to
lose its "(N pages to be allocated)", a wrapped E820 entry used to end the map.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from rig.domain.dom0mem import Dom0Mem
from rig.domain.e820 import E820Type
from rig.parse import linux, xen
from rig.parse.e820 import linux_entry, linux_gap, xen_entry
from rig.parse.lines import Source


@dataclass(frozen=True)
class Known:
    name: str
    source: Source
    start: re.Pattern[str]
    #: the whole message; returns a normalised reading (equal readings mean the same message)
    read: Callable[[str], object | None]
    #: a complete message may still go on (Dom0 alloc.'s "(N pages to be allocated)")
    open_tail: bool = False
    #: only inside an E820 block
    in_map: bool = False


def _regex(rx: re.Pattern[str]) -> Callable[[str], object | None]:
    def read(text: str) -> object | None:
        m = rx.match(text)
        return m.groups() if m else None
    return read


def _linux_e820(text: str) -> object | None:
    if linux_gap(text):
        return ("gap", text.strip())  # 6.16+'s gap lines are whole lines of their own
    e = linux_entry(text)
    if e is None or (e.type is E820Type.OTHER and not re.search(r"type \d+\s*$", text)):
        return None  # "usab" is a cut "usable", not a type of its own
    return e


def _xen_e820(text: str) -> object | None:
    return xen_entry(text)


def _cmdline(text: str) -> object | None:
    """A command line is complete when its dom0_mem= (if any) parses: that is all rig reads."""
    values = xen.DOM0_MEM.findall(text)
    try:
        for v in values:
            Dom0Mem.parse(v)
    except ValueError:
        return None
    return tuple(values)


KNOWN: tuple[Known, ...] = (
    Known("Xen E820 entry", Source.XEN, re.compile(r"^\s*\[?\s*[0-9a-fA-F]{8,}"), _xen_e820,
          in_map=True),
    Known("Dom0 alloc.", Source.XEN, re.compile(r"^\s*Dom0 alloc\.:"), _regex(xen.ALLOC),
          open_tail=True),
    Known("Init. ramdisk", Source.XEN, re.compile(r"^\s*Init\. ramdisk:"), _regex(xen.RAMDISK)),
    Known("Phys-Mach map", Source.XEN, re.compile(r"^\s*Phys-Mach map:"), _regex(xen.P2M)),
    Known("Dom0 kernel", Source.XEN, re.compile(r"^\s*Dom0 kernel:"), _regex(xen.DOM0_KERNEL)),
    Known("Xen command line", Source.XEN, re.compile(r"^Command line:"), _cmdline,
          open_tail=True),
    Known("Linux E820 entry", Source.LINUX,
          re.compile(r"^\s?(?:e820: )?(?:Xen|BIOS-e820|e820|PVH): "), _linux_e820, in_map=True),
    Known("Freeing", Source.LINUX, re.compile(r"^Freeing {1,2}[0-9a-f]+-"),
          _regex(linux.FREEING)),
    Known("Populating", Source.LINUX, re.compile(r"^Populating [0-9a-f]"),
          _regex(linux.POPULATING)),
    Known("Released", Source.LINUX, re.compile(r"^[Rr]eleased \d"),
          lambda t: _regex(linux.RELEASED)(t) or _regex(linux.RELEASED_OLD)(t)),
    Known("Remapped", Source.LINUX, re.compile(r"^Remapped \d"),
          lambda t: _regex(linux.REMAPPED)(t) or _regex(linux.REMAPPED_NONRAM)(t)),
    Known("xen_release_chunk", Source.LINUX, re.compile(r"^xen_release_chunk: "),
          _regex(linux.CHUNK_A)),
    Known("Memory:", Source.LINUX, re.compile(r"^Memory: \d"), _regex(linux.MEMORY)),
)


#: KNOWN by (source, in_map): every line the parsers see is asked, so only its own kind
_BY_PLACE: dict[tuple[Source, bool], tuple[Known, ...]] = {
    (src, in_map): tuple(k for k in KNOWN if k.source is src and k.in_map == in_map)
    for src in Source for in_map in (False, True)}


#: any start of a place's messages, in one regex: most lines start none, and are then done
#: with one match instead of one per message
_ANY_START: dict[tuple[Source, bool], re.Pattern[str]] = {
    place: re.compile("|".join(f"(?:{k.start.pattern})" for k in ks) or "(?!)")
    for place, ks in _BY_PLACE.items()}


def started(source: Source, text: str, in_map: bool) -> Known | None:
    """The known message ``text`` starts, when it is cut, or complete but may go on."""
    if _ANY_START[(source, in_map)].match(text) is None:
        return None
    for k in _BY_PLACE[(source, in_map)]:
        if not k.start.match(text):
            continue
        if k.read(text) is None or k.open_tail:
            return k
        return None
    return None


#: a terminal cuts a line at its width, and no terminal is narrower than this; a shorter line
#: was wrapped by a mail client, at a space
MIN_TERMINAL = 79


def join(k: Known, text: str, continuation: str, cut_width: int) -> str | None:
    """``text`` and its continuation as one message, when exactly one reading results.
    ``cut_width``: how long the cut raw line was (a terminal only cuts at its width)."""
    tail = continuation.strip()
    if not tail:
        return None
    # a mail client's wrap first (it took a space), then a terminal's cut (it took nothing)
    candidates = [text.rstrip() + " " + tail]
    if cut_width >= MIN_TERMINAL:
        candidates.append(text + tail)
    good = [(c, r) for c in candidates if (r := k.read(c)) is not None]
    if len({repr(r) for _, r in good}) != 1:
        return None
    return good[0][0]
