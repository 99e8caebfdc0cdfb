"""rig's finding in xen_memory_setup()'s extra memory (rig.model.extra_mem), against the source
it models (arch/x86/xen/setup.c of Debian's 6.1.192 and 6.12.118) and the registers of the
BUG on Debian's 6.12.118 (tests/recorded/extra-mem-unaligned-6.12: RBX 0x20001, RDX 0x7f, RSI
0x80: xen_del_extra_mem(0x20001, 0x80) on a region of 0x7f pages); and its other face, the
E820 table the 4 KiB walk overflows, against the counts Debian's kernels printed
(tests/recorded/extra-mem-table-full-*, the 12-06 campaign's 56 GiB layout)."""

from __future__ import annotations

from rig.domain.e820 import E820Entry, E820Type
from rig.domain.kconfig import KernelConfig
from rig.domain.pages import PfnRange
from rig.domain.scenario_file import load
from rig.model import extra_mem
from rig.model.kernel import ALL_FIXES, Kernel, fixes_of
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
    budget = extra_mem.budget(nr, nr, MAXMEM_PFN, 0x80)
    assert budget == 0x80
    short = extra_mem.short_region(two_gib(0x20000038), nr, budget, 0x80, whole_pages=False)
    assert short is not None
    assert short.regions == (PfnRange(0x20001, 0x20080),)  # RDX: 0x7f pages from RBX 0x20001
    assert short.destinations == (PfnRange(0x20001, 0x20081),)  # RSI: 0x80 remapped there
    assert short.pfn == 0x20080
    # the fix counts from the first whole page; a page-aligned RAM start never was affected;
    # nor is a dom0 whose max_pages leaves the budget room (dom0_mem without max:)
    assert extra_mem.short_region(two_gib(0x20000038), nr, budget, 0x80, True) is None
    assert extra_mem.short_region(two_gib(0x20001000), nr, budget, 0x80, False) is None
    roomy = extra_mem.budget(nr, UINT_MAX, MAXMEM_PFN, 0x80)
    assert roomy == 10 * nr
    assert extra_mem.short_region(two_gib(0x20000038), nr, roomy, 0x80, False) is None


def test_the_issues_layout_is_one_page_short_on_each_kernel() -> None:
    """The fuzzer's layout, cut to one entry: pc, 50944M, RAM below 4 GiB to 0x35000000,
    dom0_mem=max:12992M, reserved [0x36dcc1784, +0x28f68b4). The remap fills the RAM between
    nr_pages and the entry, then the RAM after it from pfn 0x3705b9; 6.12+ remaps the iBFT
    area's 0x1f pages more than 6.1."""
    s = load("tests/live/scenarios/extra-mem-50g.toml")
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


def _table_full(version: tuple[int, ...], limit: int | None = None) -> extra_mem.TableFull | None:
    s = load("rig/regressions/layouts/extra-mem-table-full.toml")
    sp = predict_scenario(s)
    assert sp.nr_pages is not None
    kernel = Kernel(version, e820_entries=limit)
    return predict(sp.machine_map, sp.nr_pages, sp.max_pages, kernel, None, WITHOUT).table_full


def test_the_walk_overflows_the_table_by_the_lines_the_kernels_printed() -> None:
    """Debian's 7.2.13 printed 1811 "E820 table full" lines after 93179 dropped ones, two of
    them its banner and command line: 94988; 6.1.192, whose budget is 31 pages smaller (no
    iBFT area to remap), 1812 after 93210: 95020."""
    for version, lines, steps in (((7, 2, 13), 94988, 98176), ((6, 1, 192), 95020, 98207)):
        full = _table_full(version)
        assert full is not None
        assert (full.lines, full.steps, full.limit) == (lines, steps, 3200)
        assert full.walked[1] == 0x40000000
        # what the kernels printed as ignored, the budget's last page first
        assert full.ignored == ((0x48000000, 0x48001000), (0x7FFE0000, 0x80000000),
                                (0xFEC00000, 0xFEC01000), (0xFEE00000, 0xFEE01000),
                                (0xFFFC0000, 0x100000000), (0xFD00000000, 0x10000000000),
                                extra_mem.ISA)
        assert full.unmapped_extra == (PfnRange(0x48000, 0x48001),)
    # a correct kernel walks nothing
    s = load("rig/regressions/layouts/extra-mem-table-full.toml")
    sp = predict_scenario(s)
    assert sp.nr_pages is not None
    assert predict(sp.machine_map, sp.nr_pages, sp.max_pages, (7, 2, 13)).table_full is None


def test_the_table_size_comes_from_the_kernels_configuration() -> None:
    tiny = Kernel.e820_entries_of(KernelConfig.parse("# CONFIG_NUMA is not set\n", "tiny"))
    debian = Kernel.e820_entries_of(KernelConfig.parse(
        "CONFIG_NUMA=y\nCONFIG_NODES_SHIFT=10\n", "debian"))
    assert (tiny, debian, Kernel.e820_entries_of(None)) == (131, 3200, None)
    full = _table_full((7, 2, 13), tiny)
    assert full is not None and full.lines == 94988 + 3200 - 131
    # a walk shorter than the table's room overflows nothing
    assert _table_full((7, 2, 13), 10**6) is None


def test_a_walk_whose_last_step_wraps_is_not_modelled() -> None:
    """The walk's last step runs from addr + (n - 1) * 4 KiB to the entry's end; where that end
    lies further into its page than the walk's start, the kernel's n_pfns is -1 there (the
    budget grows, a region of ULONG_MAX pages is added): the model says nothing rather than a
    wrong count (a review found the step's start taken from the end)."""
    assert extra_mem._walk(0x40000038, 0x40002040) is None
    assert extra_mem._walk(0x40000038, 0x40002000) == 2  # an end on a page: no wrap
    assert extra_mem._walk(0x40000038, 0x40002010) == 2  # an end short of the start's offset


def test_xens_io_pages_merge_with_a_reserved_neighbour() -> None:
    """XENMEM_machine_memory_map reports the IO-APIC page after a reserved entry that ends at
    0xfec00000 as an entry of its own; Linux's e820__update_table() merges the two."""
    view = [E820Entry(0, 0x80000000, RAM), E820Entry(0xFE000000, 0xFEC00000, RES)]
    merged = extra_mem.machine_memory_map(view)
    assert merged == [E820Entry(0, 0x80000000, RAM), E820Entry(0xFE000000, 0xFEC01000, RES),
                      E820Entry(0xFEE00000, 0xFEE01000, RES)]


def test_a_wrapped_walk_is_an_overflow_whose_counts_are_not_modelled() -> None:
    """The 12-07 campaign's ae53b5fecbad: the kernel overflowed its table and BUGged, where
    the walk's last step wraps n_pfns to -1; the model says the walk happens and that it does
    not count past it, rather than that no kernel overflows."""
    ram_end = 0x40002040  # further into its page than the walk's start, 0x38
    view = [E820Entry(0, 0x9FC00, RAM), E820Entry(0x100000, 0x20000000, RAM),
            E820Entry(0x20000000, 0x20000038, RES), E820Entry(0x20000038, ram_end, RAM)]
    full = extra_mem.table_full(view, 0x20000, 0x20000 // 2, 3200)
    assert full is not None and full.wrapped and "n_pfns = -1" in full.message()
