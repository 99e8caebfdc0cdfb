"""An independent model of how a Linux PV dom0 sets up its memory, per kernel era.

Pure. Inputs are the machine map Xen hands dom0 (XENMEM_machine_memory_map), dom0's nr_pages and
max_pages, and the kernel version; the output is what a *correct* kernel of that era must do.
The rules are those of arch/x86/xen/setup.c as summarised in shared/docs/log-formats.md §1.1;
the model never reads the counts it predicts from a log.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from rig.dom0mem import Dom0Mem
from rig.layout import (
    E820Entry,
    E820Type,
    PfnRange,
    clip,
    nonram_areas,
    pfn_down,
    pfn_up,
    sanitize,
)
from rig.scenario import Scenario

UINT_MAX = 2**32 - 1
# MAXMEM on x86_64 with 4-level paging: 64 TiB of pfns; dom0's nr_pages is clamped to it.
MAXMEM_PFN = (64 << 40) >> 12
EXTRA_MEM_RATIO = 10
IBFT_RESERVE = E820Entry(0x80000, 0x100000, E820Type.RESERVED)


class Era(StrEnum):
    """Shapes of xen_memory_setup() over Linux history (log-formats.md §1)."""

    A = "A"  #: ≤3.1: only gaps above 1 MiB released, reserved stays mapped
    B = "B"  #: 3.2–3.4: every non-RAM area below nr_pages released, never given back
    C = "C"  #: 3.5–3.16: released, then populated above nr_pages (the seed commit)
    D = "D"  #: 3.17–3.18: remapped at once
    E = "E"  #: 3.19+: remap prepared in setup, done after paging_init


def era_for(version: tuple[int, ...]) -> Era:
    major_minor = tuple(version[:2])
    if major_minor <= (3, 1):
        return Era.A
    if major_minor <= (3, 4):
        return Era.B
    if major_minor <= (3, 16):
        return Era.C
    if major_minor <= (3, 18):
        return Era.D
    return Era.E


def parse_version(text: str) -> tuple[int, ...]:
    """``"6.1.0-56-amd64"`` → (6, 1, 0); ``"3.8"`` → (3, 8)."""
    parts: list[int] = []
    for piece in text.replace("-", ".").split("."):
        digits = ""
        for ch in piece:
            if not ch.isdigit():
                break
            digits += ch
        if not digits:
            break
        parts.append(int(digits))
        if len(parts) == 3:
            break
    if not parts:
        raise ValueError(f"not a kernel version: {text!r}")
    return tuple(parts)


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
    notes: list[str] = field(default_factory=list)

    @property
    def hole_pages(self) -> int:
        return sum(r.pages for r in self.hole_ranges)

    @property
    def lost_pages(self) -> int:
        return self.nr_pages - self.dom0_pages

    def to_json(self) -> dict[str, object]:
        return {
            "era": self.era.value,
            "kernel_version": ".".join(map(str, self.kernel_version)),
            "nr_pages": self.nr_pages,
            "max_pages": self.max_pages,
            "hole_pages": self.hole_pages,
            "hole_ranges": [r.to_json() for r in self.hole_ranges],
            "freed_ranges": [r.to_json() for r in self.freed_ranges],
            "released_pages": self.released_pages,
            "populated_ranges": [r.to_json() for r in self.populated_ranges],
            "populated_pages": self.populated_pages,
            "remapped_pages": self.remapped_pages,
            "dom0_pages": self.dom0_pages,
            "balloon_current_kb": self.balloon_current_kb,
            "notes": list(self.notes),
        }


def has_ibft_reserve(version: tuple[int, ...], ibft: bool | None = None) -> bool:
    """6.5+ kernels built with CONFIG_ISCSI_IBFT_FIND (distribution kernels; not tinyconfig)
    reserve [0x80000, 0x100000) for the iBFT scan. ``ibft`` says what a log showed, if it did."""
    return version[:2] >= (6, 5) if ibft is None else ibft and version[:2] >= (6, 5)


def dom0_view(machine_map: Sequence[E820Entry], version: tuple[int, ...],
              ibft: bool | None = None) -> list[E820Entry]:
    """The map dom0 works from: 3.13+ treats UNUSABLE as RAM (xen_ignore_unusable); 6.5+ may
    reserve [0x80000, 0x100000) for the iBFT scan before anything else looks at the map."""
    entries = list(machine_map)
    if version[:2] >= (3, 13):
        entries = [
            E820Entry(e.start, e.end, E820Type.RAM) if e.type is E820Type.UNUSABLE else e
            for e in entries
        ]
    if has_ibft_reserve(version, ibft):
        entries.append(IBFT_RESERVE)
    return sanitize(entries)


def ibft_seen(linux_map: Sequence[E820Entry]) -> bool | None:
    """Whether dom0's printed map shows the iBFT reservation: RAM at 0x80000 means no; None
    when the map does not say (no entry there)."""
    for e in linux_map:
        if e.start <= IBFT_RESERVE.start < e.end:
            return not e.is_ram
    return None


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
    out: list[PfnRange] = []
    for e in entries:
        if not e.is_ram or credits <= 0:
            continue
        start_pfn, end_pfn = pfn_up(e.start), pfn_down(e.end)
        if end_pfn <= nr:
            continue
        dest = max(nr, start_pfn)
        take = min(end_pfn - dest, credits)
        if take > 0:
            out.append(PfnRange(dest, dest + take))
            credits -= take
    return out


def _ram_pages_from(entries: Sequence[E820Entry], first_pfn: int) -> int:
    total = 0
    for e in entries:
        if e.is_ram:
            lo, hi = max(pfn_up(e.start), first_pfn), pfn_down(e.end)
            total += max(0, hi - lo)
    return total


def predict(
    machine_map: Sequence[E820Entry],
    nr_pages: int,
    max_pages: int | None,
    kernel_version: tuple[int, ...],
    ibft: bool | None = None,
) -> Prediction:
    """What a correct kernel of ``kernel_version`` does with ``machine_map`` and ``nr_pages``.

    ``max_pages`` is Xen's d->max_pages (UINT_MAX or None when ``dom0_mem`` had no ``max:``).
    ``ibft``: whether the kernel was built to reserve the iBFT area (None: assume a
    distribution kernel, which is).
    """
    era = era_for(kernel_version)
    view = dom0_view(machine_map, kernel_version, ibft)
    nr = min(nr_pages, MAXMEM_PFN)
    maxp = UINT_MAX if max_pages is None else max_pages
    holes = clip(nonram_areas(view), nr)
    pred = Prediction(
        era=era,
        kernel_version=tuple(kernel_version),
        nr_pages=nr,
        max_pages=maxp,
        e820=view,
        hole_ranges=holes,
    )
    hole_pages = pred.hole_pages
    ram_above = _ram_pages_from(view, nr)

    if era is Era.A:
        pred.freed_ranges = clip(_gap_ranges(view), nr)
        pred.released_pages = sum(r.pages for r in pred.freed_ranges)
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
        pred.populated_pages = sum(r.pages for r in pred.populated_ranges)
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
    # Balloon current_kb at boot (drivers/xen/balloon.c, 3.2–6.14 for PV): nr − released
    # pages not given back. Older and newer formulas depend on more than the map: not modelled.
    if (3, 2) <= tuple(kernel_version[:2]) <= (6, 14):
        pred.balloon_current_kb = 4 * pred.dom0_pages
    return pred


# -- the machine map a scenario makes ------------------------------------------------------------

#: where SeaBIOS ends the first RAM entry (its EBDA below): as seen on QEMU 7.2 / SeaBIOS 1.16,
#: loading Xen directly vs booting GRUB from a CD (which takes 1 KiB more)
SEABIOS_LOW_END = {"direct": 0x9FC00, "grub": 0x9F800}
#: SeaBIOS reserves the top of RAM below 4 GiB for its tables: 128 KiB, and one page more above
#: 64 GiB of guest RAM (seen: 64 GiB → 0x20000, 65 GiB to 1 TiB → 0x21000; QEMU describes RAM
#: to SMBIOS in 16 GiB devices, so the tables likely outgrow a page past four of them)
SEABIOS_TOP_RESERVE = 0x20000


def seabios_top_reserve(memory: int) -> int:
    return SEABIOS_TOP_RESERVE + (0x1000 if memory > 64 << 30 else 0)
BIOS_ROM = E820Entry(0xFFFC0000, 1 << 32, E820Type.RESERVED)
#: QEMU reserves AMD's HyperTransport window for AMD-vendor CPUs ("-cpu max" under TCG)
AMD_HT_HOLE = E820Entry(0xFD00000000, 1 << 40, E820Type.RESERVED)


@dataclass(frozen=True)
class HoleSpec:
    start: int
    end: int
    kind: str

    def to_json(self) -> dict[str, object]:
        return {"start": self.start, "end": self.end, "kind": self.kind,
                "pages": (self.end - self.start) >> 12}


#: QEMU's default 64-bit PCI window per machine (i440fx 2 GiB, q35 32 GiB)
PCI_HOLE64 = {"pc": 2 << 30, "q35": 32 << 30}


def high_ram_start(high: int, machine_type: str = "pc") -> int:
    """QEMU 7.2 moves RAM above 4 GiB to 1 TiB when, with an AMD vCPU ("-cpu max" under TCG),
    it and the 64-bit PCI window would reach AMD's HyperTransport range (seen with 1 TiB)."""
    end = (1 << 32) + high
    hole64_start = -(-end // (1 << 30)) * (1 << 30)
    if hole64_start + PCI_HOLE64.get(machine_type, 2 << 30) - 1 >= AMD_HT_HOLE.start:
        return 1 << 40
    return 1 << 32


def seabios_map(low: int, high: int, boot: str, holes: Sequence[HoleSpec] = (),
                machine_type: str = "pc") -> list[E820Entry]:
    """The E820 that Xen reads on QEMU + SeaBIOS: deterministic for a machine and RAM size.
    Holes punched by GRUB (cutmem, and badram with a 32-bit mask) are plain gaps under BIOS."""
    top = seabios_top_reserve(low + high)
    ram = [E820Entry(0, SEABIOS_LOW_END[boot], E820Type.RAM),
           E820Entry(0x100000, low - top, E820Type.RAM)]
    if high:
        start = high_ram_start(high, machine_type)
        ram.append(E820Entry(start, start + high, E820Type.RAM))
    for h in holes:
        cut: list[E820Entry] = []
        for e in ram:
            if h.end <= e.start or h.start >= e.end:
                cut.append(e)
                continue
            if e.start < h.start:
                cut.append(E820Entry(e.start, h.start, E820Type.RAM))
            if h.end < e.end:
                cut.append(E820Entry(h.end, e.end, E820Type.RAM))
        ram = cut
    reserved = [E820Entry(SEABIOS_LOW_END[boot], 0xA0000, E820Type.RESERVED),
                E820Entry(0xF0000, 0x100000, E820Type.RESERVED),
                E820Entry(low - top, low, E820Type.RESERVED),
                BIOS_ROM, AMD_HT_HOLE]
    return sanitize(ram + reserved)


def ram_pages(entries: Sequence[E820Entry]) -> list[tuple[int, int]]:
    """RAM as whole pages (what dom0 can use): bootloaders take a KiB or two below 640 KiB
    (GRUB's INT 15h hook grows with the number of holes), which no page count sees."""
    out = []
    for e in sanitize(entries):
        if e.is_ram and pfn_down(e.end) > pfn_up(e.start):
            out.append((pfn_up(e.start), pfn_down(e.end)))
    return out


@dataclass
class ScenarioPrediction:
    """What a scenario must produce, from the scenario alone (``rig predict``)."""

    scenario: str
    boot: str
    machine_map: list[E820Entry]
    holes: list[HoleSpec]
    nr_pages: int | None
    max_pages: int | None
    kernel_version: tuple[int, ...] | None
    prediction: Prediction | None
    #: the same layout on a kernel without the seed's fix (era B): what dom0 would lose
    without_fix: Prediction | None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "scenario": self.scenario,
            "boot": self.boot,
            "machine_map": [e.to_json() for e in self.machine_map],
            "holes": [h.to_json() for h in self.holes],
            "nr_pages": self.nr_pages,
            "max_pages": self.max_pages,
            "kernel_version": ".".join(map(str, self.kernel_version or ())) or None,
            "prediction": self.prediction.to_json() if self.prediction else None,
            "without_fix": self.without_fix.to_json() if self.without_fix else None,
            "notes": list(self.notes),
        }


