"""The extra memory a PV dom0 registers above nr_pages, and whether the pages it remaps there
fit in it (arch/x86/xen/setup.c, xen_memory_setup() and xen_remap_memory(); line numbers of
Debian's 6.12.118 source, 6.1.192's in brackets). Pure.

xen_memory_setup() gives the E820 RAM above nr_pages an extra-memory budget: Xen's max_pages for
dom0 (XENMEM_maximum_reservation, at most MAXMEM) plus the pages of the non-RAM areas below
nr_pages, less nr_pages, at most EXTRA_MEM_RATIO times nr_pages (876-892 [781-796]). It walks
each RAM entry above nr_pages taking ``PFN_PHYS(extra_pages)`` *bytes* from the entry's start
and registers the whole pages in them, ``[PFN_UP(addr), PFN_DOWN(addr + chunk))``, as an
extra-memory region (908-914 [810-816]). The remap puts the pages of the non-RAM areas below
nr_pages into the whole pages of the same RAM entries, from nr_pages up (xen_find_pfn_range(),
173-188 [214-229]), and xen_remap_memory() takes each remapped run back out of the regions
(xen_del_extra_mem(), whose BUG_ONs are at 95, 102, 108 [136, 143, 149]).

rig's finding: when a RAM entry above nr_pages starts inside a page (the non-RAM entry before
it ends at a byte) and the budget runs out in it, those bytes hold one whole page less than the
budget: the region is a page short (and the rest of the entry is walked 4 KiB at a time,
adding nothing). When the budget is the remap alone (dom0's max_pages equal to nr_pages, as
``dom0_mem=max:X`` below Xen's default gives), the remap's last page lies past the region and
``BUG_ON(n_pfns > size_r)`` stops dom0: ``kernel BUG at arch/x86/xen/setup.c:95!`` (136 in
6.1). A correct kernel counts the budget from the first whole page (fix
"extra-mem-whole-pages", rig/regressions/fix-extra-mem-whole-pages.patch).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rig.domain.e820 import E820Entry
from rig.domain.pages import PfnRange, pfn_down, pfn_up, ram_from, subtract
from rig.domain.units import PAGE_SIZE

#: arch/x86/xen/xen-ops.h:184 in 6.12 (setup.c:73 in 6.1)
EXTRA_MEM_RATIO = 10
#: the first kernels whose source rig read for this (6.1.192, 6.12.118, 7.x): earlier ones are
#: not modelled
FIRST_READ = (6, 1)


@dataclass(frozen=True)
class ShortRegion:
    """A remapped page that no extra-memory region holds: the BUG in xen_del_extra_mem()."""

    #: the extra-memory regions the kernel registered
    regions: tuple[PfnRange, ...]
    #: where the remap puts the pages of the non-RAM areas below nr_pages
    destinations: tuple[PfnRange, ...]
    #: the first remapped page outside every region
    pfn: int

    def message(self) -> str:
        region = next((r for r in self.regions if r.end == self.pfn), None)
        held = f"the extra-memory region {region} holds {region.pages} page(s)" if region \
            else "no extra-memory region holds it"
        return (f"the remap puts a page at pfn {self.pfn:#x}, but {held}: a RAM entry above "
                "nr_pages starts inside a page and the kernel counted its extra-memory budget in "
                "bytes from there, one whole page short; xen_del_extra_mem() "
                "(arch/x86/xen/setup.c) BUGs when the remap takes its pages back")


def regions(view: Sequence[E820Entry], nr_pages: int, budget: int,
            whole_pages: bool) -> list[PfnRange]:
    """The extra-memory regions xen_memory_setup() registers: ``budget`` pages handed to the
    RAM above nr_pages in map order; ``whole_pages``: counted from the first whole page (the
    fix), else as the kernels do, in bytes from where the RAM starts."""
    mem_end = nr_pages * PAGE_SIZE
    out: list[PfnRange] = []
    for e in sorted(view, key=lambda x: x.start):
        if not e.is_ram or e.end <= mem_end or budget <= 0:
            continue
        addr = max(e.start, mem_end)
        first = pfn_up(addr)
        if whole_pages or addr % PAGE_SIZE == 0 or e.end - addr <= budget * PAGE_SIZE:
            pages = max(0, min(pfn_down(e.end), first + budget) - first)
        else:
            # PFN_PHYS(budget) bytes from inside a page hold budget - 1 whole pages; the budget
            # stays at 1 and the rest of the entry is walked 4 KiB at a time, none of which
            # holds a whole page. Not modelled: when the entry's end lies further into its
            # page than its start, the walk's last chunk gives n_pfns = -1 (unsigned: the
            # budget grows to 2 and a region of ULONG_MAX pages is added); on such maps the
            # model's regions after this entry may differ from the kernel's
            pages = budget - 1
        if pages:
            out.append(PfnRange(first, first + pages))
        budget -= pages
    return out


def check(view: Sequence[E820Entry], nr_pages: int, max_pages: int, maxmem_pfn: int,
          remap_pages: int, whole_pages: bool) -> ShortRegion | None:
    """The remapped page no region holds, if any. ``max_pages``: Xen's max_pages for dom0;
    ``remap_pages``: the pages of the non-RAM areas below nr_pages (what the kernel counts,
    xen_count_remap_pages()). The remap's destinations are the first whole RAM pages from
    nr_pages up (xen_find_pfn_range())."""
    limit = min(max_pages, maxmem_pfn) + remap_pages
    budget = min(EXTRA_MEM_RATIO * min(nr_pages, maxmem_pfn), max(0, limit - nr_pages))
    held = regions(view, nr_pages, budget, whole_pages)
    dest = ram_from(view, nr_pages, remap_pages)
    outside = subtract(dest, held)
    return ShortRegion(tuple(held), tuple(dest), outside[0].start) if outside else None
