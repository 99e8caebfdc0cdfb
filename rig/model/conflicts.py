"""Linux's checks of Xen's allocations for a PV dom0 against its E820, and the ACPI NVS it
swaps away (arch/x86/xen/setup.c; the 2024 series "xen: fix dom0 PV boot on some AMD machines"
and its 2026 fixes, rig.model.kernel.FIXES). Pure.

A correct kernel (all fixes) checks the kernel image [_text, _end), the start info and the page
tables Xen built (``xen_chk_is_e820_usable``, in that order). Before each check an ACPI NVS
entry in the way is swapped with the top of the first RAM entry that lies wholly above nr_pages
(``xen_e820_resolve_conflicts``, ``xen_e820_swap_entry_with_ram``): the NVS moves there (its
offset in its first page kept) and its own pages become RAM; the loop restarts after each swap,
since the map was re-sorted. At most NR_NONRAM_REMAP (4) swaps. Anything else in the way (a
gap, reserved, ACPI data) and the kernel stops: "Xen hypervisor allocated <component> memory
conflicts with E820 map". Kernels without a fix behave as the fix's commit says they did:
``fixes`` names the ones a kernel has.

One way a kernel halts is rig's finding, not a refusal: every kernel with be35d91c8880 takes
the swap's new place as the RAM entry's end less the swap's size, and when that end is not on a
page the place is not either; xen_add_remap_nonram() (arch/x86/xen/p2m.c) then finds the
pseudo-physical and machine addresses at different page offsets and its BUG_ON stops dom0
before its console is up, with no message of its own. A correct kernel takes the entry's end
down to a page (fix "swap-target-aligned", rig/regressions/fix-swap-target-aligned.patch).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rig.domain.e820 import E820Entry, E820Type, sanitize
from rig.domain.units import PAGE_SIZE
from rig.model.kernel import ALL_FIXES, Kernel

#: arch/x86/xen/p2m.c
NR_NONRAM_REMAP = 4
#: sizeof(struct start_info) on x86_64 (xen/include/public/xen.h): Linux checks this much
START_INFO_SIZE = 0x490


@dataclass(frozen=True)
class Allocations:
    """Where Xen put a PV dom0's kernel and what it built for it, in dom0's pseudo-physical
    space (Xen's "Dom0 kernel: paddr" and VIRTUAL MEMORY ARRANGEMENT lines)."""

    #: [pstart, pend) Xen loaded (past the kernel's _end: .init.scratch)
    image: tuple[int, int]
    start_info: tuple[int, int] | None = None
    page_tables: tuple[int, int] | None = None


@dataclass(frozen=True)
class Swap:
    """One NVS entry moved away from Xen's allocations."""

    entry: E820Entry
    moved: E820Entry

    @property
    def pages(self) -> int:
        """What "Remapped N non-RAM page(s)" counts for it (p2m.c: PFN_DOWN..PFN_UP)."""
        first = self.entry.start // PAGE_SIZE
        return -(-(self.entry.end) // PAGE_SIZE) - first


@dataclass(frozen=True)
class Conflict:
    """Why the kernel stops: the component whose memory an entry of its map is in."""

    component: str
    range: tuple[int, int]
    entry: E820Entry
    #: the line the kernel prints before it stops, or (``printed`` false) what stops it
    message: str
    #: False: the kernel stops without a message of its own (a BUG_ON before its console is
    #: up); only Xen's "Hardware Dom0 halted" is seen
    printed: bool = True
    #: the start of the line such a kernel prints as it stops, when it prints one of the
    #: kernel's own (a fault before the exception handlers are up); "" for a silent halt
    shows: str = ""


@dataclass
class Resolution:
    view: list[E820Entry]
    swaps: list[Swap] = field(default_factory=list)
    conflict: Conflict | None = None
    #: what was checked, for the model's inputs
    checked: list[tuple[str, tuple[int, int]]] = field(default_factory=list)

    @property
    def nonram_pages(self) -> int:
        return sum(s.pages for s in self.swaps)


def checked_ranges(kernel: Kernel, alloc: Allocations,
                   fixes: frozenset[str]) -> list[tuple[str, tuple[int, int]]]:
    """The ranges the kernel checks, in its order, with the names it prints them by."""
    image = alloc.image
    if kernel.layout is not None:
        end = kernel.layout.end if "end-of-kernel" in fixes else kernel.layout.bss_stop
        image = (kernel.layout.text, end)
    out = [("kernel", image)]
    if alloc.start_info is not None and "start-info-check" in fixes:
        s = alloc.start_info[0]
        # the kernel checks the struct's bytes (setup.c:872), but reads it through its page,
        # which must be RAM: a correct kernel checks the page (rig's fourth finding)
        size = PAGE_SIZE if "start-info-page" in fixes else START_INFO_SIZE
        out.append(("xen_start_info", (s, s + size)))
    if alloc.page_tables is not None:
        # check_pt_base() (mmu_pv.c:1744-1757, 1883-1891) gives Xen's L4 back, a dom0's first
        # page-table page ([L4], [L1], [L2], [L3], ...): the kernel checks the rest
        start, end = alloc.page_tables
        out.append(("page table", (start + PAGE_SIZE, end)))
    return out


def usable(view: Sequence[E820Entry], start: int, end: int) -> bool:
    """xen_is_e820_reserved() is false: one RAM entry holds all of [start, end)."""
    return any(e.is_ram and e.start <= start and end <= e.end for e in view)


def in_the_way(view: Sequence[E820Entry], start: int, end: int) -> E820Entry:
    """The lowest non-RAM entry or gap that overlaps [start, end)."""
    ordered = sorted(view, key=lambda e: e.start)
    candidates = [e for e in ordered if not e.is_ram]
    covered = 0
    for e in ordered:
        if e.start > covered:
            candidates.append(E820Entry(covered, e.start, E820Type.OTHER))
        covered = max(covered, e.end)
    candidates.append(E820Entry(covered, max(covered, end), E820Type.OTHER))
    hits = [e for e in candidates if e.start < end and start < e.end]
    return min(hits, key=lambda e: e.start, default=E820Entry(start, end, E820Type.OTHER))


def _span(nvs: E820Entry) -> tuple[int, int]:
    """The whole pages an entry touches, as xen_e820_swap_entry_with_ram() swaps them: their
    start and size."""
    swap_addr = nvs.start // PAGE_SIZE * PAGE_SIZE
    return swap_addr, -(-(nvs.end - swap_addr) // PAGE_SIZE) * PAGE_SIZE


def _target(view: Sequence[E820Entry], swap_size: int, mem_end: int,
            aligned: bool) -> tuple[E820Entry, int] | None:
    """The first RAM entry whose top ``swap_size`` bytes lie at or above ``mem_end``, and where
    its top ends (xen_e820_swap_entry_with_ram(): the entry's end; with the fix
    "swap-target-aligned", that end taken down to a page, so the rest keeps whole pages)."""
    for e in view:
        end = e.end // PAGE_SIZE * PAGE_SIZE if aligned else e.end
        if e.is_ram and end - swap_size >= max(mem_end, e.start):
            return e, end
    return None


def _swap(view: list[E820Entry], nvs: E820Entry, target: E820Entry, end: int,
          offset_fixed: bool) -> tuple[list[E820Entry], Swap]:
    """xen_e820_swap_entry_with_ram(): ``target``'s top pages below ``end`` go to the NVS (a
    part page above ``end`` is left out of the map), the NVS's own pages become RAM."""
    swap_addr, swap_size = _span(nvs)
    offset = nvs.start - swap_addr
    to = end - swap_size
    # before 28e03f78e69c the offset was subtracted: the entry landed 2*offset low
    at = to + offset if offset_fixed else to - offset
    moved = E820Entry(at, at + nvs.size, E820Type.NVS)
    rest = [x for x in view if x != nvs and x != target]
    rest += [E820Entry(target.start, to, E820Type.RAM), moved,
             E820Entry(swap_addr, swap_addr + swap_size, E820Type.RAM)]
    return sanitize(rest), Swap(nvs, moved)


def resolve_conflicts(view: Sequence[E820Entry], kernel: Kernel, alloc: Allocations,
                      nr_pages: int, fixes: frozenset[str] = ALL_FIXES) -> Resolution:
    """What the kernel makes of its map's entries in the way of Xen's allocations."""
    out = Resolution(sanitize(view))
    out.checked = checked_ranges(kernel, alloc, fixes)
    for component, (start, end) in out.checked:
        if end <= start:
            continue
        if "nvs-swap" in fixes:
            conflict = _resolve_one(out, start, end, nr_pages, fixes)
            if conflict is not None:
                out.conflict = conflict
                return out
        if not usable(out.view, start, end):
            e = in_the_way(out.view, start, end)
            out.conflict = Conflict(component, (start, end), e,
                                    f"Xen hypervisor allocated {component} memory conflicts "
                                    "with E820 map")
            return out
    if alloc.start_info is not None and "start-info-page" not in fixes:
        out.conflict = _start_info_page(out.view, alloc.start_info[0])
    return out


def _start_info_page(view: Sequence[E820Entry], start: int) -> Conflict | None:
    """rig's fourth finding: an entry that shares the start info's page but not its bytes
    passes the kernel's check and is not swapped; the page is then no RAM page of the map,
    the setup takes it for a hole, and dom0 faults reading its start info through it (from
    xen_make_pte_init(), before its exception handlers are up: "PANIC: early exception")."""
    page = (start, start + PAGE_SIZE)
    if usable(view, *page):
        return None
    e = in_the_way(view, *page)
    return Conflict("xen_start_info", page, e,
                    f"the start info's page [{page[0]:#x}, {page[1]:#x}) is not wholly RAM "
                    f"({e.type.value} [{e.start:#x}, {e.end:#x}) shares it, though not the "
                    "struct's bytes the kernel checks): the setup takes the page for a hole "
                    "and dom0 faults reading its start info (PANIC: early exception)",
                    printed=False, shows="PANIC: early exception")


def _resolve_one(out: Resolution, start: int, end: int, nr_pages: int,
                 fixes: frozenset[str]) -> Conflict | None:
    """xen_e820_resolve_conflicts() on [start, end): the NVS entries in it swapped away."""
    i = 0
    while i < len(out.view):
        e = out.view[i]
        if e.start >= end:
            return None
        if e.end > start and e.type is E820Type.NVS:
            if len(out.swaps) >= NR_NONRAM_REMAP:
                return Conflict("kernel", (start, end), e, "Number of required E820 entry "
                                "remapping actions exceed maximum value")
            swap_size = _span(e)[1]
            found = _target(out.view, swap_size, nr_pages * PAGE_SIZE,
                            "swap-target-aligned" in fixes)
            if found is None:
                return Conflict("kernel", (start, end), e, "No suitable area found for "
                                "required E820 entry remapping action")
            target, top = found
            if top % PAGE_SIZE:
                return Conflict("kernel", (start, end), e, _unaligned(target, top - swap_size),
                                printed=False)
            out.view, swap = _swap(out.view, e, target, top, "nvs-swap-offset" in fixes)
            out.swaps.append(swap)
            if "resolve-restart" in fixes:
                i = 0  # the map was re-sorted and merged: start again
                continue
        i += 1
    return None


def _unaligned(target: E820Entry, to: int) -> str:
    return (f"BUG_ON in xen_add_remap_nonram() (arch/x86/xen/p2m.c): the swap's target, RAM "
            f"[{target.start:#x}, {target.end:#x}), ends inside a page, so the NVS's new place "
            f"{to:#x} is not page-aligned and its page offset differs from its machine "
            "address's; dom0 halts before its console is up")