def predict_scenario(s: Scenario,
                     recorded: Sequence[E820Entry] | None = None) -> ScenarioPrediction:
    """``recorded``: for OVMF, whose own ranges are its business, the map an earlier boot of the
    same firmware, machine and RAM size printed."""
    holes = [HoleSpec(h.start, h.end, h.kind) for h in sorted(s.holes, key=lambda h: h.start)]
    notes: list[str] = []
    if s.firmware == "bios":
        mmap = seabios_map(s.low_ram, s.high_ram, s.boot, holes, s.machine_type)
    elif recorded:
        mmap = sanitize(recorded)
        notes.append("OVMF's map as recorded from an earlier boot of the same firmware, machine "
                     "and RAM size (OVMF places its own NVS and reserved ranges)")
    else:
        mmap = []
        notes.append("no OVMF map recorded for this machine and RAM size yet: the first "
                     "`rig run` records it")
    nr_pages = max_pages = None
    if s.dom0_mem:
        mem = Dom0Mem.parse(s.dom0_mem)
        nr_pages = Dom0Mem.absolute_pages(mem.amount)
        max_pages = mem.max_pages
        if nr_pages is None and max_pages is not None:
            nr_pages = max_pages  # "max:X" alone: Xen gives dom0 min(default, X)
            notes.append("dom0_mem has max: only; assuming dom0 gets all of it")
    if nr_pages is None:
        notes.append("dom0's nr_pages depends on Xen's default (all free memory but 1/16, at "
                     "most 128 MiB): the counts are known only from a boot's Dom0 alloc. lines")
    try:
        version: tuple[int, ...] | None = parse_version(s.kernel)
    except ValueError:
        version = None
        notes.append(f"dom0.kernel {s.kernel!r} is not a version: the era is known after boot")
    pred = without = None
    if nr_pages is not None and mmap:
        if version is not None:
            pred = predict(mmap, nr_pages, max_pages, version)
        without = predict(mmap, nr_pages, max_pages, (3, 2))
    return ScenarioPrediction(s.name, s.boot, mmap, holes, nr_pages, max_pages, version, pred,
                              without, notes)
