"""rig's findings as the judge names them, on the recorded boots that showed them (tests/recorded):
what a maintainer reads must name the bug and the patch, and only the fixes a kernel lacks."""

from __future__ import annotations

from pathlib import Path

from rig.judge.check import CheckName, Status
from rig.judge.result import Result
from tests.recorded import BOOTS, rejudge


def judged(name: str) -> dict[str, tuple[str, str]]:
    [folder] = [b for b in BOOTS if b.name == name]
    doc: Result = rejudge(folder)[0]
    return {c.name: (c.status.value, c.message) for c in doc.checks}


def test_the_unaligned_swap_target_halt_is_named_with_its_patch() -> None:
    for kernel in ("6.12", "7.2"):
        checks = judged(f"nvs-swap-target-unaligned-{kernel}")
        status, message = checks[CheckName.REFUSAL]
        assert status == "fail"
        assert "dom0 halted" in message and "xen_add_remap_nonram()" in message
        assert "fix-swap-target-aligned.patch" in message
        assert "No suitable area" not in message
        crash = checks[CheckName.CRASH]
        assert crash[0] == "crash" and "the refusal check says why" in crash[1]


def test_a_kernel_that_refuses_before_any_swap_is_not_blamed_on_the_finding() -> None:
    """6.1.192 lacks be35d91c8880: it prints its refusal and never reaches the swap whose
    target ends inside a page."""
    status, message = judged("nvs-swap-target-unaligned-6.1")[CheckName.REFUSAL]
    assert status == "fail"
    assert "be35d91c8880" in message and "predates be35d91c8880" in message
    assert "rig's fix" not in message and "rig's finding" not in message


def test_the_extra_memory_bug_is_named_on_each_kernel() -> None:
    for kernel, line in (("6.12", "setup.c:95"), ("6.1", "setup.c:136")):
        checks = judged(f"extra-mem-unaligned-{kernel}")
        status, message = checks[CheckName.EXTRA_MEM]
        assert status == "fail" and line in message
        assert "fix-extra-mem-whole-pages.patch" in message
        assert "the extra_mem check says why" in checks[CheckName.CRASH][1]


def test_the_overflowed_e820_table_is_named_and_explains_the_fault() -> None:
    """The same finding's other face: with a budget larger than the remap, the 4 KiB walk
    overflows the E820 table. 7.2.13 then faults in arch_xen_unpopulated_init() on the
    budget's last page, which has no RAM entry; 6.1.192, which has no such function, boots
    without the entries it ignored."""
    checks = judged("extra-mem-table-full-7.2")
    status, message = checks[CheckName.EXTRA_MEM]
    assert status == "fail" and "1811 'E820 table full' line(s)" in message
    assert "(93179 earlier lines were dropped)" in message
    assert "so 94988 are ignored" in message and "48000-48001 has no E820 RAM entry" in message
    assert "fix-extra-mem-whole-pages.patch" in message and "Known: rig's finding" in message
    crash = checks[CheckName.CRASH]
    assert crash[0] == "crash" and "the extra_mem check says why" in crash[1]
    status, message = judged("extra-mem-table-full-6.1")[CheckName.EXTRA_MEM]
    assert status == "fail" and "so 95020 are ignored" in message


def test_a_swap_that_halts_before_a_due_refusal_is_named() -> None:
    """The 12-06 campaign's silent halt: ACPI data in the kernel's image, which a correct
    kernel refuses, but the NVS in the image is swapped first, to a RAM entry that ends inside
    a page: rig's first finding halts dom0 before the refusal is printed."""
    status, message = judged("nvs-swap-halts-before-refusal-7.2")[CheckName.REFUSAL]
    assert status == "fail" and "and then refuses the layout" in message
    assert "RAM [0x100000000, 0x1c8eacae8), ends inside a page" in message
    assert "fix-swap-target-aligned.patch" in message


def test_an_nvs_entry_sharing_the_start_infos_page_is_named() -> None:
    """rig's fourth finding (the 12-07 campaign, Debian's 7.2.13): NVS [0x4800ecb, 0x4801730)
    shares the start info's page, not its bytes; the kernel checks the bytes, does not swap
    it, and faults reading its start info ("PANIC: early exception"), after "Released"."""
    checks = judged("start-info-page-7.2")
    status, message = checks["refusal"]
    assert status == "fail" and "PANIC: early exception 0x0e" in message
    assert "fix-start-info-page.patch" in message and "Known: rig's finding" in message
    assert "fix-swap-target-aligned" not in message
    assert checks["crash"][0] == "crash" and "the refusal check says why" in checks["crash"][1]
    # sid's 7.2 source with the patch, on the registry's layout: the NVS sharing its start
    # info's page is swapped, and dom0 goes on
    fixed = judged("start-info-page-fixed-7.2")
    assert fixed["refusal"][0] == "pass" and "went on with its memory setup" in fixed["refusal"][1]
    assert fixed["nonram_remapped"] == ("pass", "Remapped N non-RAM page(s): 2 as predicted")


