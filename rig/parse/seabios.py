"""SeaBIOS's debug console (QEMU's ``-debugcon``, I/O port 0x402): its final E820 map, which it
prints before it boots (``e820_prepboot`` → ``dump_map``, src/e820map.c)::

    e820 map has 8 items:
      0: 0000000000000000 - 000000000009fc00 = 1 RAM
      3: 0000000020000000 - 0000000020003000 = 4 NVS

That map is the firmware's own (rig's test firmware's entries in it): what every later reader
of INT 15h E820 sees, QEMU's multiboot loader and Xen among them. And the entries it could not
keep: its table holds BUILD_MAX_E820 = 32 (src/config.h), and ``insert_e820()`` drops one more
with ``warn_noalloc()`` (src/e820map.c:34, src/output.c:544): "WARNING - Unable to allocate
resource at insert_e820:35!". Pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from rig.domain.e820 import E820Entry, E820Type

_HEADER = re.compile(r"^e820 map has (\d+) items:\s*$")
_ENTRY = re.compile(r"^\s*\d+: ([0-9a-fA-F]{16}) - ([0-9a-fA-F]{16}) = (\d+) ")
#: src/e820map.h
_TYPES = {1: E820Type.RAM, 2: E820Type.RESERVED, 3: E820Type.ACPI, 4: E820Type.NVS,
          5: E820Type.UNUSABLE}


_DROPPED = re.compile(r"Unable to allocate resource at insert_e820:\d+")


@dataclass(frozen=True)
class SeabiosLog:
    """What a saved debug console says of the map: the last complete map SeaBIOS printed
    (None: none), and how many entries its full table dropped."""

    map: list[E820Entry] | None
    dropped: int = 0


def read_file(path: Path) -> SeabiosLog | None:
    """A saved debug console (a run's firmware.log) read; None without the file."""
    if not path.is_file():
        return None
    with open(path, errors="replace") as f:
        lines = f.readlines()
    return SeabiosLog(e820_map(lines), sum(1 for ln in lines if _DROPPED.search(ln)))


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
