"""Judging a PVH dom0 (rig.model.pvh): Xen built dom0's map itself (pvh_setup_e820) and
printed it (dom0=verbose); Linux reads it by hypercall. Pure."""

from __future__ import annotations

from collections.abc import Sequence

from rig.domain.dom0mem import Dom0Mem, Dom0Size
from rig.domain.e820 import E820Entry, E820Type
from rig.domain.pages import (
    PfnRange,
    describe,
    pfn_down,
    pfn_up,
    ram_pages,
    subtract,
    total,
    whole_ram_pages,
)
from rig.domain.units import PAGE_SIZE
from rig.judge.balloon import balloon_target
from rig.judge.check import ACCOUNTING, COUNT, Check, CheckName, Status
from rig.judge.common import close, crash_check, xsave_fallback_check
from rig.judge.expect import Expect
from rig.judge.inputs import Inputs
from rig.judge.judgement import Judgement
from rig.model import balloon, pvh
from rig.model.kernel import FIXES, fixes_of, parse_version
from rig.parse.collect import ParsedLog
from rig.parse.crash import LINUX_CRASHES, Kind


def judge_pvh(log: ParsedLog, inp: Inputs, expect: Expect) -> Judgement:
    """Xen built dom0's map itself (pvh_setup_e820) and printed it (dom0=verbose); Linux reads
    it by hypercall. Judged: Xen's map against its source, Linux's against Xen's, the balloon
    and Xen's own count against both."""
    xen = log.xen
    checks: list[Check] = []
    prediction: pvh.PvhPrediction | None = None
    printed = xen.dom0_e820
    if inp.missing:
        checks.append(Check(CheckName.MODEL, Status.INCOMPLETE, message="no prediction is "
                            "possible: the log lacks " + "; ".join(inp.missing)))
    else:
        assert inp.nr_pages is not None
        built = pvh.dom0_map(inp.machine_map, inp.nr_pages)
        stolen = pvh.acpi_steal(printed, built) if printed else None
        window = pvh.grant_window(inp.kernel is not None and inp.kernel.unpopulated_alloc
                                  is False, xen.cmdline)
        prediction = pvh.predict(inp.machine_map, inp.nr_pages, stolen, window)
        checks.append(Check(CheckName.MODEL, Status.PASS, message=(
            f"PVH dom0: its map from {inp.record.map_source} as Xen's pvh_setup_e820 builds "
            f"it, nr_pages {inp.nr_pages} ({inp.record.nr_pages_source})"
            + (f", {stolen} bytes of it taken for Xen's ACPI tables (Xen's Dom0 memory map)"
               if stolen is not None else "") + "; " + "; ".join(inp.notes)).rstrip("; ")))
    place = _kernel_place(log, prediction, inp)
    version = inp.kernel.version if inp.kernel else None
    xsave = xsave_fallback_check(log, version)
    extra = _pvh_extra_mem(log, printed, version)
    checks.append(crash_check(log, place if place is not None and place.expected == "refuse"
                              else None, expect, (Kind.XEN_PANIC,), explained=xsave or extra))
    if place is not None:
        checks.append(place)
    if xsave is not None:
        checks.append(xsave)
    if extra is not None:
        checks.append(extra)
    checks.append(Check(CheckName.SETUP, Status.SKIP, message="PVH dom0: Linux's PV memory setup "
                        "(Released/Remapped) does not run; Xen builds the map"))
    if prediction is not None:
        checks.append(_pvh_map(printed, prediction))
        checks.append(_pvh_linux_map(log, printed))
        checks.append(_pvh_balloon(log, prediction))
        checks.append(_pvh_target(log, prediction, inp, expect))
        checks.append(_pvh_accounting(log, prediction, inp.size, expect.xen_count))
    # nr_pages of a PVH dom0 is what Xen's printed map holds (rig.parse.xen): none without it
    checks.append(_pvh_nr_pages(inp.nr_pages if printed else None, inp.mem, inp.machine_map))
    checks += close(log, checks, expect, refused=False)
    return Judgement(checks, None, inp.record, False, prediction)


