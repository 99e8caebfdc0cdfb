"""The firmware's E820 on QEMU, as rig emulates it, and the holes GRUB punches into it.

Pure. SeaBIOS's map is deterministic for a machine type and RAM size up to a few pages of its
own (the top of low RAM varies: facts.md, "SeaBIOS's reservation at the top of low RAM
varies"). A live boot therefore reads the firmware's real map where it can (GRUB's ``lsmmap``
before it punches the holes, or Xen's own map when nothing was punched) and compares it with
this emulation: a difference is rig's to explain, never the kernel's fault.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rig.domain.e820 import E820Entry, E820Type, pfn_down, pfn_up, sanitize

#: where SeaBIOS ends the first RAM entry (its EBDA below): as seen on QEMU 7.2 / SeaBIOS 1.16,
#: loading Xen directly vs booting GRUB from a CD (which takes 1 KiB more)
SEABIOS_LOW_END = {"direct": 0x9FC00, "grub": 0x9F800}
#: SeaBIOS reserves the top of RAM below 4 GiB for its tables: 128 KiB, and one page more above
#: 64 GiB of guest RAM (seen: 64 GiB → 0x20000, 65 GiB to 1 TiB → 0x21000; QEMU describes RAM
#: to SMBIOS in 16 GiB devices, so the tables likely outgrow a page past four of them). Seen
#: 33 pages instead of 32 on some q35 boots: the reason is not pinned down, which is why a live
#: boot reads the real map.
SEABIOS_TOP_RESERVE = 0x20000
BIOS_ROM = E820Entry(0xFFFC0000, 1 << 32, E820Type.RESERVED)
#: QEMU reserves AMD's HyperTransport window for AMD-vendor CPUs ("-cpu max" under TCG)
AMD_HT_HOLE = E820Entry(0xFD00000000, 1 << 40, E820Type.RESERVED)
#: QEMU's default 64-bit PCI window per machine (i440fx 2 GiB, q35 32 GiB)
PCI_HOLE64 = {"pc": 2 << 30, "q35": 32 << 30}
#: the QEMU machine type rig uses for RAM below 4 GiB past 3 GiB (rig.scenario.LEGACY_PC).
#: Its QEMU builds no ACPI tables (SeaBIOS makes its own) and reserves no AMD HyperTransport
#: range; SeaBIOS then kept 2 pages at the top of low RAM (seen 2026-11-30 on 16 GiB guests
#: with the split at 0xcac00000, 0xe0000000, 0xf0000000, 0xfc000000 and 0xfe000000)
LEGACY_PC = "pc-i440fx-1.7"
LEGACY_TOP_RESERVE = 0x2000


#: SeaBIOS's AHCI driver keeps 1.5 KiB of high memory for each port with a drive (command list,
#: FIS and command table: src/hw/ahci.c, ahci_port_realloc, memalign_high). q35's CD-ROM, where
#: rig's GRUB ISO is, sits on ICH9's AHCI controller (pc's on PIIX IDE, which takes none); seen as
#: 33 pages instead of 32 on all 8 q35 GRUB boots of `rig fuzz 30 --seed 1` and none of the pc ones
AHCI_CDROM_RESERVE = 0x1000


def seabios_top_reserve(memory: int, machine: str = "pc", boot: str = "direct") -> int:
    if machine == LEGACY_PC:
        return LEGACY_TOP_RESERVE
    return (SEABIOS_TOP_RESERVE + (0x1000 if memory > 64 << 30 else 0)
            + (AHCI_CDROM_RESERVE if machine == "q35" and boot == "grub" else 0))


@dataclass(frozen=True)
class HoleSpec:
    """A hole GRUB punches: under BIOS, cutmem and badram (32-bit mask) both leave a gap."""

    start: int
    end: int
    kind: str

    def to_json(self) -> dict[str, object]:
        return {"start": self.start, "end": self.end, "kind": self.kind,
                "pages": (self.end - self.start) >> 12}


def high_ram_start(high: int, machine_type: str = "pc") -> int:
    """QEMU 7.2 moves RAM above 4 GiB to 1 TiB when, with an AMD vCPU ("-cpu max" under TCG),
    it and the 64-bit PCI window would reach AMD's HyperTransport range (seen with 1 TiB)."""
    if machine_type == LEGACY_PC:
        return 1 << 32  # the 1 TiB move came with QEMU 7.1's machine types
    end = (1 << 32) + high
    hole64_start = -(-end // (1 << 30)) * (1 << 30)
    if hole64_start + PCI_HOLE64.get(machine_type, 2 << 30) - 1 >= AMD_HT_HOLE.start:
        return 1 << 40
    return 1 << 32


def seabios_map(low: int, high: int, boot: str, machine_type: str = "pc") -> list[E820Entry]:
    """The E820 SeaBIOS gives on QEMU: RAM below 640 KiB, from 1 MiB to the top of low RAM
    less its tables, and above 4 GiB; its own reserved ranges around them."""
    top = seabios_top_reserve(low + high, machine_type, boot)
    entries = [E820Entry(0, SEABIOS_LOW_END[boot], E820Type.RAM),
               E820Entry(0x100000, low - top, E820Type.RAM),
               E820Entry(SEABIOS_LOW_END[boot], 0xA0000, E820Type.RESERVED),
               E820Entry(0xF0000, 0x100000, E820Type.RESERVED),
               E820Entry(low - top, low, E820Type.RESERVED),
               BIOS_ROM]
    if machine_type != LEGACY_PC:
        entries.append(AMD_HT_HOLE)
    if high:
        start = high_ram_start(high, machine_type)
        entries.append(E820Entry(start, start + high, E820Type.RAM))
    return sanitize(entries)


def requested_ram(low: int, high: int, machine_type: str = "pc") -> list[E820Entry]:
    """The RAM a QEMU machine has, before any firmware takes its share: conventional memory
    below 640 KiB, [1 MiB, low) and the RAM above 4 GiB where QEMU puts it."""
    entries = [E820Entry(0, 0xA0000, E820Type.RAM), E820Entry(0x100000, low, E820Type.RAM)]
    if high:
        start = high_ram_start(high, machine_type)
        entries.append(E820Entry(start, start + high, E820Type.RAM))
    return entries


def punch(firmware: Sequence[E820Entry], holes: Sequence[HoleSpec]) -> list[E820Entry]:
    """The map after GRUB's cutmem/badram: the holes' RAM is gone (a gap under BIOS); typed
    entries stay as they were."""
    out: list[E820Entry] = []
    for e in sanitize(firmware):
        pieces = [e]
        if e.is_ram:
            for h in holes:
                cut: list[E820Entry] = []
                for p in pieces:
                    if h.end <= p.start or h.start >= p.end:
                        cut.append(p)
                        continue
                    if p.start < h.start:
                        cut.append(E820Entry(p.start, h.start, E820Type.RAM))
                    if h.end < p.end:
                        cut.append(E820Entry(h.end, p.end, E820Type.RAM))
                pieces = cut
        out += pieces
    return sanitize(out)


def ram_pages(entries: Sequence[E820Entry]) -> list[tuple[int, int]]:
    """RAM as whole pages (what dom0 can use): bootloaders take a KiB or two below 640 KiB
    (GRUB's INT 15h hook grows with the number of holes), which no page count sees."""
    out = []
    for e in sanitize(entries):
        if e.is_ram and pfn_down(e.end) > pfn_up(e.start):
            out.append((pfn_up(e.start), pfn_down(e.end)))
    return out


def page_set(entries: Sequence[E820Entry], ram: bool = True) -> list[tuple[int, int]]:
    """Whole-page ranges of RAM (or of the typed, non-RAM entries, ``ram=False``)."""
    out = []
    for e in sanitize(entries):
        if e.is_ram != ram:
            continue
        lo, hi = (pfn_up(e.start), pfn_down(e.end)) if ram else (pfn_down(e.start), pfn_up(e.end))
        if hi > lo:
            out.append((lo, hi))
    return out


def subtract(a: Sequence[tuple[int, int]], b: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Page ranges in ``a`` and not in ``b`` (both sorted, each without overlaps)."""
    out: list[tuple[int, int]] = []
    for lo, hi in a:
        cur = lo
        for blo, bhi in b:
            if bhi <= cur or blo >= hi:
                continue
            if blo > cur:
                out.append((cur, blo))
            cur = max(cur, bhi)
            if cur >= hi:
                break
        if cur < hi:
            out.append((cur, hi))
    return out


def ram_differences(got: Sequence[E820Entry], want: Sequence[E820Entry],
                    limit: int = 4) -> tuple[list[str], list[str]]:
    """Whole-page RAM ranges only in ``got``, and only in ``want`` (at most ``limit`` each)."""
    a, b = ram_pages(got), ram_pages(want)
    only_got = [f"pfn {lo:x}-{hi:x}" for lo, hi in a if (lo, hi) not in b][:limit]
    only_want = [f"pfn {lo:x}-{hi:x}" for lo, hi in b if (lo, hi) not in a][:limit]
    return only_got, only_want
