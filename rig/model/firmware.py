"""The firmware's E820 on QEMU, as rig emulates it, and the holes GRUB punches into it.

Pure. SeaBIOS's map is deterministic for a machine type and RAM size up to a few pages of its
own (the top of low RAM varies: docs/facts.md, "SeaBIOS's reservation at the top of low RAM
varies"). A live boot therefore reads the firmware's real map where it can (GRUB's ``lsmmap``
before it punches the holes, or Xen's own map when nothing was punched) and compares it with
this emulation: a difference is rig's to explain, never the kernel's fault.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rig.domain.e820 import E820Entry, E820Type, layered, sanitize
from rig.domain.pages import ram_pages
from rig.domain.qemu_ram import AMD_HT_HOLE, LEGACY_PC, high_ram_start
from rig.domain.scenario import TYPED, Scenario
from rig.domain.units import GIB4

#: where SeaBIOS ends the first RAM entry (its EBDA below): as seen on QEMU 7.2 / SeaBIOS 1.16,
#: loading Xen directly vs booting GRUB from a CD (which takes 1 KiB more)
SEABIOS_LOW_END = {"direct": 0x9FC00, "grub": 0x9F800}
#: SeaBIOS reserves the top of RAM below 4 GiB for its tables: 128 KiB, and one page more above
#: 64 GiB of guest RAM (seen: 64 GiB → 0x20000, 65 GiB to 1 TiB → 0x21000; QEMU describes RAM
#: to SMBIOS in 16 GiB devices, so the tables likely outgrow a page past four of them). Seen
#: 33 pages instead of 32 on some q35 boots: the reason is not pinned down, which is why a live
#: boot reads the real map.
SEABIOS_TOP_RESERVE = 0x20000
BIOS_ROM = E820Entry(0xFFFC0000, GIB4, E820Type.RESERVED)
#: on the legacy pc type (rig.domain.qemu_ram.LEGACY_PC) SeaBIOS kept 2 pages at the top of
#: low RAM (seen 2026-11-30 on 16 GiB guests, five splits from 0xcac00000 to 0xfe000000)
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
    """A hole of the scenario: a gap (GRUB's cutmem or badram, or rig's test firmware removing
    the range), or a typed entry rig's test firmware adds at exact bounds."""

    start: int
    end: int
    kind: str

    @property
    def type(self) -> E820Type | None:
        return TYPED.get(self.kind)


#: what SeaBIOS reserves on q35 besides (src/fw/pciinit.c, 1.16.2): the MMCONFIG window
#: (mch_mem_addr_setup(), :494) and the ICH9 root complex's registers (RCBA, :212); Xen's map
#: has both. Measured: on each of the 12-07 campaign's 135 q35 direct boots, SeaBIOS's map held
#: exactly these two entries more than the model's did before
Q35_RESERVED = (E820Entry(0xB0000000, 0xC0000000, E820Type.RESERVED),
                E820Entry(0xFED1C000, 0xFED20000, E820Type.RESERVED))


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
    if machine_type == "q35":
        entries += Q35_RESERVED
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


def with_entries(firmware: Sequence[E820Entry], holes: Sequence[HoleSpec]) -> list[E820Entry]:
    """The firmware's map once rig's test firmware has applied the scenario's entries (in
    their order, after QEMU's own map: rig_e820() in images/seabios-rig-e820.patch). Each is
    SeaBIOS's e820_add (src/e820map.c): [start, end) becomes one entry of its type whatever
    lay there (split, cut or dropped), or nothing at all (a gap: e820_remove); adjacent
    entries of one type merge. So a later entry wins over an earlier one and over the
    firmware's: one sweep, however many entries."""
    return layered([(0, e.start, e.end, e.type) for e in sanitize(firmware)]
                   + [(i, h.start, h.end, h.type) for i, h in enumerate(holes, 1)])