def _kernel_place(log: ParsedLog, p: pvh.PvhPrediction | None, inp: Inputs) -> Check | None:
    """Where Xen put the PVH kernel (rig.model.pvh.kernel_placement), when its place is not
    RAM in dom0's map; nothing to judge otherwise."""
    xen = log.xen
    # the place its ELF asks for: as Xen's loader printed it, else (Xen before 4.19 fails
    # before it prints) from the booted kernel's ELF
    layout = inp.kernel.layout if inp.kernel is not None else None
    image = xen.elf_memory or ((layout.text, layout.image_end) if layout else None)
    if p is None or image is None or not xen.version:
        return None
    try:
        version = parse_version(xen.version)
    except ValueError:
        return None
    place = pvh.kernel_placement(p.built, image, version, xen.phys32_reloc)
    a, b = place.image
    where = f"[{a:#x}, {b:#x})"
    if place.conflict is None:
        if xen.kernel_moved is None:
            return None
        return Check(CheckName.KERNEL_PLACE, Status.FAIL, "in place", "moved",
                     f"the kernel's place {where} is RAM, yet Xen moved it")
    c = place.conflict
    what = f"{c.type.value} [{c.start:#x}, {c.end:#x}) lies in the kernel's place {where}"
    built = not log.linux.seen and any(h.kind is Kind.XEN_PANIC for h in log.crashes)
    if place.outcome == "moved":
        moved = xen.kernel_moved
        if moved is not None and place.fits(p.built, moved):
            return Check(CheckName.KERNEL_PLACE, Status.PASS, "moved", "moved",
                         f"{what}: Xen moved the kernel to [{moved[0]:#x}, {moved[1]:#x}), RAM "
                         f"its PHYS32_RELOC note allows ({pvh.RELOCATION_COMMIT}, Xen 4.19)")
        return Check(CheckName.KERNEL_PLACE, Status.FAIL, "moved",
                     None if moved is None else f"[{moved[0]:#x}, {moved[1]:#x})",
                     f"{what}: Xen must move the kernel to RAM its PHYS32_RELOC note allows, "
                     + ("but did not" if moved is None else "but its new place is not such"))
    if place.outcome == "refused":
        ok = xen.kernel_not_relocatable
        return Check(CheckName.KERNEL_PLACE, Status.PASS if ok else Status.FAIL, "refuse",
                     "refused" if ok else None,
                     f"{what} and the kernel has no PHYS32_RELOC note (Linux before 6.12): "
                     "Xen cannot move it, " + ("and refused it, as it must" if ok else
                                               "but did not say 'not relocatable'"))
    version_text = ".".join(map(str, version))
    return Check(CheckName.KERNEL_PLACE, Status.FAIL, "moved", "Xen failed" if built else None,
                 f"{what}: a Xen with {pvh.RELOCATION_COMMIT} (\"x86/pvh: Support relocating "
                 "dom0 kernel\", Xen 4.19) moves the kernel; this one "
                 + ("could not build dom0" if built else "went on") +
                 f". Known: Xen {version_text} predates {pvh.RELOCATION_COMMIT}")


def _pvh_target(log: ParsedLog, p: pvh.PvhPrediction, inp: Inputs,
                expect: Expect) -> Check:
    """A correct PVH dom0's balloon starts from Xen's count (b13cd24c15d7) or, before it, from
    the RAM Linux counts; never with the extra RAM reserved for the balloon counted in
    (6.9 to 6.14, 87af633689ce)."""
    xen, own = balloon.pvh_xen_count(p.xen_pages), balloon.pvh_own_count(p.own_pages)
    want = {xen.kb: xen.rule, own.kb: f"{own.rule} (before b13cd24c15d7)"}
    own_kb, lacking = None, ""
    if inp.kernel is not None:
        version = inp.kernel.version
        own_kb = balloon.pvh_start(fixes_of(version), version, p.xen_pages, p.own_pages,
                                   p.extra_pages).kb
        lacking = "; ".join(f"{f.commit} (\"{f.title}\")" for f in FIXES
                            if f.name == "balloon-pvh-target" and not f.in_version(version))
    return balloon_target(log, want, expect, own_kb, lacking,
                          inp.kernel.balloon_driver if inp.kernel else None)


def _pvh_map(printed: list[E820Entry], p: pvh.PvhPrediction) -> Check:
    if not printed:
        return Check(CheckName.PVH_MAP, Status.INCOMPLETE, message="Xen printed no Dom0 memory map "
                     "(it does with dom0=pvh,verbose, as rig boots it)")
    if p.stolen is None:
        return Check(CheckName.PVH_MAP, Status.FAIL, "ACPI tables at the top of low RAM", None,
                     "Xen's Dom0 memory map does not end its last RAM below 4 GiB with the "
                     "ACPI data Xen's pvh_setup_acpi takes there", COUNT)
    want = pvh.with_steal(p.built, p.stolen)
    diff = pvh.ram_entry_differences(printed, want)
    if diff or not 0 < p.stolen < PAGE_SIZE:
        why = "; ".join(diff) or f"{p.stolen} bytes for the ACPI tables"
        return Check(CheckName.PVH_MAP, Status.FAIL, whole_ram_pages(want),
                     whole_ram_pages(printed),
                     f"Xen built dom0 another map than pvh_setup_e820 does: {why}", COUNT)
    return Check(CheckName.PVH_MAP, Status.PASS, whole_ram_pages(want), whole_ram_pages(printed),
                 "Xen's Dom0 memory map is pvh_setup_e820's of the machine's E820 and nr_pages, "
                 f"less {p.stolen} bytes for its ACPI tables", COUNT)


