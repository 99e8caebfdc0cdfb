"""Where QEMU 7.2 puts a guest's RAM: the split below 4 GiB per machine type, the legacy pc type
rig picks for splits past 3 GiB, and where the RAM above 4 GiB starts. Pure.

A scenario asks for RAM; these rules (hw/i386/pc_piix.c, pc_q35.c, pc.c) say where it lands,
before any firmware takes its share (rig.model.firmware).
"""

from __future__ import annotations

from rig.domain.e820 import E820Entry, E820Type
from rig.domain.units import GIB4, GiB, TiB

# RAM below 4 GiB ends here at most: measured on pc (pc-i440fx-1.7) 2026-11-30, where 16 GiB
# guests booted with the split at 0xfe000000; above, the PCI hole would not hold the BIOS ROM
# and the APICs (0xfec00000). q35 keeps at most 0xb0000000 (its MMCONFIG window follows).
MAX_BELOW_4G = 0xFE000000
Q35_MAX_BELOW_4G = 0xB0000000
#: QEMU's pc machines move a split above this down to it when RAM goes past it (gigabyte_align)
GIGABYTE_ALIGN_CAP = 0xC0000000
#: the QEMU machine type rig uses for RAM below 4 GiB past 3 GiB with RAM above 4 GiB: the
#: newest pc type without gigabyte_align. Its QEMU builds no ACPI tables (SeaBIOS makes its
#: own) and reserves no AMD HyperTransport range; SeaBIOS then kept 2 pages at the top of low
#: RAM (seen 2026-11-30 on 16 GiB guests with the split at 0xcac00000, 0xe0000000,
#: 0xf0000000, 0xfc000000 and 0xfe000000)
LEGACY_PC = "pc-i440fx-1.7"
#: QEMU reserves AMD's HyperTransport window for AMD-vendor CPUs ("-cpu max" under TCG)
AMD_HT_HOLE = E820Entry(0xFD00000000, TiB, E820Type.RESERVED)
#: QEMU's default 64-bit PCI window per machine (i440fx 2 GiB, q35 32 GiB)
PCI_HOLE64 = {"pc": 2 * GiB, "q35": 32 * GiB}


def qemu_machine(machine_type: str, memory: int, below_4g: int | None) -> str:
    """The QEMU machine type for a scenario's: its own, except for a pc whose asked-for RAM
    below 4 GiB ends past 3 GiB with RAM above 4 GiB. Today's pc types align that split to
    1 GiB (3 GiB); pc-i440fx-1.7, the newest without gigabyte_align, keeps it."""
    if machine_type == "pc" and below_4g is not None and memory >= below_4g > GIGABYTE_ALIGN_CAP:
        return LEGACY_PC
    return machine_type


def low_ram(machine_type: str, memory: int, below_4g: int | None) -> int:
    """RAM below 4 GiB as QEMU 7.2 splits it (hw/i386/pc_piix.c, pc_q35.c)."""
    if machine_type == "q35":
        lowmem = 0x80000000 if memory >= 0xB0000000 else 0xB0000000
        if below_4g is not None and lowmem > below_4g:
            lowmem = below_4g
    else:
        lowmem = below_4g if below_4g is not None else 0xE0000000
        # pc machines move a split above 3 GiB down to 3 GiB (gigabyte_align), except the
        # legacy machine type rig picks when the scenario asks for such a split
        if memory >= lowmem > GIGABYTE_ALIGN_CAP and \
                qemu_machine(machine_type, memory, below_4g) != LEGACY_PC:
            lowmem = GIGABYTE_ALIGN_CAP
    return min(memory, lowmem)


def high_ram_start(high: int, machine_type: str = "pc") -> int:
    """QEMU 7.2 moves RAM above 4 GiB to 1 TiB when, with an AMD vCPU ("-cpu max" under TCG),
    it and the 64-bit PCI window would reach AMD's HyperTransport range (seen with 1 TiB)."""
    if machine_type == LEGACY_PC:
        return GIB4  # the 1 TiB move came with QEMU 7.1's machine types
    end = GIB4 + high
    hole64_start = -(-end // GiB) * GiB
    if hole64_start + PCI_HOLE64.get(machine_type, 2 * GiB) - 1 >= AMD_HT_HOLE.start:
        return TiB
    return GIB4
