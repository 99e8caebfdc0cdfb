"""The era model: what a correct Linux PV dom0 does with the memory Xen gives it.

Pure. Inputs are only what the machine gave dom0: the map Xen hands it
(XENMEM_machine_memory_map), its nr_pages and max_pages, where Xen placed its kernel, and the
kernel's version and build configuration. The output is what a *correct* kernel of that era
must do. The rules are those of arch/x86/xen/setup.c as summarised in
docs/log-formats.md §1.1; nothing here ever reads a count the kernel printed.

What is known of the kernel is rig.model.kernel's; the firmware's map (rig.model.firmware) and
the prediction for a whole scenario (rig.model.prediction) live in their own modules.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

from rig.domain.dom0mem import UINT_MAX
from rig.domain.e820 import E820Entry, E820Type, sanitize
from rig.domain.pages import PfnRange, clip, nonram_areas, pfn_down, pfn_up, ram_from, total
from rig.model import balloon, extra_mem
from rig.model.conflicts import Allocations, Conflict, Resolution, resolve_conflicts
from rig.model.kernel import ALL_FIXES, IBFT_RESERVE, Era, Kernel

# MAXMEM on x86_64 with 4-level paging: 64 TiB of pfns; dom0's nr_pages is clamped to it.
MAXMEM_PFN = (64 << 40) >> 12
@dataclass
class Prediction:
    era: Era
    kernel_version: tuple[int, ...]
    nr_pages: int
    max_pages: int
    #: dom0's view of the map after its own edits (unusable→RAM, iBFT reservation)
    e820: list[E820Entry]
    #: non-RAM areas below nr_pages, i.e. the pages that carry dom0 RAM in a hole
    hole_ranges: list[PfnRange]
    freed_ranges: list[PfnRange] = field(default_factory=list)
    released_pages: int = 0
    populated_ranges: list[PfnRange] = field(default_factory=list)
    populated_pages: int = 0
    remapped_pages: int = 0
    #: pages dom0 holds after setup (Xen's tot_pages)
    dom0_pages: int = 0
    balloon_current_kb: int | None = None
    #: how balloon_init counted it (rig.model.balloon)
    balloon_rule: str | None = None
    #: the non-RAM entry that makes the kernel refuse to boot (Xen's allocations not in one
    #: RAM entry): "Xen hypervisor allocated <component> memory conflicts with E820 map"
    kernel_conflict: E820Entry | None = None
    notes: list[str] = field(default_factory=list)
    #: Linux's checks of Xen's allocations against its map (rig.model.conflicts)
    resolution: Resolution | None = None
    #: a remapped page no extra-memory region holds: the kernel BUGs (rig.model.extra_mem)
    short_region: extra_mem.ShortRegion | None = None
    #: the kernel's E820 table overflowing in its walk of the map (rig.model.extra_mem)
    table_full: extra_mem.TableFull | None = None

    @property
    def nonram_remapped_pages(self) -> int:
        """"Remapped N non-RAM page(s)" (6.12+)."""
        return self.resolution.nonram_pages if self.resolution is not None else 0

    @property
    def conflict(self) -> Conflict | None:
        return self.resolution.conflict if self.resolution is not None else None

    @property
    def hole_pages(self) -> int:
        return total(self.hole_ranges)

    @property
    def lost_pages(self) -> int:
        return self.nr_pages - self.dom0_pages


def dom0_view(machine_map: Sequence[E820Entry], kernel: Kernel) -> list[E820Entry]:
    """The map dom0 works from: 3.13+ treats UNUSABLE as RAM (xen_ignore_unusable); 6.5+ may
    reserve [0x80000, 0x100000) for the iBFT scan before anything else looks at the map."""
    entries = list(machine_map)
    if kernel.version[:2] >= (3, 13):
        entries = [
            E820Entry(e.start, e.end, E820Type.RAM) if e.type is E820Type.UNUSABLE else e
            for e in entries
        ]
    if kernel.ibft_reserve:
        entries.append(IBFT_RESERVE)
    return sanitize(entries)


def _gap_ranges(entries: Sequence[E820Entry]) -> list[PfnRange]:
    """Era A: only the gaps between entries (not typed ranges), from 1 MiB up."""
    items = sanitize(entries)
    gaps = []
    for prev, nxt in itertools.pairwise(items):
        if nxt.start > prev.end:
            gaps.append(PfnRange(max(pfn_up(prev.end), 0x100), pfn_down(nxt.start)))
    return [g for g in gaps if g.pages > 0]


def _populate(entries: Sequence[E820Entry], nr: int, credits: int) -> list[PfnRange]:
    """Era C xen_populate_chunk: fill E820 RAM from nr_pages upward with the released credit."""
    return ram_from(entries, nr, credits)


def _ram_pages_from(entries: Sequence[E820Entry], first_pfn: int) -> int:
    total = 0
    for e in entries:
        if e.is_ram:
            lo, hi = max(pfn_up(e.start), first_pfn), pfn_down(e.end)
            total += max(0, hi - lo)
    return total


#: what the kernel's names for Xen's allocations are, in a note
WHAT = {"kernel": "kernel image", "xen_start_info": "start info", "page table": "page tables"}


def predict(
    machine_map: Sequence[E820Entry],
    nr_pages: int,
    max_pages: int | None,
    kernel: Kernel | tuple[int, ...],
    allocations: Allocations | None = None,
    fixes: frozenset[str] = ALL_FIXES,
) -> Prediction:
    """What a correct ``kernel`` does with ``machine_map`` and ``nr_pages``.

    ``max_pages`` is Xen's d->max_pages (UINT_MAX or None when ``dom0_mem`` had no ``max:``).
    ``allocations``: where Xen put dom0's kernel and what it built for it, when known (Linux
    4.3+ checks them against its map, rig.model.conflicts). ``fixes``: the fixes the kernel
    is taken to have (a correct kernel: all of them; rig.model.kernel.FIXES).
    """
    if not isinstance(kernel, Kernel):
        kernel = Kernel(tuple(kernel))
    era = kernel.era
    view = dom0_view(machine_map, kernel)
    nr = min(nr_pages, MAXMEM_PFN)
    maxp = UINT_MAX if max_pages is None else max_pages
    resolution = None
    if allocations is not None and kernel.version[:2] >= (4, 3):
        resolution = resolve_conflicts(view, kernel, allocations, nr, fixes)
        view = resolution.view
    holes = clip(nonram_areas(view), nr)
    pred = Prediction(
        era=era,
        kernel_version=tuple(kernel.version),
        nr_pages=nr,
        max_pages=maxp,
        e820=view,
        hole_ranges=holes,
        resolution=resolution,
    )
    if resolution is not None and resolution.conflict is not None:
        c = resolution.conflict
        pred.kernel_conflict = c.entry
        pred.notes.append(
            f"the {WHAT.get(c.component, c.component)} [{c.range[0]:#x}, {c.range[1]:#x}) is not "
            "inside one RAM entry "
            f"({c.entry.type.value} [{c.entry.start:#x}, {c.entry.end:#x}) is in the way): the "
            f"kernel must refuse to boot ('{c.message}')")
    for swap in resolution.swaps if resolution is not None else []:
        pred.notes.append(
            f"ACPI NVS [{swap.entry.start:#x}, {swap.entry.end:#x}) lies in Xen's allocations: "
            f"swapped with RAM, now at [{swap.moved.start:#x}, {swap.moved.end:#x})")
    hole_pages = pred.hole_pages
    ram_above = _ram_pages_from(view, nr)

    if era is Era.A:
        pred.freed_ranges = clip(_gap_ranges(view), nr)
        pred.released_pages = total(pred.freed_ranges)
        pred.dom0_pages = nr - pred.released_pages
        pred.notes.append("era A releases gaps only; reserved ranges below nr_pages stay mapped")
    elif era is Era.B:
        pred.freed_ranges = holes
        pred.released_pages = hole_pages
        pred.dom0_pages = nr - hole_pages
        pred.notes.append("era B releases the pages in holes and never gives them back")
    elif era is Era.C:
        pred.freed_ranges = holes
        pred.released_pages = hole_pages
        pred.populated_ranges = _populate(view, nr, hole_pages)
        pred.populated_pages = total(pred.populated_ranges)
        pred.dom0_pages = nr - (hole_pages - pred.populated_pages)
    else:  # D and E remap into E820 RAM above nr_pages; release only when there is none
        remap = min(hole_pages, ram_above)
        pred.remapped_pages = remap
        pred.released_pages = hole_pages - remap
        if pred.released_pages:
            pred.notes.append(
                "not enough E820 RAM above nr_pages to remap into: the kernel warns "
                "'Unable to find available pfn range' and releases the rest"
            )
        pred.dom0_pages = nr - pred.released_pages
        if kernel.version[:2] >= extra_mem.FIRST_READ:
            budget = extra_mem.budget(nr, maxp, MAXMEM_PFN, hole_pages)
            whole = "extra-mem-whole-pages" in fixes
            pred.short_region = extra_mem.short_region(view, nr, budget, hole_pages, whole)
            if not whole:
                pred.table_full = extra_mem.table_full(view, nr, budget, kernel.e820_limit)
    # the balloon's count at boot, and its target at /init (rig.model.balloon); kernels before
    # 3.2 are not modelled
    if tuple(kernel.version[:2]) >= (3, 2):
        start = balloon.pv_start(fixes, pred.dom0_pages, pred.released_pages,
                                 balloon.low_pages_not_counted(view))
        pred.balloon_current_kb, pred.balloon_rule = start.kb, start.rule
    return pred
