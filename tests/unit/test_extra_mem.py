"""rig's finding in xen_memory_setup()'s extra memory (rig.model.extra_mem), against the source
it models (arch/x86/xen/setup.c of Debian's 6.1.192 and 6.12.118) and the registers of the
BUG on Debian's 6.12.118 (tests/boots/extra-mem-unaligned-6.12: RBX 0x20001, RDX 0x7f, RSI
0x80: xen_del_extra_mem(0x20001, 0x80) on a region of 0x7f pages)."""

from __future__ import annotations

from rig.domain.e820 import E820Entry, E820Type
from rig.domain.pages import PfnRange
from rig.domain.scenario_file import load
from rig.model import extra_mem
from rig.model.kernel import ALL_FIXES, fixes_of
from rig.model.prediction import predict_scenario
from rig.model.pv import MAXMEM_PFN, predict

RAM, RES = E820Type.RAM, E820Type.RESERVED
UINT_MAX = 2**32 - 1
WITHOUT = ALL_FIXES - {"extra-mem-whole-pages"}


def two_gib(reserved_end: int) -> list[E820Entry]:
    """pc, 2 GiB, a reserved entry [512 MiB, reserved_end), the 6.12 kernel's iBFT area."""
    return [E820Entry(0, 0x9FC00, RAM), E820Entry(0x80000, 0x100000, RES),
            E820Entry(0x100000, 0x20000000, RAM), E820Entry(0x20000000, reserved_end, RES),
            E820Entry(reserved_end, 0x7FFE0000, RAM), E820Entry(0x7FFE0000, 0x80000000, RES)]


def test_a_ram_start_inside_a_page_leaves_the_region_a_page_short() -> None:
    nr = 0x20000  # dom0_mem=max:512M: max_pages = nr_pages
    short = extra_mem.check(two_gib(0x20000038), nr, nr, MAXMEM_PFN, 0x80, whole_pages=False)
    assert short is not None
    assert short.regions == (PfnRange(0x20001, 0x20080),)  # RDX: 0x7f pages from RBX 0x20001
    assert short.destinations == (PfnRange(0x20001, 0x20081),)  # RSI: 0x80 remapped there
    assert short.pfn == 0x20080
    # the fix counts from the first whole page; a page-aligned RAM start never was affected;
    # nor is a dom0 whose max_pages leaves the budget room (dom0_mem without max:)
    assert extra_mem.check(two_gib(0x20000038), nr, nr, MAXMEM_PFN, 0x80, True) is None
    assert extra_mem.check(two_gib(0x20001000), nr, nr, MAXMEM_PFN, 0x80, False) is None
    assert extra_mem.check(two_gib(0x20000038), nr, UINT_MAX, MAXMEM_PFN, 0x80, False) is None


def test_the_issues_layout_is_one_page_short_on_each_kernel() -> None:
    """The fuzzer's layout, cut to one entry: pc, 50944M, RAM below 4 GiB to 0x35000000,
    dom0_mem=max:12992M, reserved [0x36dcc1784, +0x28f68b4). The remap fills the RAM between
    nr_pages and the entry, then the RAM after it from pfn 0x3705b9; 6.12+ remaps the iBFT
    area's 0x1f pages more than 6.1."""
    s = load("tests/boot/scenarios/extra-mem-50g.toml")
    sp = predict_scenario(s)
    assert sp.nr_pages == 0x32C000
    for version, region in (((6, 1, 192), 0x893BF), ((6, 12, 118), 0x893DE),
                            ((7, 2, 13), 0x893DE)):
        p = predict(sp.machine_map, sp.nr_pages, sp.nr_pages, version, None, WITHOUT)
        assert p.short_region is not None
        assert p.short_region.regions[-1] == PfnRange(0x3705B9, 0x3705B9 + region)
        assert p.short_region.destinations[-1].pages == region + 1
        assert predict(sp.machine_map, sp.nr_pages, sp.nr_pages, version).short_region is None
    assert "extra-mem-whole-pages" not in fixes_of((7, 2, 13))