def _pvh_linux_map(log: ParsedLog, printed: list[E820Entry]) -> Check:
    """Linux reads dom0's map from Xen (XENMEM_memory_map). 6.9+ turns UNUSABLE back into RAM
    it reserves for the balloon (xen_reserve_extra_memory); nothing else may differ."""
    mine = log.linux.e820
    if not mine or not printed:
        return Check(CheckName.LINUX_MAP, Status.SKIP,
                     message="Linux's or Xen's printed map is missing")
    xen_ram = ram_pages(printed)
    linux_ram = ram_pages(mine)
    unusable = [PfnRange(pfn_down(e.start), pfn_up(e.end)) for e in printed
                if e.type is E820Type.UNUSABLE]
    missing = subtract(xen_ram, linux_ram)
    extra = subtract(subtract(linux_ram, xen_ram), unusable)
    if missing or extra:
        found = ([f"RAM Xen gave, missing: {describe(missing)}"] if missing else []) + \
            ([f"RAM Xen did not give: {describe(extra)}"] if extra else [])
        return Check(CheckName.LINUX_MAP, Status.FAIL, None, None,
                     "Linux's map is not the one Xen gave it: " + "; ".join(found))
    converted = total(subtract(linux_ram, xen_ram))
    return Check(CheckName.LINUX_MAP, Status.PASS, message="Linux's map has the RAM Xen gave" + (
        f", and {converted} page(s) of Xen's UNUSABLE as RAM reserved for the balloon "
        "(xen_reserve_extra_memory)" if converted else ""))


#: pvh_reserve_extra_memory() came with 38620fc4e893 ("x86/xen: attempt to inflate the
#: memory balloon on PVH", 6.9)
EXTRA_MEMORY_SINCE = (6, 9)
_FIX = "rig/regressions/fix-pvh-extra-mem-pages.patch"


def _pvh_extra_mem(log: ParsedLog, printed: list[E820Entry],
                   version: tuple[int, ...] | None) -> Check | None:
    """rig's seventh finding: 6.9+ turns the UNUSABLE entries of the map Xen gave into RAM to
    their bytes (rig.model.pvh.extra_memory). Said when the map makes that go wrong and the
    kernel crashed (or, for an entry inside one page, dropped its map); a kernel with the fix
    does neither, and a free page Xen never populated that nothing read is no evidence."""
    if not printed or version is None or version < EXTRA_MEMORY_SINCE:
        return None
    em = pvh.extra_memory(printed)
    crashed = any(h.fatal and h.kind in LINUX_CRASHES for h in log.crashes)
    known = (" Known: rig's finding (README, Findings), which no kernel fixes yet: " + _FIX)
    # the map dropped for e801's: no RAM above 1 MiB in the kernel's own
    dropped = bool(log.linux.e820) and not any(e.is_ram and e.end > 0x100000
                                                for e in log.linux.e820)
    if em.wrapped is not None and (crashed or dropped):
        e = em.wrapped
        return Check(CheckName.EXTRA_MEM, Status.FAIL, "whole pages of UNUSABLE as RAM",
                     f"UNUSABLE [{e.start:#x}, {e.end:#x})",
                     f"Xen's map has UNUSABLE [{e.start:#x}, {e.end:#x}), inside one page: "
                     "pvh_reserve_extra_memory() (38620fc4e893, 6.9) counts its whole pages as "
                     "PFN_DOWN(end) - PFN_UP(start), which wraps; its split then makes an entry "
                     "that overflows, the kernel drops the whole map for e801's (its printed "
                     "map: 'BIOS-e801') and runs out of memory." + known)
    if em.unpopulated_free and crashed:
        pages = ", ".join(f"{p:#x}" for p in em.unpopulated_free[:4])
        return Check(CheckName.EXTRA_MEM, Status.FAIL, "whole pages of UNUSABLE as RAM",
                     f"pfn {pages}",
                     f"pvh_reserve_extra_memory() (38620fc4e893, 6.9) turns UNUSABLE entries "
                     "of Xen's map into RAM to their bytes and reserves only their whole pages; "
                     f"where converted entries meet mid-page the map's merge makes pfn {pages} "
                     "whole free RAM, which Xen never populated (it reads as all ones), "
                     "above dom0's own RAM, where memblock allocates first: the kernel crashed "
                     "in its early setup." + known)
    return None


