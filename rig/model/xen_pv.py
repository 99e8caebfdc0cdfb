"""Where Xen puts what it builds for a PV dom0, in dom0's pseudo-physical space, as
xen/arch/x86/pv/dom0_build.c lays it out (the same in 4.17 and 4.20). Pure.

For a Linux dom0 (XEN_ELFNOTE_MOD_START_PFN and a p2m_base: neither the initrd nor the P2M
in the initial mapping): the kernel at its ELF's [pstart, pend); the start info on the next
page; the page tables on the page after it (start info and the VGA console info take less than
a page), as many as map [virt_base, v_end) with 4 KiB pages; one page of boot stack; v_end
that rounded up to 4 MiB, another 4 MiB if that leaves less than 512 KiB. A boot's own lines
("Start info:", "Page tables:") say it exactly; this is for `rig predict`, before a boot.
"""

from __future__ import annotations

from collections.abc import Sequence

from rig.domain.e820 import E820Entry
from rig.domain.pages import ram_pages
from rig.domain.units import PAGE_SIZE, MiB
from rig.model.conflicts import Allocations
from rig.model.kernel import KernelLayout

#: x86_64 Linux's VIRT_BASE (__START_KERNEL_map); pfn = (vaddr - VIRT_BASE) >> 12
VIRT_BASE = 0xFFFFFFFF80000000
_L4, _L3, _L2 = 39, 30, 21


def _nr(lo: int, hi: int, shift: int) -> int:
    """dom0_build.c's NR(): page-table pages of one level that map [lo, hi)."""
    mask = (1 << shift) - 1
    return (((hi + mask) & ~mask) - (lo & ~mask)) >> shift


def _up(value: int, to: int) -> int:
    return -(-value // to) * to


def initial_mapping(image_end: int) -> tuple[int, int, int]:
    """(the page tables' first pfn's address, their pages, v_end - virt_base) for a kernel whose
    loaded image ends at ``image_end``: dom0_build.c's loop that sizes the page tables."""
    v_start = VIRT_BASE
    start_info = _up(image_end, PAGE_SIZE)
    pt_start = start_info + PAGE_SIZE
    nr_pt = 2
    while True:
        stack_end = VIRT_BASE + pt_start + (nr_pt + 1) * PAGE_SIZE
        v_end = _up(stack_end, 4 * MiB)
        if v_end - stack_end < 512 * 1024:
            v_end += 4 * MiB
        needed = 1 + _nr(v_start, v_end, _L4) + _nr(v_start, v_end, _L3) + \
            _nr(v_start, v_end, _L2)
        if needed <= nr_pt:
            return pt_start, nr_pt, v_end - v_start
        nr_pt += 1


def allocations(layout: KernelLayout) -> Allocations:
    start_info = _up(layout.image_end, PAGE_SIZE)
    pt_start, nr_pt, _ = initial_mapping(layout.image_end)
    return Allocations((layout.text, layout.image_end), (start_info, start_info + PAGE_SIZE),
                       (pt_start, pt_start + nr_pt * PAGE_SIZE))


def first_allocation(image_end: int) -> int:
    """The bytes of dom0's first allocation: one naturally aligned block of 2**order pages that
    holds the initial mapping (dom0_build.c: ``order = get_order_from_bytes(v_end - v_start)``,
    then ``alloc_domheap_pages(d, order, ...)``, else ``panic("Not enough RAM for domain 0
    allocation")``, pv/dom0_build.c:611-619 in 4.20.4). Debian's 6.12 and 7.2 (images to
    0x4200000 and 0x4800000): 128 MiB."""
    _, _, count = initial_mapping(image_end)
    size = PAGE_SIZE
    while size < count:
        size <<= 1
    return size


def has_aligned_ram(mmap: Sequence[E820Entry], size: int) -> bool:
    """Whether the map's RAM holds a naturally aligned block of ``size`` bytes (a power of two):
    what the buddy allocator needs for ``first_allocation`` at the least (Xen's own image and
    heap may still take it)."""
    for r in ram_pages(mmap):
        start = _up(r.start << 12, size)
        if start + size <= r.end << 12:
            return True
    return False