def test_a_kernel_built_with_a_balloon_that_has_none_fails() -> None:
    status, message = judged("balloon-stats-again-reverted")[CheckName.BALLOON_TARGET]
    assert status == "fail" and "CONFIG_XEN_BALLOON" in message


def test_the_misread_acpi_table_is_named_and_explains_the_crash() -> None:
    """rig's third finding on Debian's 6.12.118: dom0's early ACPI parse lists a garbage
    header where the firmware put rig's table, then crashes in sparse_init."""
    checks = judged("acpi-table-swapped-6.12")
    status, message = checks[CheckName.ACPI_TABLE]
    assert status == "fail" and "'??M ', 0x3d835474 bytes" in message
    assert "dom0 swaps to 0x7ffde000" in message and "fix-acpi-nvs-remap.patch" in message
    crash = checks[CheckName.CRASH]
    assert crash[0] == "crash" and "the acpi_table check says why" in crash[1]


def test_the_content_check_fails_on_a_remap_to_the_wrong_page() -> None:
    """6.12.118's source with the fix and tests/fixtures/patches/mutate-remap-wrong-page.patch:
    the early parse reads the header right, every later read lands a machine page too far, and
    dom0 has no RIGT table to show."""
    checks = judged("acpi-table-swapped-mutated")
    table = checks[CheckName.ACPI_TABLE]
    assert table[0] == "fail" and "has no RIGT table" in table[1]
    assert checks[CheckName.CRASH][0] == "pass" and checks[CheckName.NONRAM_MOVED][0] == "pass"


def test_xen_giving_dom0_every_free_page_is_named_as_xens_bug() -> None:
    """rig's fifth finding: Xen 4.20.4 (upstream, built here) BUGs building dom0 when dom0_mem
    asks for all it has free; the same Xen with rig's patch keeps its reserve and dom0 boots."""
    checks = judged("xen-dom0-mem-all-free-4.20.4")
    status, message = checks[CheckName.NR_PAGES]
    assert status == "fail"
    assert "asks for 422400 pages, more than the 320290 Xen had free" in message
    assert "arch/x86/pv/dom0_build.c:1033" in message and "Known: rig's finding" in message
    crash = checks[CheckName.CRASH]
    assert crash[0] == "crash" and "the nr_pages check says why" in crash[1]
    fixed = judged("xen-dom0-mem-all-free-fixed-4.20.4")
    assert fixed[CheckName.CRASH][0] == "pass" and fixed[CheckName.BOOT][0] == "pass"
    assert fixed[CheckName.NR_PAGES][0] == "skip"  # Xen's free memory decides it


def test_another_xen_bug_while_building_dom0_is_not_this_finding(tmp_path: Path) -> None:
    [folder] = [b for b in BOOTS if b.name == "xen-dom0-mem-all-free-4.20.4"]
    log = tmp_path / "console.log"
    log.write_text((folder / "console.log").read_text().replace(
        "Xen BUG at arch/x86/pv/dom0_build.c:1033", "Xen BUG at arch/x86/mm.c:1033"))
    checks = {c.name: c for c in rejudge(folder, log)[0].checks}
    assert checks[CheckName.NR_PAGES].status is Status.SKIP
    assert checks[CheckName.CRASH].status is Status.CRASH
    assert "says why" not in checks[CheckName.CRASH].message


def test_a_pvh_kernel_with_the_extra_memory_fix_is_not_blamed() -> None:
    """rig's seventh finding: 6.12's source with rig's patch boots both layouts, and the judge
    says nothing of the extra memory there; Debian's 6.12.118 crashes on them (the corpus's
    campaign logs, tests/logs/rig-fuzz-pvh-unusable-*)."""
    for face in ("subpage", "partial-page"):
        checks = judged(f"pvh-unusable-{face}-fixed-6.12")
        assert CheckName.EXTRA_MEM not in checks
        assert checks[CheckName.CRASH][0] == "pass" and checks[CheckName.BOOT][0] == "pass"


def test_the_xsave_fallback_passes_once_fixed() -> None:
    """rig's sixth finding: 7.2's source with rig's patch goes on without XSAVE."""
    checks = judged("fpu-xsave-fallback-fixed-7.2")
    assert CheckName.XSAVE_FALLBACK not in checks
    assert checks[CheckName.CRASH][0] == "pass" and checks[CheckName.BOOT][0] == "pass"