def _pvh_balloon(log: ParsedLog, p: pvh.PvhPrediction) -> Check:
    current = log.init.balloon_kb.get("current_kb")
    want = list(p.balloon_pages)
    if current is None:
        return Check(CheckName.NOTHING_LOST, Status.SKIP, want, None,
                     "no balloon figure in the log")
    observed = current // 4
    if observed == p.xen_pages:
        return Check(CheckName.NOTHING_LOST, Status.PASS, want, observed, "the balloon starts from "
                     f"Xen's count for dom0 ({observed}: XENMEM_current_reservation), and Linux "
                     f"has the RAM Xen gave ({p.own_pages} pages of it its own)", ACCOUNTING)
    if observed == p.own_pages:
        return Check(CheckName.NOTHING_LOST, Status.PASS, want, observed, "the balloon counts "
                     f"the RAM Linux has ({observed}: the whole pages of Xen's map, less page 0 "
                     "and the page Xen's ACPI tables start in)", ACCOUNTING)
    return Check(CheckName.NOTHING_LOST, Status.FAIL, want, observed,
                 f"the balloon holds {observed} pages: neither Xen's count {p.xen_pages} nor the "
                 f"RAM of Xen's map Linux can have ({p.own_pages})", ACCOUNTING)


def _pvh_accounting(log: ParsedLog, p: pvh.PvhPrediction, size: Dom0Size | None,
                    live: bool) -> Check:
    tot = log.xen.dom0_tot_pages
    if tot is None:
        return Check(CheckName.XEN_ACCOUNTING, Status.INCOMPLETE if live else Status.SKIP,
                     p.xen_pages, None, "Xen's debug-key 'q' dump of dom0 is not in the log")
    window = p.nr_pages - pvh.SHARED_INFO_PAGES - p.xen_pages
    less = "the page Linux maps its shared info over" + (
        f" and the {window} its grant table's window gives back (no "
        "CONFIG_XEN_UNPOPULATED_ALLOC)" if window else "")
    problems = []
    if tot != p.xen_pages:
        problems.append(f"Xen counts {tot} pages for dom0, not nr_pages {p.nr_pages} less {less}")
    seen_max = log.xen.dom0_max_pages_seen
    if size is not None and seen_max is not None and seen_max != size.max_pages:
        problems.append(f"Xen's max_pages for dom0 is {seen_max}, dom0_mem asks for "
                        f"{size.max_pages}")
    if problems:
        return Check(CheckName.XEN_ACCOUNTING, Status.FAIL, p.xen_pages, tot, "; ".join(problems),
                     ACCOUNTING)
    if window:
        return Check(CheckName.XEN_ACCOUNTING, Status.PASS, p.xen_pages, tot,
                     f"Xen counts {tot} pages for dom0: nr_pages {p.nr_pages} less {less} (Xen "
                     "frees the pages they displace)", ACCOUNTING)
    return Check(CheckName.XEN_ACCOUNTING, Status.PASS, p.xen_pages, tot,
                 f"Xen counts {tot} pages for dom0: nr_pages {p.nr_pages} less the RAM page Linux "
                 "mapped its shared info over (Xen frees the page it displaces)", ACCOUNTING)


def _pvh_nr_pages(built: int | None, mem: Dom0Mem | None,
                  machine_map: Sequence[E820Entry]) -> Check:
    """Xen's sizing of a PVH dom0, where the machine's RAM decides it whatever Xen's free
    memory, paging pool and IOMMU tables took (Dom0Mem.for_pvh_machine)."""
    ram = ram_pages(machine_map)
    want = (mem.for_pvh_machine(total(ram), ram[-1].end)
            if mem is not None and ram else None)
    if want is None or built is None:
        return Check(CheckName.NR_PAGES, Status.SKIP, want.nr_pages if want else None, built,
                     "for a PVH dom0 a dom0_mem is known only where the machine's RAM decides "
                     "it whatever Xen's free memory, IOMMU and paging reservations (and Xen's "
                     "map must be printed)")
    ok = built == want.nr_pages
    return Check(CheckName.NR_PAGES, Status.PASS if ok else Status.FAIL, want.nr_pages, built,
                 "Xen gave dom0 what dom0_mem asks for" if ok else
                 "Xen gave dom0 another nr_pages than dom0_mem asks for")


