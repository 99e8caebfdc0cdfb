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
from dataclasses import dataclass, field

from rig.domain.e820 import E820Entry, E820Type, sanitize
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


def budget(nr_pages: int, max_pages: int, maxmem_pfn: int, remap_pages: int) -> int:
    """The extra-memory budget (876-892 [781-796]). ``max_pages``: Xen's max_pages for dom0;
    ``remap_pages``: the pages of the non-RAM areas below nr_pages (what the kernel counts,
    xen_count_remap_pages())."""
    limit = min(max_pages, maxmem_pfn) + remap_pages
    return min(EXTRA_MEM_RATIO * min(nr_pages, maxmem_pfn), max(0, limit - nr_pages))


def short_region(view: Sequence[E820Entry], nr_pages: int, budget_pages: int,
                 remap_pages: int, whole_pages: bool) -> ShortRegion | None:
    """The remapped page no region holds, if any. The remap's destinations are the first
    whole RAM pages from nr_pages up (xen_find_pfn_range())."""
    held = regions(view, nr_pages, budget_pages, whole_pages)
    dest = ram_from(view, nr_pages, remap_pages)
    outside = subtract(dest, held)
    return ShortRegion(tuple(held), tuple(dest), outside[0].start) if outside else None


#: ISA_START_ADDRESS, ISA_END_ADDRESS: reserved by xen_memory_setup() after its walk (944 [846];
#: 949 in 7.2.13)
ISA = (0xA0000, 0x100000)


#: the pages Xen's XENMEM_machine_memory_map reports as reserved where its map has a gap,
#: because dom0 may not map them (xen/arch/x86/mm.c handle_iomem_range(), b8a456caedf and
#: 9d8edc5a8b; dom0_setup_permissions() denies the IO-APICs and the local APIC): on rig's
#: QEMU machines one IO-APIC and the local APIC. Linux prints them ("device reserved"); Xen's
#: own map does not hold them. Measured: the 12-06 campaign's 56 GiB layout printed 438821
#: "table full" lines (1793 shown, 437030 dropped less Linux's 2 first lines), the count the
#: walk gives with these two entries
XEN_IO_PAGES = (0xFEC00000, 0xFEE00000)


def machine_memory_map(view: Sequence[E820Entry]) -> list[E820Entry]:
    """The map as XENMEM_machine_memory_map gives it to dom0: ``view`` with XEN_IO_PAGES as
    reserved entries where they lie in a gap."""
    io = [E820Entry(a, a + PAGE_SIZE, E820Type.RESERVED) for a in XEN_IO_PAGES
          if not any(e.start < a + PAGE_SIZE and a < e.end for e in view)]
    # the kernel sanitizes what Xen gave it (e820__update_table(), 852 [755]): a page next to
    # a reserved entry of the map merges into it
    return sanitize([*view, *io])


@dataclass(frozen=True)
class TableFull:
    """The kernel's E820 table overflowing in the 4 KiB walk (rig's second finding, its other
    face): each step adds an empty entry through xen_align_and_add_e820_region(); past
    E820_MAX_ENTRIES __e820__range_add() ignores every add, the walk's and the real entries'
    after it ("E820 table full; ignoring [mem ...]", "too many entries" before 7.x)."""

    #: the RAM entry walked, from where the budget ran out in it
    walked: tuple[int, int]
    #: the walk's steps, each an empty add
    steps: int
    #: every add xen_memory_setup() makes, the walk's included, and the table's size
    adds: int
    limit: int
    #: the ranges of the non-empty adds the table had no room for, [start, end), in order
    ignored: tuple[tuple[int, int], ...]
    #: extra-memory regions whose RAM entry was among them: memory the kernel registers as
    #: extra but its map does not hold
    unmapped_extra: tuple[PfnRange, ...]
    #: the walk's last step wrapped n_pfns to -1 (_wrapped()): the counts stop there
    wrapped: bool = False

    @property
    def lines(self) -> int:
        """How many "table full" lines the kernel prints."""
        return self.adds - self.limit

    def message(self) -> str:
        if self.wrapped:
            return (f"the kernel's extra-memory budget runs out in RAM starting inside a page at "
                    f"{self.walked[0]:#x}, where its walk's last step (to {self.walked[1]:#x}) "
                    "gives n_pfns = -1: the budget grows and a region of ULONG_MAX pages is "
                    "added; rig does not count the adds past that")
        lost = ", ".join(f"[{a:#x}, {b:#x})" for a, b in self.ignored[:6]) + (
            f" and {len(self.ignored) - 6} more" if len(self.ignored) > 6 else "")
        extra = "; ".join(str(r) for r in self.unmapped_extra)
        return (f"the kernel's extra-memory budget runs out in RAM starting inside a page at "
                f"{self.walked[0]:#x}, and it walks the rest of that entry (to "
                f"{self.walked[1]:#x}) 4 KiB at a time, adding an empty E820 entry per step: "
                f"{self.steps} steps, {self.adds} adds for a table of {self.limit} "
                f"(E820_MAX_ENTRIES), so {self.lines} are ignored, among them "
                + (lost or "no entry of the map")
                + (f"; its extra memory {extra} has no E820 RAM entry (arch_xen_unpopulated_"
                   "init() hands it out by pfn_to_page(): a page fault where no memory "
                   "section holds it)" if extra else ""))


