"""GRUB's own output before it starts Xen: the firmware's memory map (``lsmmap``, printed by
rig's grub.cfg before it punches any hole) and GRUB's error lines, each with the command it
belongs to (rig's grub.cfg announces every command as ``RIG: grub COMMAND``).

GRUB 2.06's commands/lsmmap.c prints one line per firmware entry, from the firmware's map
(grub_machine_mmap_iterate: on i386-pc the BIOS's INT 15h E820, not GRUB's modified view)::

    base_addr = 0x100000, length = 0x7fee0000, available RAM
    base_addr = 0xfffc0000, length = 0x40000, type = 0x2      (a type without a name)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rig.domain.e820 import E820Entry, E820Type

_MMAP = re.compile(r"^base_addr = 0x([0-9a-fA-F]+), length = 0x([0-9a-fA-F]+), (.+?)\s*$")
_ERROR = re.compile(r"^error: (.+)$")
_COMMAND = re.compile(r"^RIG: grub (.+)$")
_NAMES = {
    "available RAM": E820Type.RAM,
    "reserved RAM": E820Type.RESERVED,
    "ACPI reclaimable RAM": E820Type.ACPI,
    "ACPI non-volatile storage RAM": E820Type.NVS,
    "faulty RAM (BadRAM)": E820Type.UNUSABLE,
    "persistent RAM": E820Type.PERSISTENT,
    "persistent RAM (legacy)": E820Type.PERSISTENT,
}
#: GRUB's memory type numbers (include/grub/memory.h) for "type = 0x%x"
_NUMBERS = {1: E820Type.RAM, 2: E820Type.RESERVED, 3: E820Type.ACPI, 4: E820Type.NVS,
            5: E820Type.UNUSABLE, 7: E820Type.PERSISTENT, 12: E820Type.PERSISTENT}
#: what the file scan looks for (GRUB's own lines; its announced commands are /init's "RIG:")
HINTS = ("base_addr = ", "error: ")
#: commands whose failure changes the memory map the boot tests
LAYOUT_COMMANDS = ("lsmmap", "cutmem", "badram")


@dataclass
class GrubInfo:
    #: the firmware's map as GRUB read it, in GRUB's order
    mmap: list[E820Entry] = field(default_factory=list)
    #: GRUB's "error: ..." lines before Xen printed anything: (command, message)
    errors: list[tuple[str, str]] = field(default_factory=list)

    @property
    def layout_errors(self) -> list[tuple[str, str]]:
        return [e for e in self.errors if e[0].split()[0] in LAYOUT_COMMANDS]


class GrubParser:
    def __init__(self) -> None:
        self.info = GrubInfo()
        self.xen_started = False
        self._command = "?"

    def feed(self, text: str) -> None:
        if self.xen_started or not ("base_addr" in text or "error:" in text
                                    or "RIG: grub" in text):
            return
        text = text.strip()  # GRUB starts its lines with a CR
        if (m := _MMAP.match(text)) is not None:
            start, length, kind = int(m.group(1), 16), int(m.group(2), 16), m.group(3)
            num = re.match(r"type = 0x([0-9a-fA-F]+)$", kind)
            etype = _NUMBERS.get(int(num.group(1), 16), E820Type.OTHER) if num else \
                _NAMES.get(kind, E820Type.OTHER)
            if length:
                self.info.mmap.append(E820Entry(start, start + length, etype))
        elif (m := _COMMAND.match(text)) is not None:
            self._command = m.group(1)
        elif (m := _ERROR.match(text)) is not None:
            self.info.errors.append((self._command, m.group(1)))

    def finish(self) -> GrubInfo:
        return self.info
