"""Linux's checks of Xen's allocations for a PV dom0 against its E820 (rig.model.conflicts), each
rule against the code it models: arch/x86/xen/setup.c of Linux 6.12 (xen_chk_is_e820_usable,
xen_e820_resolve_conflicts, xen_e820_swap_entry_with_ram), its 2026 fixes (28e03f78e69c: the
page offset's sign; 5f8719945244: the loop restarts after a swap) and p2m.c's NR_NONRAM_REMAP."""

from __future__ import annotations

from rig.domain.e820 import E820Entry, E820Type
from rig.model.conflicts import Allocations, resolve_conflicts
from rig.model.kernel import ALL_FIXES, FIX, Kernel, KernelLayout, fixes_of
from rig.model.pv import predict

RAM, NVS, RES = E820Type.RAM, E820Type.NVS, E820Type.RESERVED
#: Debian's 6.12.118 as Xen 4.20 placed it on the nvs-on-kernel boot (tests/recorded)
LAYOUT = KernelLayout(text=0x1000000, bss_stop=0x3C00000, end=0x3C30000, image_end=0x4200000)
KERNEL = Kernel((6, 12, 118), layout=LAYOUT)
ALLOC = Allocations((0x1000000, 0x4200000), (0x4200000, 0x42004B8), (0x4201000, 0x4226000))
NR = 0x40000  # dom0_mem=1G


def machine(*typed: E820Entry) -> list[E820Entry]:
    """pc, 4 GiB, RAM below 4 GiB to 2 GiB, with ``typed`` entries cut into the RAM."""
    base = [E820Entry(0, 0x9FC00, RAM), E820Entry(0x9FC00, 0xA0000, RES),
            E820Entry(0xF0000, 0x100000, RES), E820Entry(0x100000, 0x7FFE0000, RAM),
            E820Entry(0x7FFE0000, 0x80000000, RES), E820Entry(0x100000000, 0x180000000, RAM)]
    return [*base, *typed]


def test_nvs_on_the_start_info_is_swapped_with_the_top_of_ram_above_nr_pages() -> None:
    nvs = E820Entry(0x4200000, 0x4212000, NVS)
    r = resolve_conflicts(machine(nvs), KERNEL, ALLOC, NR)
    assert r.conflict is None
    [swap] = r.swaps
    # the first RAM entry whose top 0x12000 bytes lie above nr_pages: [1M, 0x7ffe0000)
    assert swap.moved == E820Entry(0x7FFCE000, 0x7FFE0000, NVS)
    assert swap.pages == 18  # "Remapped 18 non-RAM page(s)", measured on 6.12.118
    assert E820Entry(0x100000, 0x7FFCE000, RAM) in r.view  # its old place is RAM again
    assert [c for c, _ in r.checked] == ["kernel", "xen_start_info", "page table"]


#: Debian's 6.1.192 (its ELF; Xen 4.17 loaded it to 0x4a00000, start info and page tables
#: after it, on the boot)
LAYOUT_61 = KernelLayout(text=0x1000000, bss_stop=0x4400000, end=0x4430000, image_end=0x4A00000)
ALLOC_61 = Allocations((0x1000000, 0x4A00000), (0x4A00000, 0x4A004B8), (0x4A01000, 0x4A2A000))


def test_a_kernel_without_the_swap_refuses_the_same_map() -> None:
    """6.1.192 has fac1bceeeb04 (6.1.113: [_text, _end)) but not the swap: "Xen hypervisor
    allocated kernel memory conflicts with E820 map", as it printed on the boot."""
    nvs = E820Entry(0x4200000, 0x4212000, NVS)
    k61 = Kernel((6, 1, 192), layout=LAYOUT_61)
    r = resolve_conflicts(machine(nvs), k61, ALLOC_61, NR, fixes_of((6, 1, 192)))
    assert r.conflict is not None and r.conflict.entry == nvs
    assert r.conflict.component == "kernel"
    assert "nvs-swap" not in fixes_of((6, 1, 192)) and "end-of-kernel" in fixes_of((6, 1, 192))
    # before fac1bceeeb04 it checked [_text, __bss_stop): an NVS past __bss_stop, in .brk,
    # went unseen (what fac1bceeeb04 fixed: a crash or corruption later instead of a refusal)
    brk = E820Entry(0x4410000, 0x4411000, NVS)
    before = resolve_conflicts(machine(brk), k61, ALLOC_61, NR, fixes_of((6, 1, 100)))
    assert before.conflict is None
    after = resolve_conflicts(machine(brk), k61, ALLOC_61, NR, fixes_of((6, 1, 192)))
    assert after.conflict is not None


