"""Page frame numbers and sets of pages: the one home of rig's page arithmetic.

Pure. A page range is a ``PfnRange`` (half-open, in page frame numbers) everywhere; a page set
is a sorted list of them without overlaps.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rig.domain.e820 import E820Entry, sanitize
from rig.domain.units import PAGE_SHIFT, PAGE_SIZE


def pfn_down(addr: int) -> int:
    return addr >> PAGE_SHIFT


def pfn_up(addr: int) -> int:
    return (addr + PAGE_SIZE - 1) >> PAGE_SHIFT


@dataclass(frozen=True, order=True)
class PfnRange:
    """A half-open range of page frame numbers."""

    start: int
    end: int

    @property
    def pages(self) -> int:
        return max(0, self.end - self.start)

    def __str__(self) -> str:
        return f"{self.start:x}-{self.end:x}"


def clip(ranges: Iterable[PfnRange], below: int) -> list[PfnRange]:
    """The parts of ``ranges`` below pfn ``below``; empty parts dropped."""
    out = []
    for r in ranges:
        if r.start < below:
            part = PfnRange(r.start, min(r.end, below))
            if part.pages:
                out.append(part)
    return out


def total(ranges: Iterable[PfnRange]) -> int:
    return sum(r.pages for r in ranges)


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


def ram_pages(entries: Sequence[E820Entry]) -> list[PfnRange]:
    """The map's RAM as whole pages: what dom0 can use. Bootloaders take a KiB or two below
    640 KiB (GRUB's INT 15h hook grows with the number of holes), which no whole page sees."""
    return [r for e in sanitize(entries) if e.is_ram
            if (r := PfnRange(pfn_up(e.start), pfn_down(e.end))).pages]


def typed_pages(entries: Sequence[E820Entry]) -> list[PfnRange]:
    """Every page a typed (non-RAM) entry of the map touches."""
    return [r for e in sanitize(entries) if not e.is_ram
            if (r := PfnRange(pfn_down(e.start), pfn_up(e.end))).pages]


def whole_ram_pages(entries: Sequence[E820Entry]) -> int:
    """Pages of RAM as Xen populates a map it built (the whole pages of each RAM entry, the
    map taken as it is)."""
    return sum(pfn_down(e.end) - pfn_up(e.start) for e in entries if e.is_ram)


def ram_from(entries: Sequence[E820Entry], first_pfn: int, pages: int) -> list[PfnRange]:
    """The first ``pages`` whole RAM pages from ``first_pfn`` up, in map order: where Linux
    puts pages above nr_pages (era C's populate, xen_populate_chunk; the remap's destinations,
    xen_find_pfn_range)."""
    out: list[PfnRange] = []
    for e in sorted(entries, key=lambda x: x.start):
        if not e.is_ram or pages <= 0:
            continue
        lo, hi = max(pfn_up(e.start), first_pfn), pfn_down(e.end)
        if hi > lo:
            take = min(hi - lo, pages)
            out.append(PfnRange(lo, lo + take))
            pages -= take
    return out


def subtract(a: Sequence[PfnRange], b: Sequence[PfnRange]) -> list[PfnRange]:
    """Page ranges in ``a`` and not in ``b`` (both sorted, each without overlaps)."""
    out: list[PfnRange] = []
    for r in a:
        cur = r.start
        for s in b:
            if s.end <= cur or s.start >= r.end:
                continue
            if s.start > cur:
                out.append(PfnRange(cur, s.start))
            cur = max(cur, s.end)
            if cur >= r.end:
                break
        if cur < r.end:
            out.append(PfnRange(cur, r.end))
    return out


def describe(ranges: Sequence[PfnRange], limit: int = 4) -> str:
    """``"pfn 9f-100, pfn 7ffe0-80000 and 3 more"`` for a message."""
    shown = ", ".join(f"pfn {r}" for r in ranges[:limit])
    return shown + (f" and {len(ranges) - limit} more" if len(ranges) > limit else "")
