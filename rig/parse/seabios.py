"""SeaBIOS's debug console (QEMU's ``-debugcon``, I/O port 0x402): its final E820 map, which it
prints before it boots (``e820_prepboot`` → ``dump_map``, src/e820map.c)::

    e820 map has 8 items:
      0: 0000000000000000 - 000000000009fc00 = 1 RAM
      3: 0000000020000000 - 0000000020003000 = 4 NVS

That map is the firmware's own (rig's test firmware's entries in it): what every later reader
of INT 15h E820 sees, QEMU's multiboot loader and Xen among them. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from rig.domain.e820 import E820Entry, E820Type

_HEADER = re.compile(r"^e820 map has (\d+) items:\s*$")
_ENTRY = re.compile(r"^\s*\d+: ([0-9a-fA-F]{16}) - ([0-9a-fA-F]{16}) = (\d+) ")
#: src/e820map.h
_TYPES = {1: E820Type.RAM, 2: E820Type.RESERVED, 3: E820Type.ACPI, 4: E820Type.NVS,
          5: E820Type.UNUSABLE}


def map_in_file(path: Path) -> list[E820Entry] | None:
    """``e820_map`` of a saved debug console (a run's firmware.log); None without the file."""
    if not path.is_file():
        return None
    with open(path, errors="replace") as f:
        return e820_map(f)


def e820_map(lines: Iterable[str]) -> list[E820Entry] | None:
    """The last complete map SeaBIOS printed; None when it printed none (or a cut one)."""
    found: list[E820Entry] | None = None
    block: list[E820Entry] = []
    expected = 0
    for raw in lines:
        text = raw.rstrip("\r\n")
        if (m := _HEADER.match(text)) is not None:
            expected, block = int(m.group(1)), []
            continue
        if expected and (m := _ENTRY.match(text)) is not None:
            start, end = int(m.group(1), 16), int(m.group(2), 16)
            block.append(E820Entry(start, end, _TYPES.get(int(m.group(3)), E820Type.OTHER)))
            if len(block) == expected:
                found, expected = block, 0
    return found