def test_an_unaligned_nvs_keeps_its_page_offset_only_with_28e03f78e69c() -> None:
    nvs = E820Entry(0x4200F26, 0x4201F26, NVS)  # spans two pages
    fixed = resolve_conflicts(machine(nvs), KERNEL, ALLOC, NR).swaps[0]
    assert fixed.moved == E820Entry(0x7FFDEF26, 0x7FFDFF26, NVS)
    assert fixed.pages == 2
    buggy = resolve_conflicts(machine(nvs), KERNEL, ALLOC, NR,
                              ALL_FIXES - {"nvs-swap-offset"}).swaps[0]
    # "entry_end - swap_size + swap_addr - swap_entry->addr": the offset subtracted
    assert buggy.moved == E820Entry(0x7FFDD0DA, 0x7FFDE0DA, NVS)
    assert FIX["nvs-swap-offset"].in_version((6, 12, 94))
    assert not FIX["nvs-swap-offset"].in_version((6, 12, 93))


def test_two_nvs_in_the_way_need_the_loop_to_restart() -> None:
    """After a swap the map is sorted and merged again; without 5f8719945244 the loop goes on
    at the next index and steps over the second NVS (the merge shifted it down)."""
    two = machine(E820Entry(0x2000000, 0x2001000, NVS), E820Entry(0x3000000, 0x3001000, NVS))
    good = resolve_conflicts(two, KERNEL, ALLOC, NR)
    assert good.conflict is None and len(good.swaps) == 2
    old = resolve_conflicts(two, KERNEL, ALLOC, NR, ALL_FIXES - {"resolve-restart"})
    assert len(old.swaps) == 1
    assert old.conflict is not None and old.conflict.entry.start == 0x3000000
    assert old.conflict.message == ("Xen hypervisor allocated kernel memory conflicts with "
                                    "E820 map")


def test_a_fifth_swap_exceeds_nr_nonram_remap() -> None:
    nvs = [E820Entry(0x1100000 + i * 0x100000, 0x1101000 + i * 0x100000, NVS) for i in range(5)]
    r = resolve_conflicts(machine(*nvs), KERNEL, ALLOC, NR)
    assert len(r.swaps) == 4
    assert r.conflict is not None and "exceed maximum value" in r.conflict.message


def test_reserved_or_a_gap_in_the_way_stays_a_refusal() -> None:
    for entry in (E820Entry(0x2000000, 0x2001000, RES),):
        r = resolve_conflicts(machine(entry), KERNEL, ALLOC, NR)
        assert r.swaps == [] and r.conflict is not None and r.conflict.entry == entry
    gap = [e for e in machine() if e.start != 0x100000] + [
        E820Entry(0x100000, 0x2000000, RAM), E820Entry(0x2010000, 0x7FFE0000, RAM)]
    r = resolve_conflicts(gap, KERNEL, ALLOC, NR)
    assert r.conflict is not None
    assert (r.conflict.entry.start, r.conflict.entry.end) == (0x2000000, 0x2010000)


def test_no_ram_above_nr_pages_to_swap_with() -> None:
    """All RAM below nr_pages: "No suitable area found for required E820 entry remapping
    action"."""
    nvs = E820Entry(0x4200000, 0x4212000, NVS)
    # nr_pages = 6 GiB: all RAM below it
    r = resolve_conflicts(machine(nvs), KERNEL, ALLOC, 0x180000)
    assert r.conflict is not None and "No suitable area" in r.conflict.message


def test_the_prediction_counts_what_the_swap_remaps() -> None:
    nvs = E820Entry(0x4200000, 0x4212000, NVS)
    pred = predict(machine(nvs), NR, None, KERNEL, ALLOC)
    assert pred.conflict is None and pred.nonram_remapped_pages == 18
    # the moved NVS lies above nr_pages: below it only [0x80000, 0x100000) is a hole (6.5+
    # reserves it for the iBFT), 128 pages, as Linux remapped on the boot
    assert pred.remapped_pages == 128
    refused = predict(machine(nvs), NR, None, Kernel((6, 1, 192), layout=LAYOUT_61), ALLOC_61,
                      fixes_of((6, 1, 192)))
    assert refused.conflict is not None and refused.kernel_conflict == nvs


