"""A PVH dom0's memory, from Xen's and Linux's source. Pure.

Xen (4.17.7 and 4.20.1 alike, xen/arch/x86/hvm/dom0_build.c):

- ``pvh_setup_e820`` builds dom0's map from the host's: each RAM entry page-aligned inwards
  (start rounded up, end down), counted in order until dom0's nr_pages are reached; the entry
  that crosses nr_pages is cut there and its rest, and every later RAM entry, become UNUSABLE.
  Every other entry is copied as it is. ``pvh_populate_p2m`` then populates every RAM page:
  dom0 holds exactly nr_pages.
- ``pvh_setup_acpi`` writes dom0's own MADT, XSDT and RSDP into RAM it takes from the top of
  the last RAM entry below 4 GiB (``pvh_steal_ram(d, size, 0, GB(4), ...)``: byte alignment)
  and marks those bytes ACPI data. The page they start in stays populated and dom0's, but is no
  longer whole RAM in dom0's map: Linux cannot use it (seen: 218 bytes at 0x7ffdff26).

Linux (6.12):

- ``reserve_shared_info`` (arch/x86/xen/enlighten_hvm.c) reserves the first free RAM page for
  the shared info, and ``xen_hvm_init_shared_info`` maps it there with XENMEM_add_to_physmap;
  Xen's ``xenmem_add_to_physmap_one`` (xen/arch/x86/mm/p2m.c) removes the RAM page that was
  at that frame ("Remove previously mapped page if it was present": ``guest_remove_page``).
  Xen then counts one page fewer for dom0 than it gave (seen: 786432 after the build, 786431
  by "Booting kernel on Xen PVH").
- ``xen_reserve_extra_memory`` (arch/x86/xen/enlighten_pvh.c, 6.9+) turns UNUSABLE entries
  back into RAM that it reserves for the balloon, so Linux's printed map has RAM where Xen's
  has UNUSABLE; that RAM is never populated and not counted.
- ``xen_pvh_gnttab_setup`` (arch/x86/xen/grant-table.c) maps the grant table's window at its
  largest size (``grant_window``); without CONFIG_XEN_UNPOPULATED_ALLOC those slots are RAM
  pages the kernel gives back to Xen before the balloon starts (seen: 64 pages on rig's minimal
  builds, none on Debian's).
- The balloon's ``current_kb`` is the RAM Linux has (``get_num_physpages``): the whole pages
  of Xen's RAM entries, the shared-info page included, the ACPI page not.

No "Released"/"Remapped" step runs in PVH (they are PV's, arch/x86/xen/setup.c).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rig.domain.e820 import E820Entry, E820Type, sanitize
from rig.domain.pages import pfn_down, pfn_up, whole_ram_pages
from rig.domain.units import GIB4, PAGE_SIZE
from rig.model.conflicts import in_the_way, usable
from rig.model.extra_mem import EXTRA_MEM_RATIO

#: pages Xen counts less than it gave, after Linux maps its shared info over a RAM page
SHARED_INFO_PAGES = 1
#: a dom0's grant table at its largest, in frames: Xen's gnttab_max_frames= (its default,
#: opt_max_grant_frames, 64: xen/common/grant_table.c), which GNTTABOP_query_size reports
GRANT_FRAMES = 64


def grant_window(ballooned: bool, xen_cmdline: str | None = None) -> int:
    """The RAM pages a PVH dom0 gives Xen back at boot for its grant table's window:
    ``xen_pvh_gnttab_setup()`` (arch/x86/xen/grant-table.c) asks ``xen_xlate_map_ballooned_pages()``
    for the table's largest size, and without CONFIG_XEN_UNPOPULATED_ALLOC
    (``ballooned``) that is ``xen_alloc_ballooned_pages()``: before balloon_init adds the
    extra regions, ``decrease_reservation()`` of that many RAM pages (drivers/xen/balloon.c).
    With the option the pages come from the unpopulated pool: none."""
    if not ballooned:
        return 0
    m = re.search(r"(?:^|\s)gnttab_max_frames=(\d+)", xen_cmdline or "")
    return int(m.group(1)) if m else GRANT_FRAMES


def dom0_map(host: Sequence[E820Entry], nr_pages: int) -> list[E820Entry]:
    """``pvh_setup_e820``: dom0's map before Xen takes its ACPI tables' bytes."""
    out: list[E820Entry] = []
    cur = 0
    for e in host:
        if not e.is_ram:
            out.append(e)
            continue
        if cur == nr_pages:
            out.append(E820Entry(e.start, e.end, E820Type.UNUSABLE))
            continue
        start, end = pfn_up(e.start) * PAGE_SIZE, pfn_down(e.end) * PAGE_SIZE
        if start >= end:
            continue  # Xen drops a RAM entry that holds no whole page
        pages = (end - start) // PAGE_SIZE
        if cur + pages > nr_pages:
            cut = start + (nr_pages - cur) * PAGE_SIZE
            out += [E820Entry(start, cut, E820Type.RAM), E820Entry(cut, end, E820Type.UNUSABLE)]
            cur = nr_pages
        else:
            out.append(E820Entry(start, end, E820Type.RAM))
            cur += pages
    return out


def acpi_steal(xen_map: Sequence[E820Entry], built: Sequence[E820Entry]) -> int | None:
    """The bytes Xen took for dom0's ACPI tables, from the map Xen printed: the part of the
    construction's last RAM entry below 4 GiB past where Xen's print ends it. Xen marks them
    ACPI data (4.20.1); 4.17.7 was seen to leave the top 96 of 218 bytes without an entry,
    which changes no page. None when nothing was taken there, or the bytes taken are RAM."""
    low_ram = [e for e in xen_map if e.is_ram and e.end <= GIB4]
    if not low_ram:
        return None
    last = low_ram[-1]
    source = [b for b in built if b.is_ram and b.start == last.start and last.end < b.end]
    if not source:
        return None
    taken = (last.end, source[0].end)
    if any(e.is_ram and e.start < taken[1] and taken[0] < e.end for e in xen_map
           if e is not last):
        return None
    return taken[1] - taken[0]


@dataclass(frozen=True)
class PvhPrediction:
    nr_pages: int
    #: dom0's map as ``pvh_setup_e820`` builds it (before the ACPI tables' bytes)
    built: list[E820Entry]
    #: the bytes Xen's print shows it took for its ACPI tables (None: not yet known)
    stolen: int | None
    #: the RAM Linux counts as its own (``get_num_physpages``): the whole pages of RAM in
    #: dom0's map once the tables' bytes are taken, less page 0 (x86 keeps it reserved:
    #: ``e820: update [mem 0x00000000-0x00000fff] usable ==> reserved``)
    own_pages: int
    #: what Xen counts for dom0 once Linux runs
    xen_pages: int

    @property
    def balloon_pages(self) -> tuple[int, ...]:
        """The balloon's ``current_kb`` / 4 at boot, by the kernel's balloon_init: Xen's count
        (XENMEM_current_reservation for dom0: drivers/xen/balloon.c since January 2026, e.g.
        Debian's 6.12.118), or the RAM Linux counts (before it, e.g. 6.1)."""
        return (self.xen_pages, self.own_pages)

    @property
    def extra_pages(self) -> int:
        """Xen's UNUSABLE RAM in dom0's map, which Linux 6.9+ turns back into RAM for the
        balloon (xen_reserve_extra_memory)."""
        return sum(pfn_down(e.end) - pfn_up(e.start) for e in self.built
                   if e.type is E820Type.UNUSABLE and pfn_down(e.end) > pfn_up(e.start))


def predict(host: Sequence[E820Entry], nr_pages: int,
            stolen: int | None = None, window: int = 0) -> PvhPrediction:
    """``stolen``: the bytes of Xen's ACPI tables when Xen's print shows them; without it,
    they are taken to be less than a page and not page-aligned (always so for rig's machines:
    MADT, XSDT and RSDP of a few CPUs are a few hundred bytes), which costs Linux one page.
    ``window``: the pages the kernel gives back for its grant table (``grant_window``)."""
    built = dom0_map(sanitize(host), nr_pages)
    lost = 1 if stolen is None else -(-stolen // PAGE_SIZE)  # the pages the tables' bytes touch
    page0 = 1 if any(e.is_ram and e.start == 0 for e in built) else 0
    return PvhPrediction(nr_pages, built, stolen, whole_ram_pages(built) - lost - page0,
                         nr_pages - SHARED_INFO_PAGES - window)


def with_steal(built: Sequence[E820Entry], stolen: int) -> list[E820Entry]:
    """``built`` after Xen took ``stolen`` bytes from the top of its last RAM entry below
    4 GiB (the map Xen must print)."""
    low = [i for i, e in enumerate(built) if e.is_ram and e.end <= GIB4]
    if not low or stolen <= 0:
        return list(built)
    i = low[-1]
    e = built[i]
    return [*built[:i], E820Entry(e.start, e.end - stolen, E820Type.RAM),
            E820Entry(e.end - stolen, e.end, E820Type.ACPI), *built[i + 1:]]


def ram_entry_differences(got: Sequence[E820Entry], want: Sequence[E820Entry]) -> list[str]:
    """Entries of RAM (exact bytes) in one map and not the other."""
    a = [(e.start, e.end) for e in sanitize(got) if e.is_ram]
    b = [(e.start, e.end) for e in sanitize(want) if e.is_ram]
    return ([f"printed only [{s:#x}, {e:#x})" for s, e in a if (s, e) not in b]
            + [f"built only [{s:#x}, {e:#x})" for s, e in b if (s, e) not in a])


__all__ = ["PvhPrediction", "acpi_steal", "dom0_map", "predict", "ram_entry_differences",
           "with_steal"]


#: Xen 4.19: dfc9fab003785fc533e1e3190e19ddc3101da442 "x86/pvh: Support relocating dom0 kernel"
XEN_PVH_RELOCATION = (4, 19)
RELOCATION_COMMIT = "dfc9fab003"


@dataclass(frozen=True)
class Placement:
    """Where Xen can load a PVH dom0's kernel: at the place its ELF asks for when that is RAM
    in dom0's map; else Xen 4.19+ moves a kernel that carries XEN_ELFNOTE_PHYS32_RELOC (Linux
    6.12+ on x86_64) to RAM within the note's [min, max] at its alignment; a kernel without the
    note is refused ("Address conflict and not relocatable"), and older Xen loads the kernel
    only where it asks and fails to build dom0 ("Failed to load kernel", "Could not construct
    domain 0")."""

    image: tuple[int, int]
    conflict: E820Entry | None
    outcome: str  # in place | moved | refused | xen fails
    reloc: tuple[int, int, int] | None = None

    def fits(self, dom0_map: Sequence[E820Entry], moved: tuple[int, int]) -> bool:
        """Whether ``moved`` is a place the note allows: inside one RAM entry, aligned, within
        [min, max]."""
        if self.reloc is None:
            return False
        align, lo, hi = self.reloc
        start, end = moved
        return (start % align == 0 and lo <= start and end - 1 <= hi
                and end - start == self.image[1] - self.image[0]
                and usable(dom0_map, start, end))


def kernel_placement(dom0_map: Sequence[E820Entry], image: tuple[int, int],
                     xen_version: tuple[int, ...], reloc: tuple[int, int, int] | None
                     ) -> Placement:
    """``image``: [start, end) the kernel's ELF asks for (Xen's "ELF: memory"); ``reloc``:
    its PHYS32_RELOC note (align, min, max), when it has one."""
    if usable(dom0_map, *image):
        return Placement(image, None, "in place", reloc)
    conflict = in_the_way(dom0_map, *image)
    if tuple(xen_version[:2]) < XEN_PVH_RELOCATION:
        return Placement(image, conflict, "xen fails", reloc)
    if reloc is None:
        return Placement(image, conflict, "refused", reloc)
    return Placement(image, conflict, "moved", reloc)


@dataclass(frozen=True)
class ExtraMemory:
    """What ``pvh_reserve_extra_memory()`` (arch/x86/xen/enlighten_pvh.c, since 38620fc4e893,
    6.9) makes of dom0's map without rig's fix (rig/regressions/fix-pvh-extra-mem-pages.patch):
    it turns each UNUSABLE entry, in order and within ``EXTRA_MEM_RATIO`` times dom0's RAM,
    into RAM to its bytes, and reserves only its whole pages."""

    #: the first UNUSABLE entry it reached that holds no whole page: its page count wraps, the
    #: split makes an entry that overflows, and the kernel drops the whole map for e801's
    wrapped: E820Entry | None
    #: pages that end up free RAM though Xen never populated them: the partial pages of
    #: converted entries that the map's merge of adjacent RAM makes whole (memblock allocates
    #: from the top, where they lie above dom0's RAM)
    unpopulated_free: tuple[int, ...]

    @property
    def faulty(self) -> bool:
        return self.wrapped is not None or bool(self.unpopulated_free)


def extra_memory(dom0_map: Sequence[E820Entry]) -> ExtraMemory:
    """``pvh_reserve_extra_memory()`` on ``dom0_map`` (the map Xen gave dom0, as it printed
    it), without rig's fix."""
    ram = [e for e in dom0_map if e.is_ram]
    extra = EXTRA_MEM_RATIO * sum(max(0, pfn_down(e.end) - pfn_up(e.start)) for e in ram)
    converted: list[tuple[int, int]] = []
    reserved: list[tuple[int, int]] = []  # pfn ranges [first, end)
    for e in dom0_map:
        if not extra:
            break
        if e.type is not E820Type.UNUSABLE:
            continue
        whole = pfn_down(e.end) - pfn_up(e.start)
        if whole < 0:
            return ExtraMemory(e, ())
        pages = min(extra, whole)
        end = e.end if pages == whole else (pfn_up(e.start) + pages) * PAGE_SIZE
        converted.append((e.start, end))
        reserved.append((pfn_up(e.start), pfn_up(e.start) + pages))
        extra -= pages
    # only a converted entry's partial first or last page can be free and unpopulated: Xen's
    # RAM is whole pages (populated), a converted entry's whole pages are reserved
    taken = reserved + [(pfn_up(e.start), pfn_down(e.end)) for e in ram]
    merged = _merged([(e.start, e.end) for e in ram] + converted)
    partial = sorted({pfn_down(x) for s, e in converted for x in (s, e) if x % PAGE_SIZE})
    free = tuple(p for p in partial
                 if any(s <= p * PAGE_SIZE and (p + 1) * PAGE_SIZE <= e for s, e in merged)
                 and not any(a <= p < b for a, b in taken))
    return ExtraMemory(None, free)


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Byte ranges that touch or overlap, joined (as e820__update_table joins RAM)."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out
