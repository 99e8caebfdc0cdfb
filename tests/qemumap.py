"""QEMU pc with 2 GiB, its map as Xen prints it: the worked example of docs/log-formats.md §1.1
(shared between tests)."""

from __future__ import annotations

from rig.domain.e820 import E820Entry, E820Type

RAM, RES = E820Type.RAM, E820Type.RESERVED

QEMU_2G = [
    E820Entry(0, 0x9FC00, RAM),
    E820Entry(0x9FC00, 0xA0000, RES),
    E820Entry(0xF0000, 0x100000, RES),
    E820Entry(0x100000, 0x7FFE0000, RAM),
    E820Entry(0x7FFE0000, 0x80000000, RES),
    E820Entry(0xFFFC0000, 0x100000000, RES),
]
