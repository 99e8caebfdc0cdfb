from __future__ import annotations

from pathlib import Path

import pytest

from rig.domain.e820 import E820Entry, E820Type, sanitize
from rig.domain.pages import PfnRange, clip, nonram_areas
from rig.domain.units import parse_size
from tests.qemumap import QEMU_2G

RAM, RES = E820Type.RAM, E820Type.RESERVED


def test_areas_push_partial_pages_into_the_hole() -> None:
    # RAM ends at 0x9fc00: pfn 0x9f is partly RAM, so it belongs to the area (hand computation)
    areas = nonram_areas(QEMU_2G)
    assert areas == [PfnRange(0x9F, 0x100), PfnRange(0x7FFE0, 0x100000)]
    assert areas[0].pages == 97


def test_clip_keeps_only_pfns_below_nr_pages() -> None:
    areas = nonram_areas(QEMU_2G)
    assert clip(areas, 131072) == [PfnRange(0x9F, 0x100)]
    assert clip(areas, 0x7FFF0) == [PfnRange(0x9F, 0x100), PfnRange(0x7FFE0, 0x7FFF0)]


def test_gaps_and_reserved_are_alike() -> None:
    with_gap = [E820Entry(0, 0x100000, RAM), E820Entry(0x200000, 0x300000, RAM)]
    with_res = [*with_gap, E820Entry(0x100000, 0x200000, RES)]
    assert nonram_areas(with_gap) == nonram_areas(with_res) == [PfnRange(0x100, 0x200)]


def test_trailing_non_ram_area() -> None:
    m = [E820Entry(0, 0x100000, RAM), E820Entry(0x200000, 0x300000, RES)]
    assert nonram_areas(m) == [PfnRange(0x100, 0x300)]


def test_sanitize_merges_and_resolves_overlaps() -> None:
    m = sanitize([E820Entry(0, 0x2000, RAM), E820Entry(0x2000, 0x4000, RAM),
                  E820Entry(0x3000, 0x5000, RES)])
    assert m == [E820Entry(0, 0x3000, RAM), E820Entry(0x3000, 0x5000, RES)]


@pytest.mark.parametrize(("text", "value"), [
    ("4G", 4 << 30), ("512M", 512 << 20), ("0x80000000", 0x80000000), ("1024K", 1 << 20),
    ("4096", 4096), ("2GB", 2 << 30),
])
def test_parse_size(text: str, value: int) -> None:
    assert parse_size(text) == value


@pytest.mark.parametrize("bad", ["", "four", "4Q", "0xzz"])
def test_parse_size_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_size(bad)


def test_q35s_own_reserved_ranges_count_against_seabios_table() -> None:
    """SeaBIOS reserves q35's MMCONFIG window and RCBA (src/fw/pciinit.c) besides what pc has:
    the 12-07 campaign's four q35 layouts that lost RAM needed 34 entries where the model
    counted 32 and let them boot. Such a layout is refused now, naming the count."""
    from rig.domain.scenario_file import load
    from rig.model.firmware import Q35_RESERVED, firmware_problem, seabios_map

    assert set(Q35_RESERVED) <= set(seabios_map(0x78E00000, 0, "direct", "q35"))
    assert not set(Q35_RESERVED) & set(seabios_map(0x78E00000, 0, "direct", "pc"))
    s = load(str(Path(__file__).parents[1] / "fixtures" / "fuzz-20261207" /
                 "seabios-table-full-q35.toml"))
    problem = firmware_problem(s)
    assert problem is not None and "would have 33 entries" in problem, problem
