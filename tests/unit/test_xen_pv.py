"""Where Xen puts a PV dom0's kernel, start info and page tables, and how large its first
allocation is (rig.model.xen_pv), against what Xen printed on real boots."""

from __future__ import annotations

import pytest

from rig.domain.e820 import E820Entry, E820Type
from rig.domain.scenario_file import load
from rig.domain.units import GiB, MiB
from rig.layouts.drawn import Draw, xen_cannot_build
from rig.model.firmware import emulated_machine
from rig.model.kernel import KernelLayout
from rig.model.xen_pv import (
    VIRT_BASE,
    allocations,
    first_allocation,
    has_aligned_ram,
    initial_mapping,
)
from tests.conftest import TESTS

RAM, NVS = E820Type.RAM, E820Type.NVS


@pytest.mark.parametrize(("image_end", "page_tables", "total_end", "first"), [
    # Debian's 7.2.13 (the 12-07 campaign's boots): "Page tables: ffffffff84801000->
    # ffffffff8482a000", "TOTAL: ffffffff80000000->ffffffff84c00000"
    (0x4800000, (0x4801000, 0x482A000), 0x4C00000, 128 * MiB),
    # Debian's 6.12.118 (tests/recorded/nvs-swap-target-unaligned-6.12)
    (0x4200000, (0x4201000, 0x4226000), 0x4400000, 128 * MiB),
    # rig's minimal 7.2 build (tests/recorded/start-info-page-fixed-7.2)
    (0x1A11000, (0x1A12000, 0x1A23000), 0x1C00000, 32 * MiB),
])
def test_the_initial_mapping_as_xen_printed_it(image_end: int, page_tables: tuple[int, int],
                                               total_end: int, first: int) -> None:
    alloc = allocations(KernelLayout(0x1000000, image_end, image_end, image_end))
    assert alloc.page_tables == page_tables
    assert VIRT_BASE + initial_mapping(image_end)[2] == VIRT_BASE + total_end
    assert first_allocation(image_end) == first


def test_an_aligned_block_must_be_ram_end_to_end() -> None:
    whole = [E820Entry(0x100000, 1 * GiB, RAM)]
    assert has_aligned_ram(whole, 128 * MiB)
    # an entry in every aligned 128 MiB block: 896 MiB of RAM, no block of 128 MiB
    cut = [E820Entry(0x100000, 1 * GiB, RAM),
           *(E820Entry(b + 0x7FF000, b + 0x800000, NVS) for b in range(0, 1 * GiB, 128 * MiB))]
    assert not has_aligned_ram(cut, 128 * MiB)
    assert has_aligned_ram(cut, 4 * MiB)
    # RAM entries that touch are one run of pages to the buddy allocator
    split = [E820Entry(0, 64 * MiB, RAM), E820Entry(64 * MiB, 128 * MiB, RAM)]
    assert has_aligned_ram(split, 128 * MiB)


def test_the_generator_draws_no_layout_xen_cannot_build_dom0_on() -> None:
    """The 12-07 campaign's scenario 257 panicked Xen on both kernels before any kernel ran;
    the draw now refuses it, for the largest Debian image as for its own kernel's."""
    s = load(str(TESTS / "fixtures" / "fuzz-20261207" / "xen-no-aligned-block.toml"))
    assert not has_aligned_ram(emulated_machine(s), 128 * MiB)
    assert xen_cannot_build(s, Draw(kernel="7.2", xen="4.20"))
    assert not xen_cannot_build(s, Draw(kernel="7.2", xen="4.20", mode="pvh"))