def punch(firmware: Sequence[E820Entry], holes: Sequence[HoleSpec]) -> list[E820Entry]:
    """The map after GRUB's cutmem/badram: the holes' RAM is gone (a gap under BIOS); typed
    entries stay as they were."""
    fw = sanitize(firmware)
    cuts = sorted((h.start, h.end) for h in holes if h.end > h.start)
    out = [e for e in fw if not e.is_ram]
    for e in (e for e in fw if e.is_ram):
        at = e.start
        for lo, hi in cuts:  # a few RAM entries, each walked over the sorted cuts once
            if lo >= e.end:
                break
            if hi <= at:
                continue
            if lo > at:
                out.append(E820Entry(at, lo, E820Type.RAM))
            at = max(at, hi)
        if at < e.end:
            out.append(E820Entry(at, e.end, E820Type.RAM))
    return sanitize(out)


def emulated_machine(s: Scenario) -> list[E820Entry]:
    """The map Xen will see on a BIOS boot of ``s``, by rig's emulation: SeaBIOS's own, rig's
    test firmware's entries applied, GRUB's cuts made (rig predict's map, without a boot)."""
    entries = [HoleSpec(h.start, h.end, h.kind) for h in s.firmware_entries]
    cuts = [HoleSpec(h.start, h.end, h.kind) for h in s.grub_holes]
    fw = with_entries(seabios_map(s.low_ram, s.high_ram, s.boot, s.qemu_machine), entries)
    return punch(fw, cuts)


#: SeaBIOS's e820_list (src/config.h BUILD_MAX_E820): an entry past it is dropped, and with it
#: the rest of the RAM entry it split (measured: rig fuzz --seed 1, scenario 0, lost 6 GiB)
SEABIOS_MAX_E820 = 32


def firmware_problem(s: Scenario) -> str | None:
    """Why rig's test firmware cannot make ``s``'s map, if it cannot: more entries than SeaBIOS
    holds, or a hole over the top of RAM below 4 GiB, where SeaBIOS keeps its ACPI and SMBIOS
    tables (the firmware applies the entries last, so the guest would lose them)."""
    entries = [HoleSpec(h.start, h.end, h.kind) for h in s.firmware_entries]
    if not entries:
        return None
    # SeaBIOS inserts one entry at a time and drops what finds the table full, so the count
    # that matters is the largest on the way, not the last (a later entry may cover two)
    firmware = seabios_map(s.low_ram, s.high_ram, s.boot, s.qemu_machine)
    for i in range(1, len(entries) + 1):
        count = len(with_entries(firmware, entries[:i]))
        if count > SEABIOS_MAX_E820:
            return (f"holes: the firmware's map would have {count} entries once it has made "
                    f"{i} of the {len(entries)} entries and SeaBIOS holds "
                    f"{SEABIOS_MAX_E820} (BUILD_MAX_E820); use fewer holes, or machine.loader = "
                    "\"grub\" (GRUB cuts the gaps, the firmware makes only the typed entries)")
    keep = seabios_top_reserve(s.memory, s.qemu_machine, s.boot)
    lo = s.low_ram - keep
    for i, h in enumerate(s.holes):
        if h in s.firmware_entries and h.start < s.low_ram and lo < h.end:
            return (f"holes[{i}].start = {h.start:#x}: [{h.start:#x}, {h.end:#x}) reaches "
                    f"[{lo:#x}, {s.low_ram:#x}), the top of RAM below 4 GiB where SeaBIOS keeps "
                    "its tables; end the hole below it")
    return None


def ram_page_differences(got: Sequence[E820Entry], want: Sequence[E820Entry],
                         limit: int = 4) -> tuple[list[str], list[str]]:
    """Whole-page RAM ranges only in ``got``, and only in ``want`` (at most ``limit`` each)."""
    a, b = ram_pages(got), ram_pages(want)
    only_got = [f"pfn {r}" for r in a if r not in b][:limit]
    only_want = [f"pfn {r}" for r in b if r not in a][:limit]
    return only_got, only_want