@dataclass
class _Table:
    """The kernel's E820 table as xen_memory_setup() fills it: only the count and what it had
    no room for."""

    limit: int
    index: int = 0
    ignored: list[tuple[int, int]] = field(default_factory=list)
    unmapped: list[PfnRange] = field(default_factory=list)

    def add(self, start: int, end: int, ram: bool, extra: PfnRange | None = None) -> None:
        if ram:  # xen_align_and_add_e820_region(): RAM trimmed to whole pages
            start, end = pfn_up(start) * PAGE_SIZE, pfn_down(end) * PAGE_SIZE
        if self.index >= self.limit and end > start:
            self.ignored.append((start, end))
            if extra is not None and extra.pages:
                self.unmapped.append(extra)
        self.index += 1


def table_full(view: Sequence[E820Entry], nr_pages: int, budget_pages: int,
               limit: int) -> TableFull | None:
    """The overflow of the kernel's E820 table by xen_memory_setup()'s walk of the map
    (898-932 [801-835]) as kernels without the fix make it, if it overflows. Each map entry
    is added in chunks: RAM below nr_pages up to nr_pages, RAM above it while the budget
    lasts (PFN_PHYS(budget) bytes, the whole pages in them counted), the rest of RAM
    discarded, anything else whole; then the ISA range. Where the walk's last chunk wraps
    n_pfns to -1, an overflow that says so (``wrapped``), the counts not modelled past it."""
    mem_end = nr_pages * PAGE_SIZE
    table = _Table(limit)
    walked: tuple[int, int] | None = None
    steps = 0
    for e in machine_memory_map(view):
        addr, end = e.start, e.end
        while addr < end:
            chunk_end = end
            if not e.is_ram:
                table.add(addr, end, False)
            elif addr < mem_end:
                chunk_end = min(end, mem_end)
                table.add(addr, chunk_end, True)
            elif budget_pages == 1 and addr % PAGE_SIZE and end - addr > PAGE_SIZE:
                if (n := _walk(addr, end)) is None:
                    return _wrapped((addr, end), table, limit)
                walked, steps = (addr, end), n
                table.index += n  # empty adds: none of them names a range
            elif budget_pages > 0:
                chunk_end = min(end, addr + budget_pages * PAGE_SIZE)
                first = pfn_up(addr)
                pages = pfn_down(chunk_end) - first
                if pages < 0:  # n_pfns = -1: the budget grows (not modelled, regions())
                    return _wrapped((addr, chunk_end), table, limit)
                table.add(addr, chunk_end, True, PfnRange(first, first + pages))
                budget_pages -= pages
            addr = chunk_end  # RAM past the budget: discarded
    table.add(*ISA, False)
    if table.index <= limit or walked is None:
        return None
    return TableFull(walked, steps, table.index, limit, tuple(table.ignored),
                     tuple(table.unmapped))


def _wrapped(walked: tuple[int, int], table: _Table, limit: int) -> TableFull:
    """A walk whose last step gives n_pfns = -1: the budget grows and a region of ULONG_MAX
    pages is added, which rig does not model; what comes after is not counted."""
    return TableFull(walked, 0, table.index, limit, tuple(table.ignored),
                     tuple(table.unmapped), wrapped=True)


def _walk(addr: int, end: int) -> int | None:
    """The steps of the walk from ``addr`` (inside a page) to ``end``: each 4 KiB holds no
    whole page; None where the last step, from ``addr + (n - 1) * 4 KiB`` to ``end``, gives
    n_pfns = -1 (the entry's end lies further into its page than its start: not modelled)."""
    n = -(-(end - addr) // PAGE_SIZE)
    last = addr + (n - 1) * PAGE_SIZE
    return None if pfn_down(end) < pfn_up(last) else n
