from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from rig.domain.e820 import E820Entry, E820Type
from rig.domain.pages import PfnRange, ram_pages
from rig.domain.scenario_file import load
from rig.model.kernel import Era, era_for, parse_version
from rig.model.prediction import predict_scenario
from rig.model.pv import predict
from tests.qemumap import QEMU_2G
from tests.seedmap import SEED_FREED, SEED_MAP, SEED_NR_PAGES, SEED_RELEASED

RAM = E820Type.RAM


def test_seed_numbers_era_c() -> None:
    p = predict(SEED_MAP, SEED_NR_PAGES, None, (3, 5))
    assert p.era is Era.C
    assert [(r.start, r.end) for r in p.freed_ranges] == SEED_FREED
    assert p.released_pages == SEED_RELEASED == 283999
    # populate of 283999 pages starting at nr_pages (the era-C log: Populating 1acb65-1f20c4)
    assert p.populated_ranges == [PfnRange(0x1ACB65, 0x1F20C4)]
    assert p.populated_pages == 283999
    assert p.dom0_pages == SEED_NR_PAGES


def test_seed_numbers_era_b_lose_the_holes() -> None:
    p = predict(SEED_MAP, SEED_NR_PAGES, None, (3, 2))
    assert p.era is Era.B
    assert p.released_pages == 283999
    assert p.populated_pages == 0
    assert p.lost_pages == 283999  # the seed's "boots with 1GB less memory"


def test_worked_example_2g_dom0_512m() -> None:
    # docs/log-formats.md §1.1 worked example: QEMU pc 2 GiB, dom0_mem=512M,max:512M
    nr = 131072
    b = predict(QEMU_2G, nr, nr, (3, 2))
    assert (b.released_pages, b.dom0_pages) == (97, 130975)
    c = predict(QEMU_2G, nr, nr, (3, 8))
    # "Populating 20000-20061 pfn range: 97 pages added"
    assert c.populated_ranges == [PfnRange(0x20000, 0x20061)]
    assert c.dom0_pages == nr
    e = predict(QEMU_2G, nr, nr, (6, 1))
    assert (e.remapped_pages, e.released_pages, e.dom0_pages) == (97, 0, nr)
    assert e.balloon_current_kb == 4 * nr
    ibft = predict(QEMU_2G, nr, nr, (6, 12))
    assert ibft.remapped_pages == 128  # [0x80, 0x100): the 6.5+ iBFT reservation


def test_pci_hole_preset_by_hand() -> None:
    # pc, 4 GiB, RAM below 4 GiB = 2 GiB (Xen's printed map), dom0_mem=1G,max:1G → 97
    m = [*QEMU_2G, E820Entry(0x100000000, 0x180000000, RAM)]
    assert predict(m, 262144, 262144, (6, 1)).remapped_pages == 97


def test_no_ram_above_nr_means_release() -> None:
    # RAM ends at pfn 0x10000 = nr_pages: nowhere to remap the 97 hole pages to
    m = [E820Entry(0, 0x9FC00, RAM), E820Entry(0x100000, 0x10000000, RAM)]
    e = predict(m, 0x10000, None, (6, 1))
    assert (e.remapped_pages, e.released_pages, e.lost_pages) == (0, 97, 97)
    assert any("Unable to find" in n for n in e.notes)
    # 40 pages of RAM above nr_pages: 40 remapped, the rest released
    roomy = predict(m, 0x10000 - 40, None, (6, 1))
    assert (roomy.remapped_pages, roomy.released_pages) == (40, 57)


def test_unusable_is_ram_for_dom0_since_3_13() -> None:
    m = [E820Entry(0, 0x100000, RAM), E820Entry(0x100000, 0x200000, E820Type.UNUSABLE),
         E820Entry(0x200000, 0x1000000, RAM)]
    assert predict(m, 0x800, None, (6, 1)).hole_pages == 0
    assert predict(m, 0x800, None, (3, 8)).hole_pages == 0x100


def test_versions_and_eras() -> None:
    assert parse_version("6.1.0-56-amd64") == (6, 1, 0)
    assert parse_version("3.8") == (3, 8)
    versions = [(3, 0), (3, 3), (3, 5), (3, 17), (3, 18), (6, 12)]
    assert [era_for(v) for v in versions] == list("ABCCDE")


@st.composite
def maps(draw: st.DrawFn) -> list[E820Entry]:
    # boundaries on a 1 KiB grid, so partial pages occur; consecutive pairs become entries
    points = sorted(draw(st.sets(st.integers(0, 1 << 20), min_size=2, max_size=40)))
    kinds = [RAM, RAM, E820Type.RESERVED, E820Type.NVS, None]  # None: a gap
    entries = []
    for lo, hi in itertools.pairwise(points):
        kind = draw(st.sampled_from(kinds))
        if kind is not None and hi - lo >= 8:  # sub-page RAM entries do not occur in real maps
            entries.append(E820Entry(lo * 1024, hi * 1024, kind))
    return entries or [E820Entry(0, 0x100000, RAM)]