def test_a_swap_target_ending_inside_a_page_halts_every_kernel_with_the_swap() -> None:
    """rig's finding: the RAM entry the NVS is swapped to ends at 0x419aba6e (ACPI data
    follows it at its byte, as on real firmware). Every kernel with be35d91c8880 places the NVS
    at that end less the swap's size, not on a page, and p2m.c's BUG_ON halts it with no
    message (Debian's 6.12.118 and 7.2.13 on the issue's layout); the fix takes the end down
    to a page. The layout: pc, 2 GiB, RAM below 4 GiB to 0xa0000000, dom0_mem=1G."""
    nvs = E820Entry(0x1DDE000, 0x1DE0000, NVS)
    acpi = E820Entry(0x419ABA6E, 0x419ABA6E + 0xBE000, E820Type.ACPI)
    two_gib = [E820Entry(0, 0x9FC00, RAM), E820Entry(0x9FC00, 0xA0000, RES),
               E820Entry(0xF0000, 0x100000, RES), E820Entry(0x100000, 0x7FFE0000, RAM)]
    view = [*two_gib, nvs, acpi]
    now = resolve_conflicts(view, KERNEL, ALLOC, NR, ALL_FIXES - {"swap-target-aligned"})
    assert now.conflict is not None and not now.conflict.printed
    assert "0x419a9a6e" in now.conflict.message  # the end less two pages: not page-aligned
    fixed = resolve_conflicts(view, KERNEL, ALLOC, NR)
    assert fixed.conflict is None
    [swap] = fixed.swaps
    assert swap.moved == E820Entry(0x419A9000, 0x419AB000, NVS)
    # the part page between the last whole page and the ACPI data is in no entry
    assert not any(e.start < 0x419ABA6E and e.end > 0x419AB000 and e.type is RAM
                   for e in fixed.view)
    # a kernel of any version lacks it: no release has the fix
    assert "swap-target-aligned" not in fixes_of((7, 2, 13))
    # a target that ends on a page was never affected
    aligned = E820Entry(0x419AB000, 0x419AB000 + 0xBE000, E820Type.ACPI)
    assert resolve_conflicts([*two_gib, nvs, aligned], KERNEL, ALLOC, NR,
                   fixes_of((6, 12, 118))).conflict is None


def test_the_page_tables_checked_leave_out_the_l4_the_kernel_gives_back() -> None:
    """check_pt_base() (mmu_pv.c) gives Xen's L4, the first of a dom0's page-table pages, back:
    the kernel checks from the next page; an entry on the L4 alone is not in its way."""
    r = resolve_conflicts(machine(E820Entry(0x4201100, 0x4201200, RES)), KERNEL, ALLOC, NR)
    assert dict(r.checked)["page table"] == (0x4202000, 0x4226000)
    assert r.conflict is None and not r.swaps


def test_an_nvs_sharing_the_start_infos_page_is_swapped_only_by_a_whole_page_check() -> None:
    """rig's fourth finding: the kernel checks the start info's bytes [0x4200000, +0x490); an
    NVS entry from 0x4200800 shares its page but not those bytes. A correct kernel checks the
    page and swaps it; the kernel as it is lets it be, and faults reading its start info."""
    nvs = E820Entry(0x4200800, 0x4200900, NVS)
    right = resolve_conflicts(machine(nvs), KERNEL, ALLOC, NR)
    assert right.conflict is None and [s.entry for s in right.swaps] == [nvs]
    assert dict(right.checked)["xen_start_info"] == (0x4200000, 0x4201000)
    asis = resolve_conflicts(machine(nvs), KERNEL, ALLOC, NR, ALL_FIXES - {"start-info-page"})
    assert not asis.swaps and asis.conflict is not None and not asis.conflict.printed
    assert asis.conflict.range == (0x4200000, 0x4201000)
    assert "PANIC: early exception" in asis.conflict.message
    assert asis.conflict.shows == "PANIC: early exception"  # the line the judge matches
    # an entry that overlaps the struct's bytes is swapped by both
    both = E820Entry(0x4200100, 0x4200200, NVS)
    assert resolve_conflicts(machine(both), KERNEL, ALLOC, NR,
                             ALL_FIXES - {"start-info-page"}).swaps
