"""The balloon's start and target at /init (rig.model.balloon), per fix, and the check that
judges it (rig.judge.balloon): it can fail."""

from __future__ import annotations

from pathlib import Path

from rig.domain.e820 import E820Entry, E820Type
from rig.judge.check import CheckName, Status
from rig.model import balloon
from rig.model.kernel import ALL_FIXES, fixes_of
from tests.recorded import edited

RAM, RES = E820Type.RAM, E820Type.RESERVED
SEABIOS_LOW = [E820Entry(0, 0x9FC00, RAM), E820Entry(0x9FC00, 0xA0000, RES),
               E820Entry(0xF0000, 0x100000, RES), E820Entry(0x100000, 0x80000000, RAM)]


def test_pv_start_by_fix() -> None:
    n = 262144
    low = balloon.low_pages_not_counted(SEABIOS_LOW)
    assert low == 1  # pfn 0; the ISA range is not RAM on SeaBIOS's map
    # Debian's 6.1.192: the old formula; 6.12.118 and 7.2.13: Xen's count; the same pages
    assert balloon.pv_start(fixes_of((6, 1, 192)), n, 0, low).pages == n
    assert balloon.pv_start(fixes_of((6, 12, 118)), n, 0, low).pages == n
    assert balloon.pv_start(ALL_FIXES, n - 5, 5, low).pages == n - 5
    # 87af633689ce without 0949c646d646 (6.15 to 6.19, 6.12.24 on): pfn 0 lost, released twice
    window = fixes_of((6, 16, 0))
    assert "balloon-pvh-target" in window and "balloon-pv-partial-revert" not in window
    assert balloon.pv_start(window, n, 0, low).pages == n - 1
    assert balloon.pv_start(window, n - 5, 5, low).pages == n - 11


def test_pvh_start_by_fix() -> None:
    xen, own, extra = 786431, 786430, 500000
    assert balloon.pvh_start(fixes_of((6, 1, 192)), (6, 1, 192), xen, own, extra).pages == own
    assert balloon.pvh_start(fixes_of((6, 12, 118)), (6, 12, 118), xen, own, extra).pages == xen
    # 6.9 to 6.14 counted the RAM reserved for the balloon: the PVH bug of 87af633689ce
    assert balloon.pvh_start(fixes_of((6, 12, 10)), (6, 12, 10), xen, own, extra).pages \
        == own + extra


def test_a_target_of_dom0_mems_max_fails(tmp_path: Path) -> None:
    """A kernel whose balloon aims at dom0_mem's max: (74287971dbb3's bug) is caught."""
    checks = edited(tmp_path, "pci-hole", "RIG: balloon target_kb 1048576",
                    "RIG: balloon target_kb 2097152")
    assert checks[CheckName.BALLOON_TARGET] is Status.FAIL


def test_the_recorded_target_passes(tmp_path: Path) -> None:
    checks = edited(tmp_path, "pci-hole", "RIG: balloon target_kb 1048576",
                    "RIG: balloon target_kb 1048576")
    assert checks[CheckName.BALLOON_TARGET] is Status.PASS


def test_a_balloon_that_gave_up_fails(tmp_path: Path) -> None:
    """balloon_init's WARN ("Extra pages underflow current target", 74287971dbb3 without
    5d00a11d484e and CONFIG_XEN_UNPOPULATED_ALLOC): no balloon at all."""
    checks = edited(tmp_path, "pci-hole", "RIG: balloon target_kb 1048576",
                    "[    2.000000] Extra pages underflow current target\nRIG: balloon target_kb "
                    "1048576")
    assert checks[CheckName.BALLOON_TARGET] is Status.FAIL
