"""E820 entries and memory maps.

Pure: no I/O, no knowledge of QEMU. Ranges are half-open ``[start, end)`` in bytes; the parsers
convert the inclusive styles that Xen and Linux print. Page arithmetic over maps lives in
rig.domain.pages.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class E820Type(StrEnum):
    """E820 range types, spelled as Linux prints them."""

    RAM = "usable"
    RESERVED = "reserved"
    ACPI = "ACPI data"
    NVS = "ACPI NVS"
    UNUSABLE = "unusable"
    PERSISTENT = "persistent"
    SOFT_RESERVED = "soft reserved"
    OTHER = "other"

    @classmethod
    def from_text(cls, text: str) -> E820Type:
        """Map a printed type word (with or without parentheses) to a type."""
        word = text.strip().strip("()").strip()
        member = _BY_WORD.get(word)
        if member is not None:
            return member
        lowered = word.lower()
        if lowered in ("ram", "system ram", "kernel usable ram"):
            return cls.RAM
        if lowered.startswith("persistent"):
            return cls.PERSISTENT
        if lowered in ("device reserved",):
            return cls.RESERVED
        return cls.OTHER


#: each type by its printed word (a dict: this runs for every E820 line a log has)
_BY_WORD: dict[str, E820Type] = {m.value: m for m in E820Type}


@dataclass(frozen=True, order=True)
class E820Entry:
    start: int
    end: int  # exclusive
    type: E820Type

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"E820 entry ends before it starts: {self.start:#x}-{self.end:#x}")

    @property
    def size(self) -> int:
        return self.end - self.start

    @property
    def is_ram(self) -> bool:
        return self.type is E820Type.RAM

    def __str__(self) -> str:
        return f"[{self.start:#014x}-{self.end:#014x}) {self.type.value}"


def sanitize(entries: Iterable[E820Entry]) -> list[E820Entry]:
    """Sort, resolve overlaps (the larger type wins, as Linux's e820__update_table does for the
    numeric types; RAM loses to anything) and merge adjacent entries of one type."""
    rank = {t: i for i, t in enumerate(E820Type)}
    items = sorted(e for e in entries if e.size > 0)
    if not items:
        return []
    points = sorted({p for e in items for p in (e.start, e.end)})
    out: list[E820Entry] = []
    for lo, hi in itertools.pairwise(points):
        covering = [e.type for e in items if e.start <= lo and e.end >= hi]
        if not covering:
            continue
        kind = max(covering, key=lambda t: rank[t])
        if out and out[-1].type is kind and out[-1].end == lo:
            out[-1] = E820Entry(out[-1].start, hi, kind)
        else:
            out.append(E820Entry(lo, hi, kind))
    return out


def ram_bytes(entries: Iterable[E820Entry]) -> int:
    return sum(e.size for e in entries if e.is_ram)
