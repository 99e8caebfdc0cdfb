"""E820 entries, memory maps and PFN arithmetic.

Pure: no I/O, no knowledge of QEMU. Addresses are bytes, ranges are half-open ``[start, end)``
everywhere inside rig; the parsers convert the inclusive styles that Xen and Linux print.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

PAGE_SHIFT = 12
PAGE_SIZE = 1 << PAGE_SHIFT
KiB = 1 << 10
MiB = 1 << 20
GiB = 1 << 30
TiB = 1 << 40


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
        for member in cls:
            if word == member.value:
                return member
        lowered = word.lower()
        if lowered in ("ram", "system ram", "kernel usable ram"):
            return cls.RAM
        if lowered.startswith("persistent"):
            return cls.PERSISTENT
        if lowered in ("device reserved",):
            return cls.RESERVED
        return cls.OTHER


def pfn_down(addr: int) -> int:
    return addr >> PAGE_SHIFT


def pfn_up(addr: int) -> int:
    return (addr + PAGE_SIZE - 1) >> PAGE_SHIFT


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

    def to_json(self) -> dict[str, object]:
        return {"start": self.start, "end": self.end, "type": self.type.value}

    def __str__(self) -> str:
        return f"[{self.start:#014x}-{self.end:#014x}) {self.type.value}"


@dataclass(frozen=True)
class PfnRange:
    """A half-open range of page frame numbers."""

    start: int
    end: int

    @property
    def pages(self) -> int:
        return max(0, self.end - self.start)

    def to_json(self) -> dict[str, int]:
        return {"start_pfn": self.start, "end_pfn": self.end, "pages": self.pages}

    def __str__(self) -> str:
        return f"{self.start:x}-{self.end:x}"


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


def nonram_areas(entries: Sequence[E820Entry]) -> list[PfnRange]:
    """Non-RAM areas as Linux's Xen setup walks them (eras B–E, ``xen_foreach_remap_area``).

    Each area runs from the end of one RAM entry to the start of the next, covering reserved
    entries and gaps alike; partial pages are pushed into the area. A map that ends in non-RAM
    gives a trailing area up to the end of the last entry.
    """
    items = sanitize(entries)
    areas: list[PfnRange] = []
    start = 0
    for i, entry in enumerate(items):
        last = i == len(items) - 1
        if entry.is_ram or last:
            end = entry.start if entry.is_ram else entry.end
            area = PfnRange(pfn_down(start), pfn_up(end))
            if area.pages > 0:
                areas.append(area)
            if entry.is_ram:
                start = entry.end
    return areas


def ram_bytes(entries: Iterable[E820Entry]) -> int:
    return sum(e.size for e in entries if e.is_ram)


def clip(ranges: Iterable[PfnRange], below: int) -> list[PfnRange]:
    """The parts of ``ranges`` below pfn ``below``; empty parts dropped."""
    out = []
    for r in ranges:
        if r.start < below:
            part = PfnRange(r.start, min(r.end, below))
            if part.pages:
                out.append(part)
    return out


def parse_size(text: str) -> int:
    """``"4G"``, ``"512M"``, ``"0x80000000"``, ``"1024K"``, ``"4096"`` → bytes.

    Raises ValueError with the text on anything else.
    """
    s = text.strip()
    if not s:
        raise ValueError("empty size")
    units = {"K": KiB, "M": MiB, "G": GiB, "T": TiB}
    try:
        if s.lower().startswith("0x"):
            return int(s, 16)
        suffix = s[-1].upper()
        if suffix == "B" and len(s) > 1 and s[-2].upper() in units:
            s, suffix = s[:-1], s[-2].upper()
        if suffix in units:
            return int(float(s[:-1]) * units[suffix])
        return int(s)
    except ValueError:
        raise ValueError(f"not a size: {text!r} (use e.g. 4G, 512M, 0x80000000)") from None


def format_size(nbytes: int) -> str:
    """Shortest exact spelling: 4G, 512M, 0x9fc00."""
    for suffix, unit in (("T", TiB), ("G", GiB), ("M", MiB), ("K", KiB)):
        if nbytes and nbytes % unit == 0:
            return f"{nbytes // unit}{suffix}"
    return hex(nbytes)
