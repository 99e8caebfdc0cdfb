"""E820 entry lines in every printed style (Xen and Linux, old and new)."""

from __future__ import annotations

import re
from functools import lru_cache

from rig.domain.e820 import E820Entry, E820Type

# Xen ≥4.14: " [0000000000000000, 000000000009fbff] (usable)"   (inclusive)
# Xen ≤4.13: " 0000000000000000 - 000000000009fc00 (usable)"    (exclusive)
_XEN_ENTRY = re.compile(
    r"^\s*(?:\[(?P<a>[0-9a-fA-F]+),\s*(?P<b>[0-9a-fA-F]+)\]|(?P<c>[0-9a-fA-F]+)\s+-\s+(?P<d>[0-9a-fA-F]+))"
    r"\s+(?P<type>\(.*\)|type \d+)\s*$"
)
# Linux 3.5+: "Xen: [mem 0x0000000000000000-0x000000000009efff] usable"  (inclusive)
# Linux ≤3.4: " Xen: 0000000000000000 - 000000000009e000 (usable)"        (exclusive)
# also "BIOS-e820:", an optional "e820: " prefix and the 2025 size column "   1.9 GB"
_LINUX_ENTRY = re.compile(
    r"^\s?(?:e820: )?(?P<who>[\w-]+): +(?:\[mem (?P<a>0x[0-9a-fA-F]+)-(?P<b>0x[0-9a-fA-F]+)\]"
    r"|(?P<c>[0-9a-fA-F]+) - (?P<d>[0-9a-fA-F]+))"
    r"(?:\s+[\d.]+\s*[KMGT]B)?\s+(?P<type>.+?)\s*$"
)
_LINUX_WHO = frozenset({"Xen", "BIOS-e820", "e820", "BIOS-e801", "PVH"})


def _entry(m: re.Match[str]) -> E820Entry | None:
    try:
        if m.group("a") is not None:
            start, end = int(m.group("a"), 16), int(m.group("b"), 16) + 1
        else:
            start, end = int(m.group("c"), 16), int(m.group("d"), 16)
        return E820Entry(start, end, E820Type.from_text(m.group("type")))
    except ValueError:
        return None


# A few lines kept: the wrap check (rig.parse.wrap) reads each entry line just before its
# parser does. Only the last lines: a log's repeats far apart are read again.
@lru_cache(maxsize=4)
def xen_entry(text: str) -> E820Entry | None:
    m = _XEN_ENTRY.match(text)
    return _entry(m) if m else None


# Linux 6.16+ between two entries: "BIOS-e820: [gap 0x000000000009f000-0x000000000009fbff]"
_LINUX_GAP = re.compile(
    r"^\s?(?:e820: )?(?:BIOS-e820|Xen|e820): +\[gap 0x[0-9a-fA-F]+-0x[0-9a-fA-F]+\]")


def linux_gap(text: str) -> bool:
    """A gap line of 6.16+'s printed map (no entry: what lies between two entries)."""
    return _LINUX_GAP.match(text) is not None


@lru_cache(maxsize=4)
def linux_entry(text: str) -> E820Entry | None:
    m = _LINUX_ENTRY.match(text)
    if not m or m.group("who") not in _LINUX_WHO:
        return None
    return _entry(m)
