"""The seed commit's 8 GB machine, as far as its commit message and the era-C example in
docs/log-formats.md pin it down (shared between tests)."""

from __future__ import annotations

from rig.domain.e820 import E820Entry, E820Type

RAM, RES, NVS = E820Type.RAM, E820Type.RESERVED, E820Type.NVS

# Printed in the seed commit message up to 0xbadc9000; the rest follows from its Freeing lines
# (bad80-badf4, badf6-bae7f, bb000-100000 are non-RAM, so badf4-badf6 and bae7f-bb000 are RAM)
# and from the era-C log (RAM 0x100000000-0x23fe00000 holds the populated pfns).
SEED_MAP = [
    E820Entry(0x0, 0x9E000, RAM),
    E820Entry(0x9EC00, 0x100000, RES),
    E820Entry(0x100000, 0x20000000, RAM),
    E820Entry(0x20000000, 0x20200000, RES),
    E820Entry(0x20200000, 0x40000000, RAM),
    E820Entry(0x40000000, 0x40200000, RES),
    E820Entry(0x40200000, 0xBAD80000, RAM),
    E820Entry(0xBAD80000, 0xBADC9000, NVS),
    E820Entry(0xBADC9000, 0xBADF4000, RES),
    E820Entry(0xBADF4000, 0xBADF6000, RAM),
    E820Entry(0xBADF6000, 0xBAE7F000, RES),
    E820Entry(0xBAE7F000, 0xBB000000, RAM),
    E820Entry(0xBB000000, 0xC0000000, RES),
    E820Entry(0x100000000, 0x23FE00000, RAM),
]
# dom0's nr_pages without dom0_mem in that log: the populate starts there
SEED_NR_PAGES = 0x1ACB65
# the seed's Freeing lines (pfn ranges, end exclusive) and their total
SEED_FREED = [(0x9E, 0x100), (0x20000, 0x20200), (0x40000, 0x40200), (0xBAD80, 0xBADF4),
              (0xBADF6, 0xBAE7F), (0xBB000, 0x100000)]
SEED_RELEASED = 283999
