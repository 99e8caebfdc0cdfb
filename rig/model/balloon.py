"""The Xen balloon driver's count and target of a dom0 when rig's /init reads them
(drivers/xen/balloon.c ``balloon_init``, a subsys_initcall). Pure.

``balloon_init`` sets ``target_pages = current_pages``; the target changes after that only by
a write to sysfs or by xenstore's ``memory/target`` watch, and rig's dom0 runs no xenstored
(its xenbus stays local and the watch is never registered), so at /init the target is the
count balloon_init started from. With ``CONFIG_XEN_UNPOPULATED_ALLOC=y`` (every Debian kernel)
the extra regions go to the unpopulated pool (``arch_xen_unpopulated_init``) and never into
the balloon, so ``max:`` in dom0_mem changes nothing: the target is what dom0_mem's amount gave
dom0, less what Linux released for good. How balloon_init counts depends on the fixes a kernel
has (rig.model.kernel.FIXES, verified in 6.1, 6.12.0, 6.12.33, 6.12.94, 7.1 sources and in the
disassembly of Debian's 6.12.118 and 7.2.13):

- before 87af633689ce (6.15; 6.12.24, 6.6.88): PV ``min(nr_pages − xen_released_pages,
  max_pfn)``; PVH ``get_num_physpages()``, which on 6.9+ counts the UNUSABLE RAM Linux turned
  back into RAM for the balloon (the PVH bug 87af633689ce fixed);
- 87af633689ce: ``get_num_physpages() − xen_released_pages`` for all: a PV dom0 lost pfn 0
  and RAM in the ISA range, and released pages twice, until 0949c646d646 (7.0; 6.12.94 at the
  latest) returned PV to the old formula;
- b13cd24c15d7 (7.0; 6.12.118 at the latest): dom0 takes Xen's own count,
  XENMEM_current_reservation: PV nr_pages − released, PVH nr_pages − 1 (the RAM page Linux maps
  its shared info over, which Xen frees), less, without CONFIG_XEN_UNPOPULATED_ALLOC, the RAM
  pages a PVH dom0 gives back for its grant table's window (rig.model.pvh.grant_window: 64).

Not modelled: PV kernels without CONFIG_XEN_UNPOPULATED_ALLOC on 6.12+ (the extra regions then
reach the balloon: 74287971dbb3, 5d00a11d484e), and kernels before 3.2.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rig.domain.e820 import E820Entry
from rig.domain.units import PAGE_SIZE

#: the ISA range x86 never counts as RAM (arch/x86/kernel/setup.c trim_bios_range)
ISA_START, ISA_END = 0xA0000, 0x100000


@dataclass(frozen=True)
class BalloonStart:
    """The balloon's count at boot (= its target at /init), in pages, and the rule that gave
    it."""

    pages: int
    rule: str

    @property
    def kb(self) -> int:
        return self.pages * (PAGE_SIZE // 1024)


def low_pages_not_counted(view: Sequence[E820Entry]) -> int:
    """Populated pages x86 Linux does not count as RAM: pfn 0 and RAM in the ISA range."""
    page0 = 1 if any(e.is_ram and e.start == 0 and e.end >= PAGE_SIZE for e in view) else 0
    isa = 0
    for e in view:
        if e.is_ram:
            lo, hi = max(e.start, ISA_START) // PAGE_SIZE, min(e.end, ISA_END) // PAGE_SIZE
            isa += max(0, hi - lo)
    return page0 + isa


def pv_start(fixes: frozenset[str], dom0_pages: int, released: int,
             low_not_counted: int) -> BalloonStart:
    """A PV dom0: ``dom0_pages`` = nr_pages less the pages released for good (era C: less what
    was populated back), ``released`` = xen_released_pages."""
    if "balloon-pvh-target" in fixes and "balloon-pv-partial-revert" not in fixes \
            and "balloon-current-reservation" not in fixes:
        return BalloonStart(dom0_pages - released - low_not_counted,
                            "get_num_physpages() − xen_released_pages (87af633689ce, before "
                            "0949c646d646): pfn 0 and the ISA range are not counted")
    if "balloon-current-reservation" in fixes:
        return BalloonStart(dom0_pages, "Xen's count, XENMEM_current_reservation "
                                        "(b13cd24c15d7)")
    return BalloonStart(dom0_pages, "min(nr_pages − xen_released_pages, max_pfn)")


def pvh_xen_count(xen_pages: int) -> BalloonStart:
    """A PVH dom0's balloon from Xen's count (b13cd24c15d7 on)."""
    return BalloonStart(xen_pages, "Xen's count, XENMEM_current_reservation (b13cd24c15d7): "
                                   "nr_pages less the shared info page")


def pvh_own_count(own_pages: int) -> BalloonStart:
    """A PVH dom0's balloon from the RAM Linux counts as its own (before b13cd24c15d7)."""
    return BalloonStart(own_pages, "get_num_physpages(): the RAM Linux counts")


def pvh_start(fixes: frozenset[str], version: tuple[int, ...], xen_pages: int,
              own_pages: int, extra_pages: int) -> BalloonStart:
    """A PVH dom0: ``xen_pages`` = Xen's count once Linux runs, ``own_pages`` = the RAM Linux
    counts as its own, ``extra_pages`` = Xen's UNUSABLE RAM that 6.9+ turns back into RAM for
    the balloon (xen_reserve_extra_memory)."""
    if "balloon-current-reservation" in fixes:
        return pvh_xen_count(xen_pages)
    if "balloon-pvh-target" in fixes or tuple(version[:2]) < (6, 9):
        return pvh_own_count(own_pages)
    return BalloonStart(own_pages + extra_pages,
                        "get_num_physpages() with the extra RAM for the balloon (the PVH "
                        "bug of 6.9 to 6.14, fixed by 87af633689ce)")