@settings(max_examples=200, deadline=None)
@given(maps(), st.integers(1, 0x40000), st.sampled_from([(3, 2), (3, 8), (3, 18), (6, 1),
                                                         (6, 12)]))
def test_model_invariants(m: list[E820Entry], nr: int, version: tuple[int, int]) -> None:
    p = predict(m, nr, None, version)
    # every hole page is accounted for exactly once
    assert p.hole_pages == sum(r.pages for r in p.hole_ranges)
    assert all(r.end <= nr for r in p.hole_ranges)
    if p.era in (Era.D, Era.E):
        assert p.remapped_pages + p.released_pages == p.hole_pages
    if p.era in (Era.B, Era.C):
        assert p.released_pages == p.hole_pages
        assert 0 <= p.populated_pages <= p.released_pages
    assert 0 <= p.dom0_pages <= nr
    assert p.lost_pages == nr - p.dom0_pages


def test_scenario_map_pci_hole_matches_xens_printed_map() -> None:
    # the map Xen 4.17 printed for pci-hole (tests/logs/rig-pci-hole-6.1.log), written by hand
    printed = [*QEMU_2G, E820Entry(0x100000000, 0x180000000, RAM)]
    sp = predict_scenario(load("pci-hole"))
    assert ram_pages(sp.machine_map) == ram_pages(printed)
    assert sp.prediction is not None and sp.prediction.remapped_pages == 97


def test_seed_preset_by_hand() -> None:
    sp = predict_scenario(load("seed-8g"))
    assert sp.nr_pages == 3 * 2**30 // 4096
    # areas below pfn 0xc0000: 0x9f-0x100, the 4 seed holes, and SeaBIOS's top 128 KiB + the
    # PCI hole from 0xbafe0 (= 0xbb000 - 0x20) to 0xc0000
    by_hand = 97 + 512 + 512 + 116 + 137 + (0xC0000 - 0xBAFE0)
    assert sp.prediction is not None and sp.prediction.remapped_pages == by_hand == 21886
    assert sp.without_fix is not None and sp.without_fix.lost_pages == by_hand


def test_q35_preset_matches_the_patched_kernel_count() -> None:
    # issue #10 saw "Released 262273 page(s)" for 4 GiB, low RAM 2 GiB, dom0_mem=3G,max:3G
    sp = predict_scenario(load("q35"))
    assert sp.prediction is not None and sp.prediction.remapped_pages == 262273


def test_no_dom0_mem_means_no_counts() -> None:
    sp = predict_scenario(load("pci-hole", {"xen.dom0_mem": ""}))
    assert sp.prediction is None and any("Xen's default" in n for n in sp.notes)


def test_uefi_uses_the_recorded_map() -> None:
    s = load("q35-uefi")
    first = predict_scenario(s)
    assert first.machine_map == [] and first.prediction is None
    assert any("records it" in n for n in first.notes)
    # OVMF's ACPI NVS pages inside low RAM count like any hole (docs/boot-recipe.md's ranges)
    recorded = [E820Entry(0, 0xA0000, RAM), E820Entry(0x100000, 0x806000, RAM),
                E820Entry(0x806000, 0x808000, E820Type.NVS),
                E820Entry(0x808000, 0x80000000, RAM),
                E820Entry(0x100000000, 0x180000000, RAM)]
    sp = predict_scenario(s, recorded)
    # by hand: pfn 0xa0-0x100 (96) + 0x806-0x808 (2) + 0x80000-0xc0000 (262144)
    assert sp.prediction is not None and sp.prediction.remapped_pages == 96 + 2 + 262144


def test_large_machines_as_seen() -> None:
    # Xen's printed maps on this machine (2026-11-26), pc with RAM below 4 GiB = 2 GiB:
    # ≤ 64 GiB: SeaBIOS reserves from 0x7ffe0000; 65 GiB and more: from 0x7ffdf000;
    # 1 TiB: QEMU moves the RAM above 4 GiB to 0x10000000000 (AMD HyperTransport window)
    def low_top(memory: str) -> int:
        s = load("pci-hole", {"machine.memory": memory})
        return ram_pages(predict_scenario(s).machine_map)[1].end

    assert low_top("64G") == 0x7FFE0
    assert low_top("65G") == low_top("256G") == low_top("1T") == 0x7FFDF
    big = predict_scenario(load("pci-hole", {"machine.memory": "1T"}))
    assert ram_pages(big.machine_map)[-1] == PfnRange(0x10000000, 0x1FF80000)
    small = predict_scenario(load("pci-hole", {"machine.memory": "256G"}))
    assert ram_pages(small.machine_map)[-1] == PfnRange(0x100000, 0x4080000)
