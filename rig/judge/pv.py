"""Judging a PV dom0: its memory setup (arch/x86/xen/setup.c) against the era model, where its
pages went, Xen's own count, and Xen's sizing of it. Pure."""

from __future__ import annotations

from rig.domain.dom0mem import Dom0Size
from rig.domain.e820 import E820Entry
from rig.domain.pages import PfnRange, total
from rig.domain.units import pages_mib
from rig.judge.balloon import balloon_target
from rig.judge.check import ACCOUNTING, COUNT, Check, CheckName, Status, count_check
from rig.judge.common import close, crash_check, xsave_fallback_check
from rig.judge.expect import Expect
from rig.judge.inputs import Inputs
from rig.judge.judgement import Judgement
from rig.model.conflicts import Conflict
from rig.model.extra_mem import TableFull
from rig.model.kernel import ALL_FIXES, FIX, FIXES, Era, Fix, fixes_of
from rig.model.pv import WHAT as _WHAT
from rig.model.pv import Prediction, predict
from rig.model.xen_pv import first_allocation, has_aligned_ram
from rig.parse.collect import ParsedLog
from rig.parse.crash import Kind


def judge_pv(log: ParsedLog, inp: Inputs, expect: Expect) -> Judgement:
    """``expect``: what the log must hold (rig.judge.expect)."""
    checks: list[Check] = []
    prediction: Prediction | None = None
    if inp.missing:
        checks.append(Check(CheckName.MODEL, Status.INCOMPLETE,
                            message="no prediction is possible: the log lacks "
                            + "; ".join(inp.missing)))
    else:
        assert inp.nr_pages is not None and inp.kernel is not None
        prediction = predict(inp.machine_map, inp.nr_pages, inp.max_pages, inp.kernel,
                             inp.allocations)
        status = Status.WARN if log.xen.nr_pages_disagreement else Status.PASS
        r = inp.record
        summary = (f"predicted era {prediction.era.value} from {r.map_source}, "
                   f"nr_pages {inp.nr_pages} ({r.nr_pages_source}), kernel "
                   f"{r.kernel_version} ({r.kernel_version_source})")
        checks.append(Check(CheckName.MODEL, status, message="; ".join([summary, *inp.notes])))
    for note in log.cut:
        checks.append(Check(CheckName.WRAPPED, Status.WARN, message=f"line {note[0]}: a cut "
                            f"'{note[1]}' message could not be rejoined: {note[2]!r}"))

    refusal = _refusal(log, prediction, inp)
    extra = (_extra_mem(log, inp) if prediction is not None and prediction.short_region is None
             else None)
    xen_bug = _xen_kept_no_page(log, inp)
    first_alloc = _xen_first_allocation(log)
    xsave = xsave_fallback_check(log, inp.kernel.version if inp.kernel else None)
    if first_alloc is not None and first_alloc.status is Status.ERROR:
        # Xen's panic is its builder's, on a map it cannot build on: no crash of the kernel's
        # (a bisect must skip such a step, never call it bad)
        checks.append(Check(CheckName.CRASH, Status.SKIP, None, None, "Xen panicked building "
                            "dom0 on a map its builder cannot use: the xen_build check says why"))
    else:
        checks.append(crash_check(log, refusal, expect, explained=extra if extra is not None
                                  and extra.status is Status.FAIL
                                  else xen_bug or first_alloc or xsave))
    if first_alloc is not None:
        checks.append(first_alloc)
    if xsave is not None:
        checks.append(xsave)
    if refusal is not None:
        checks.append(refusal)
    refused = refusal is not None and refusal.status is Status.PASS and refusal.expected == "refuse"
    if refused:
        checks.append(Check(CheckName.SETUP, Status.SKIP,
                            message="dom0 refused the layout, as predicted: nothing to count"))
    else:
        if prediction is not None:
            checks.extend(_setup_checks(log, prediction))
            checks.extend(_nonram(log, prediction, inp))
        if extra is not None:
            checks.append(extra)
        checks.append(_nothing_lost(log, inp.nr_pages))
        if prediction is not None:
            own_kb, own_rule, lacking = _own_balloon(inp)
            want = prediction.balloon_current_kb
            rule = own_rule if own_kb == want and own_rule else prediction.balloon_rule
            checks.append(balloon_target(log, {want: rule or ""} if want is not None else {},
                                         expect, own_kb, lacking,
                                         inp.kernel.balloon_driver if inp.kernel else None))
        checks.append(_xen_accounting(log, inp.nr_pages, inp.size, expect.xen_count))
    checks.append(xen_bug or _nr_pages(log, inp))

    checks += close(log, checks, expect, refused)
    return Judgement(checks, prediction, inp.record, refused)


def _refusal(log: ParsedLog, pred: Prediction | None, inp: Inputs) -> Check | None:
    """dom0's kernel must refuse a map in which what Xen allocated for it is not inside one RAM
    entry after it swapped the ACPI NVS in the way (rig.model.conflicts), and only then."""
    hit = next((h for h in log.crashes if h.kind is Kind.E820_CONFLICT), None)
    conflict = pred.conflict if pred is not None else None
    swaps = pred.resolution.swaps if pred is not None and pred.resolution is not None else []
    if hit is None and conflict is None:
        if not swaps:
            return None
        went_on = log.linux.remapped_pages is not None or log.linux.released_pages is not None
        moved = ", ".join(f"{s.entry.type.value} [{s.entry.start:#x}, {s.entry.end:#x})"
                          for s in swaps)
        # a kernel may stop after its memory setup said it went on ("Released" is printed in
        # xen_memory_setup()) and before its remap: rig's fourth finding faults there
        remapped = log.linux.remapped_pages is not None
        halt = None if remapped or pred is None else _silent_halt(log, pred, inp, moved)
        if halt is not None:
            return halt
        return Check(CheckName.REFUSAL, Status.PASS if went_on else Status.INCOMPLETE, "boot",
                     "went on" if went_on else None,
                     f"{moved} lies in what Xen allocated for dom0, which a correct kernel "
                     "swaps with RAM above nr_pages: " + (
                         "dom0 went on with its memory setup, as it must" if went_on else
                         "the log ends before dom0's memory setup says whether it went on"))
    where = (f"{conflict.entry.type.value} [{conflict.entry.start:#x}, {conflict.entry.end:#x}) "
             f"lies inside the {_WHAT.get(conflict.component, conflict.component)} Xen placed"
             if conflict else "")
    if hit is not None and conflict is not None:
        return Check(CheckName.REFUSAL, Status.PASS, "refuse", "refused",
                     f"dom0 refused the layout, as it must: {where} (line {hit.line_no}: "
                     f"{hit.text})")
    if hit is not None:
        if pred is None:
            return None  # no model to say whether the refusal was due: the crash check tells
        why, known = _a_correct_kernel_boots(pred, inp)
        return Check(CheckName.REFUSAL, Status.FAIL, "boot", "refused",
                     f"dom0 refused a layout {why} (line {hit.line_no}: {hit.text}){known}")
    went_on = log.linux.remapped_pages is not None or log.linux.released_pages is not None
    if log.linux.remapped_pages is None and pred is not None and conflict is not None:
        # the NVS swaps come before the check that refuses (xen_chk_is_e820_usable()), so a
        # kernel whose swap halts never gets to print its refusal; a kernel that checks less
        # than a correct one goes on, and may stop later (rig's fourth finding)
        moved = ", ".join(f"{s.entry.type.value} [{s.entry.start:#x}, {s.entry.end:#x})"
                          for s in swaps)
        refuses = f"refuses the layout ('{conflict.message}')"
        halt = _silent_halt(log, pred, inp, moved, f"and then {refuses}") if swaps else \
            _silent_halt(log, pred, inp, "", correct=refuses)
        if halt is not None:
            return halt
    return Check(CheckName.REFUSAL, Status.FAIL if went_on else Status.INCOMPLETE, "refuse",
                 "went on" if went_on else None,
                 f"dom0 must refuse this layout ({where}) but "
                 + ("went on with its memory setup" if went_on else
                    "the log ends before it says so"))


def _extra_mem(log: ParsedLog, inp: Inputs) -> Check | None:
    """rig's finding (rig.model.extra_mem): on a layout where a kernel that counts its extra
    memory in bytes from an unaligned RAM start remaps a page past its extra-memory region,
    whether the kernel's remap completed ("Remapped N page(s)" is printed after
    xen_remap_memory() took every remapped run out of the regions) or BUGged there."""
    assert inp.nr_pages is not None and inp.kernel is not None
    fix = FIX["extra-mem-whole-pages"]
    lacking = predict(inp.machine_map, inp.nr_pages, inp.max_pages, inp.kernel,
                      inp.allocations, ALL_FIXES - {fix.name})
    if lacking.short_region is None and (log.linux.e820_full_lines
                                         or lacking.table_full is not None):
        # where the remap BUGs too (below), the BUG is what stops dom0: it is judged
        return _table_full(log, inp, lacking.table_full)
    without = lacking.short_region
    if without is None:
        return None
    if log.linux.remapped_pages is not None:
        return Check(CheckName.EXTRA_MEM, Status.PASS, "remap done", "remap done",
                     "the remap's pages all lie in the extra memory the kernel registered "
                     f"(it printed 'Remapped {log.linux.remapped_pages} page(s)'), where a "
                     f"kernel without {fix.named()} BUGs: {without.message()}")
    refused = any(h.kind is Kind.E820_CONFLICT for h in log.crashes)
    # the BUG_ONs of xen_del_extra_mem() are setup.c's only ones on the way from a finished
    # memory setup to "Remapped N page(s)"; a refusal's BUG() is setup.c's too, and comes first
    bug = None if refused else next((h for h in log.crashes if h.kind is Kind.LINUX_BUG
                                     and "arch/x86/xen/setup.c" in h.text), None)
    if bug is None:
        return Check(CheckName.EXTRA_MEM, Status.INCOMPLETE, "remap done", None,
                     "the log ends before dom0's remap says whether it fit its extra memory "
                     f"(a kernel without {fix.named()} BUGs there)")
    version = inp.kernel.version
    return Check(CheckName.EXTRA_MEM, Status.FAIL, "remap done", "BUG",
                 f"line {bug.line_no}: {bug.text}: {without.message()}; it behaves as a "
                 f"kernel without {fix.named()}" + _known([fix], version))


def _table_full(log: ParsedLog, inp: Inputs, full: TableFull | None) -> Check:
    """The other face of the same finding: the 4 KiB walk overflows the kernel's E820 table
    ("E820 table full; ignoring [mem ...]"), which a correct kernel, with no walk, never
    does; judged by the entries the table had no room for, against the model of a kernel
    without the fix (an empty entry's line says nothing: those are the walk's own)."""
    assert inp.kernel is not None
    fix = FIX["extra-mem-whole-pages"]
    linux = log.linux
    seen = linux.e820_full_lines
    went_on = linux.remapped_pages is not None or linux.released_pages is not None
    if not seen:
        assert full is not None
        if not went_on:
            return Check(CheckName.EXTRA_MEM, Status.INCOMPLETE, "table holds the map", None,
                         "the log ends before dom0's memory setup says whether its E820 "
                         f"table held the map (a kernel without {fix.named()} overflows it)")
        return Check(CheckName.EXTRA_MEM, Status.PASS, "table holds the map", "table holds the map",
                     "no 'E820 table full' line before dom0's memory setup ended, where a "
                     f"kernel without {fix.named()} goes wrong: {full.message()}")
    lost = [(a, b) for a, b in linux.e820_ignored]
    shown = ", ".join(f"[{a:#x}, {b:#x})" for a, b in lost[:6]) or "only empty entries"
    printed = (f"{seen} 'E820 table full' line(s)"
               + (f" ({linux.printk_dropped} earlier lines were dropped)"
                  if linux.printk_dropped else "") + f", the entries ignored: {shown}")
    if full is None:
        return Check(CheckName.EXTRA_MEM, Status.FAIL, "table holds the map", "table full",
                     f"dom0's E820 table overflowed: {printed}; the model, of a correct kernel "
                     f"or of one without {fix.named()}, does not overflow it on this map")
    # the dropped lines may have taken the first ignored entries: the printed ones must be
    # the model's last (a wrapped walk's count is not modelled: the walk itself is the match)
    same = full.wrapped or (lost == list(full.ignored[len(full.ignored) - len(lost):])
                            if lost else not full.ignored)
    if not same:
        return Check(CheckName.EXTRA_MEM, Status.FAIL, "table holds the map", "table full",
                     f"dom0's E820 table overflowed: {printed}; a kernel without "
                     f"{fix.named()} overflows it too, but the model has it ignore "
                     + (", ".join(f"[{a:#x}, {b:#x})" for a, b in full.ignored[-6:])
                        or "only empty entries"))
    return Check(CheckName.EXTRA_MEM, Status.FAIL, "table holds the map", "table full",
                 f"dom0's E820 table overflowed: {printed}: {full.message()}; it behaves as "
                 f"a kernel without {fix.named()}" + _known([fix], inp.kernel.version))


def _silent_halt(log: ParsedLog, pred: Prediction, inp: Inputs, moved: str,
                 then: str = "and goes on", correct: str | None = None) -> Check | None:
    """dom0 stopped before its memory setup said it went on, with no refusal message of its
    own, where a correct kernel swaps the NVS in its way (``then``: what it does next): a
    kernel bug when the model without a fix stops there silently too (rig's finding of the
    unaligned swap target)."""
    stop = next((h for h in log.crashes if h.fatal and h.kind in _HALTS), None)
    if stop is None:
        return None
    lacking = _stopping(inp, printed=False)
    if stop.kind is Kind.LINUX_PANIC:
        # a fault the kernel printed itself: of the silent stops, the ones that print it
        lacking = [x for x in lacking if x[1].shows and stop.text.startswith(x[1].shows)] \
            or lacking
    if not lacking:
        return None
    assert inp.kernel is not None
    version = inp.kernel.version
    predates = [f for f, _ in lacking if not f.in_version(version)]
    return Check(CheckName.REFUSAL, Status.FAIL, "boot", "halted",
                 f"dom0 halted (line {stop.line_no}: {stop.text}) where a correct kernel "
                 + (correct or f"swaps {moved} with RAM above nr_pages {then}")
                 + "; it behaves as a kernel without "
                 + "; ".join(f.named() for f, _ in lacking) + f": {lacking[0][1].message}"
                 + _known(predates, version))


def _stopping(inp: Inputs, printed: bool) -> list[tuple[Fix, Conflict]]:
    """The fixes without which the model stops the kernel, with how: by a refusal it prints
    (``printed``) or silently (a BUG_ON before the console is up)."""
    return [(f, p.conflict) for f, p in _without_each_fix(inp)
            if p.conflict is not None and p.conflict.printed is printed]


#: how a kernel that stops without a message of its own shows in the log
_HALTS = (Kind.DOM0_HALT, Kind.DOM0_CRASH, Kind.LINUX_BUG, Kind.LINUX_PANIC)


def _without_each_fix(inp: Inputs) -> list[tuple[Fix, Prediction]]:
    """The model's prediction for a kernel with every fix but one, for each fix: what names
    the fixes a kernel behaves as lacking."""
    assert inp.nr_pages is not None and inp.kernel is not None
    return [(f, predict(inp.machine_map, inp.nr_pages, inp.max_pages, inp.kernel,
                        inp.allocations, ALL_FIXES - {f.name})) for f in FIXES]


def _a_correct_kernel_boots(pred: Prediction, inp: Inputs) -> tuple[str, str]:
    """Why a refusal was wrong: what a correct kernel does with the map, and the fixes without
    which the model refuses it too (the kernel behaves as one that lacks them); and, when the
    kernel's version predates them all, the sentence that makes it a known bug."""
    assert inp.nr_pages is not None and inp.kernel is not None
    swaps = pred.resolution.swaps if pred.resolution is not None else []
    if not swaps:
        return "in which what Xen allocated for its kernel lies inside RAM", ""
    moved = ", ".join(f"{s.entry.type.value} [{s.entry.start:#x}, {s.entry.end:#x}) (to "
                      f"{s.moved.start:#x})" for s in swaps)
    lacking = [f for f, _ in _stopping(inp, printed=True)]
    version = inp.kernel.version
    # the fixes its version predates explain it; if it should have them all (a build with a fix
    # reverted, a backport missing), every fix whose absence the model repeats is named
    predates = [f for f in lacking if not f.in_version(version)]
    lacking = predates or lacking
    named = "; ".join(f.named() for f in lacking)
    return (f"a correct kernel boots: it swaps {moved} with RAM above nr_pages and goes on"
            + (f"; it behaves as a kernel without {named}" if named else ""),
            _known(predates, version))


#: the file of the BUG_ON() that stops Xen when dom0's build leaves it no page for its own
#: allocations (Xen 4.20.4: line 1033, after dom0_setup_permissions() returned -ENOMEM)
PV_DOM0_BUILD = "arch/x86/pv/dom0_build.c"


def _xen_kept_no_page(log: ParsedLog, inp: Inputs) -> Check | None:
    """Xen BUG()ed building dom0 after giving it every page it had free: rig's fifth finding,
    Xen's bug. The condition is the model's (dom0_mem and the nr_pages Xen built: a request of
    at least all Xen had), the BUG's file is what tells this BUG from another."""
    xen = log.xen
    built = xen.dom0_nr_pages
    site = xen.bug_site
    if site is None or not site.startswith(PV_DOM0_BUILD + ":") or built is None \
            or inp.mem is None or not inp.mem.may_take_every_free_page(built):
        return None
    asked = inp.mem.asked(built)
    how = (f"asks for {asked} pages, more than the {built} Xen had free" if asked > built else
           f"asks for {built} pages, which was all Xen had free")
    return Check(CheckName.NR_PAGES, Status.FAIL, None, built,
                 f"Xen gave dom0 every page it had free: dom0_mem={inp.mem.text} {how}, and "
                 "dom0_compute_nr_pages() clamps such a request to what is available with none "
                 "of the reserve its default keeps; Xen's own allocations after it "
                 f"(dom0_setup_permissions(): -ENOMEM) then fail, and it BUGs at {site}. "
                 "Known: rig's finding (README, Findings), a bug of Xen's, which no Xen fixes "
                 "yet; a correct Xen gives dom0 all but the reserve")


def _xen_first_allocation(log: ParsedLog) -> Check | None:
    """Xen panicked for want of a block for dom0's first allocation: one naturally aligned
    block of RAM that holds the initial mapping (rig.model.xen_pv.first_allocation, sized from
    where Xen put the kernel). A map without one cannot boot a PV dom0 of this kernel under
    Xen, whatever the kernel does: a layout rig should not have made, rig's error. A map with
    one, that Xen's own image or heap took, is beyond the model: a warning of rig's."""
    xen = log.xen
    if not xen.dom0_first_alloc_failed:
        return None
    if xen.dom0_kernel_paddr is None or not xen.e820:
        return Check(CheckName.XEN_BUILD, Status.WARN, None, None,
                     "Xen found no block for dom0's first allocation (\"Not enough RAM for "
                     "domain 0 allocation\"); where it put the kernel or its map is not in the "
                     "log, so rig cannot say why")
    size = first_allocation(xen.dom0_kernel_paddr[1])
    if has_aligned_ram(xen.e820, size):
        return Check(CheckName.XEN_BUILD, Status.WARN, size, None,
                     f"Xen found no block for dom0's first allocation though its map has a "
                     f"naturally aligned {size >> 20} MiB block of RAM: Xen's own "
                     "image or heap took it, which rig's model does not follow")
    return Check(CheckName.XEN_BUILD, Status.ERROR, size, None,
                 f"Xen cannot build this dom0 here: its first allocation is one naturally "
                 f"aligned block of {size >> 20} MiB for the initial mapping of a "
                 f"kernel loaded to {xen.dom0_kernel_paddr[1]:#x} (pv/dom0_build.c: "
                 "get_order_from_bytes(v_end - v_start), then \"Not enough RAM for domain 0 "
                 "allocation\"), and no such block of this map is RAM. Known: a layout Xen's "
                 "PV builder cannot boot, whatever the kernel; rig's layout, not the kernel's")


def _known(predates: list[Fix], version: tuple[int, ...]) -> str:
    """The sentence that makes a failure a known bug: the fixes the kernel's version predates,
    and rig's findings, which no kernel has a fix for yet."""
    released = [f.commit for f in predates if f.mainline is not None]
    findings = [f for f in predates if f.mainline is None]
    said = []
    if released:
        said.append(f"this kernel's version predates {', '.join(released)} "
                    f"({'.'.join(map(str, version))})")
    if findings:
        said.append("rig's finding (README, Findings), which no kernel fixes yet")
    return ". Known: " + "; ".join(said) if said else ""


def _own_balloon(inp: Inputs) -> tuple[int | None, str | None, str]:
    """The target the model gives a kernel with only the fixes its version carries, and the
    balloon fixes it lacks."""
    assert inp.nr_pages is not None and inp.kernel is not None
    version = inp.kernel.version
    own = predict(inp.machine_map, inp.nr_pages, inp.max_pages, inp.kernel, inp.allocations,
                  fixes_of(version))
    lacking = [f"{f.commit} (\"{f.title}\")" for f in FIXES
               if f.name.startswith("balloon-") and not f.in_version(version)]
    return own.balloon_current_kb, own.balloon_rule, "; ".join(lacking)


def _moved_as_without(printed: list[E820Entry], inp: Inputs) -> str:
    """The fixes without which the model puts the swapped entries where dom0 printed them."""
    named = []
    for f, p in _without_each_fix(inp):
        moved = [w.moved for w in (p.resolution.swaps if p.resolution else [])]
        if moved and all(any(e.type is m.type and e.start <= m.start and m.end <= e.end
                             for e in printed) for m in moved):
            named.append(f"{f.commit} (\"{f.title}\")")
    return f"; it put them where a kernel without {', '.join(named)} does" if named else ""


def _nonram(log: ParsedLog, pred: Prediction, inp: Inputs) -> list[Check]:
    """6.12+ (be35d91c8880) prints "Remapped N non-RAM page(s)" once the NVS it swapped is
    remapped (p2m.c xen_do_remap_nonram(), unconditionally), and its map has each swapped
    entry at its new place."""
    assert inp.kernel is not None
    if "nvs-swap" not in fixes_of(inp.kernel.version):
        return []
    linux = log.linux
    out = [count_check(CheckName.NONRAM_REMAPPED, pred.nonram_remapped_pages,
                       linux.remapped_nonram_pages, "Remapped N non-RAM page(s)")]
    swaps = pred.resolution.swaps if pred.resolution is not None else []
    if swaps and linux.e820:
        # each swapped entry where the model's map has it (merged with its neighbours of one
        # type, as e820__update_table() merges them)
        want = sorted({e for w in swaps for e in pred.e820
                       if e.type is w.moved.type and e.start <= w.moved.start
                       and w.moved.end <= e.end})
        missing = [e for e in want if e not in linux.e820]
        kinds = {e.type for e in want}
        message = ("each swapped entry is in dom0's map where a correct kernel puts it"
                   if not missing else
                   f"dom0's map lacks {len(missing)} of the entries the swapped ones make "
                   "where a correct kernel puts them" + _moved_as_without(linux.e820, inp))
        out.append(Check(CheckName.NONRAM_MOVED, Status.FAIL if missing else Status.PASS,
                         [f"{e.type.value} [{e.start:#x}, {e.end:#x})" for e in want],
                         [f"{e.type.value} [{e.start:#x}, {e.end:#x})" for e in linux.e820
                          if e.type in kinds], message))
    return out


def _ranges(rs: list[PfnRange]) -> list[str]:
    return [str(r) for r in rs]


def _setup_checks(log: ParsedLog, pred: Prediction) -> list[Check]:
    linux = log.linux
    out: list[Check] = []
    if pred.era in (Era.D, Era.E):
        out.append(count_check(CheckName.REMAPPED, pred.remapped_pages, linux.remapped_pages,
                                "Remapped N page(s)"))
        out.append(count_check(CheckName.RELEASED, pred.released_pages, linux.released_pages,
                                "Released N page(s)"))
    else:
        out.append(count_check(CheckName.RELEASED, pred.released_pages, linux.released_pages,
                                "Released N pages of unused memory"))
        if linux.freed_ranges or pred.freed_ranges:
            printed = total(linux.freed_ranges)
            ok = printed == linux.released_pages
            out.append(Check(CheckName.FREED_SUM, Status.PASS if ok else Status.FAIL,
                             linux.released_pages, printed,
                             "freed ranges sum to the released total" if ok else
                             f"freed ranges sum to {printed}, "
                             f"Released says {linux.released_pages}"))
            same = _ranges(linux.freed_ranges) == _ranges(pred.freed_ranges)
            out.append(Check(CheckName.FREED_RANGES, Status.PASS if same else Status.FAIL,
                             _ranges(pred.freed_ranges), _ranges(linux.freed_ranges),
                             "printed freed ranges are the predicted holes" if same else
                             "printed freed ranges differ from the predicted holes", COUNT))
        if pred.era is Era.C:
            observed = linux.populated_pages
            if observed is None and linux.released_pages is not None:
                observed = 0  # era C prints a Populating line only for a non-empty chunk
            out.append(count_check(CheckName.POPULATED, pred.populated_pages, observed,
                                    "Populating ... pages added"))
    return out


def _nothing_lost(log: ParsedLog, nr_pages: int | None) -> Check:
    """dom0 holds every page Xen gave it: the balloon's count (rig's /init) equals nr_pages,
    or, in a log from elsewhere, the setup messages say nothing was released for good."""
    if nr_pages is None:
        return Check(CheckName.NOTHING_LOST, Status.SKIP, message="dom0's nr_pages is not known")
    linux = log.linux
    current = log.init.balloon_kb.get("current_kb")
    released = linux.released_pages
    given_back = linux.populated_pages or 0
    # the setup messages are complete when the last one of the era is there: D/E's Remapped,
    # C's Populating (or the E820 dump that follows it when nothing was populated)
    complete = released is not None and (
        linux.remapped_pages is not None if linux.format_era in ("D", "E") else
        linux.populated_pages is not None or bool(linux.e820) if linux.format_era == "C" else
        linux.format_era in ("A", "B"))
    if current is not None:
        observed, source = current // 4, "balloon current_kb / 4"
    elif complete and released is not None:
        observed = nr_pages - max(0, released - given_back)
        source = "nr_pages - (released - populated), from the setup messages"
    else:
        return Check(CheckName.NOTHING_LOST, Status.SKIP, nr_pages, None,
                     "neither a balloon figure nor a complete set of setup messages")
    if observed == nr_pages:
        return Check(CheckName.NOTHING_LOST, Status.PASS, nr_pages, observed,
                     f"dom0 holds all {nr_pages} pages Xen gave it ({source})", ACCOUNTING)
    if observed > nr_pages:
        return Check(CheckName.NOTHING_LOST, Status.FAIL, nr_pages, observed,
                     f"dom0 counts {pages_mib(observed - nr_pages)} more than Xen gave it "
                     f"({source})", ACCOUNTING)
    lost = nr_pages - observed
    how = ("released, never populated or remapped" if released and not given_back
           and not linux.remapped_pages else "not accounted for by the setup messages")
    return Check(CheckName.NOTHING_LOST, Status.FAIL, nr_pages, observed,
                 f"dom0 lost {pages_mib(lost)} to holes: {how} ({source})", ACCOUNTING)


def _xen_accounting(log: ParsedLog, nr_pages: int | None, size: Dom0Size | None,
                    live: bool) -> Check:
    """Xen's own count of dom0's pages after boot (debug key 'q'): the seed's acceptance test
    ("'xl list' now reflects what the dom0_mem= argument is"), seen from Xen."""
    xen = log.xen
    tot = xen.dom0_tot_pages
    if tot is None:
        if live:
            return Check(CheckName.XEN_ACCOUNTING, Status.INCOMPLETE, nr_pages, None,
                         "Xen's debug-key 'q' dump of dom0 is not in the log")
        return Check(CheckName.XEN_ACCOUNTING, Status.SKIP, nr_pages, None,
                     "no Xen debug-key 'q' dump in the log")
    if nr_pages is None:
        return Check(CheckName.XEN_ACCOUNTING, Status.SKIP, None, tot,
                     f"Xen counts {tot} pages for dom0, but what it gave dom0 is not known")
    balloon = log.init.balloon_kb.get("current_kb")
    problems = []
    if tot < nr_pages:
        problems.append(f"Xen took back {pages_mib(nr_pages - tot)}: it counts {tot} pages "
                        f"for dom0 of the {nr_pages} it gave")
    elif tot > nr_pages:
        problems.append(f"Xen counts {tot - nr_pages} pages more for dom0 than it gave it "
                        f"({tot} vs {nr_pages})")
    if balloon is not None and balloon // 4 != tot:
        problems.append(f"the balloon believes dom0 holds {balloon // 4} pages, Xen counts {tot}")
    if size is not None and xen.dom0_max_pages_seen is not None \
            and xen.dom0_max_pages_seen != size.max_pages:
        problems.append(f"Xen's max_pages for dom0 is {xen.dom0_max_pages_seen}, dom0_mem asks "
                        f"for {size.max_pages}")
    if problems:
        return Check(CheckName.XEN_ACCOUNTING, Status.FAIL, nr_pages, tot, "; ".join(problems),
                     ACCOUNTING)
    seen = f"Xen counts {tot} pages for dom0 = nr_pages"
    if balloon is not None:
        seen += " = the balloon's current_kb / 4"
    if xen.dom0_max_pages_seen is not None:
        seen += f" (max_pages {xen.dom0_max_pages_seen})"
    return Check(CheckName.XEN_ACCOUNTING, Status.PASS, nr_pages, tot, seen, ACCOUNTING)


def _nr_pages(log: ParsedLog, inp: Inputs) -> Check:
    """Xen's sizing of dom0: what it built against what dom0_mem asks for (rig.domain.dom0mem)."""
    built = log.xen.dom0_nr_pages
    if inp.size is None:
        why = ("dom0_mem is not known" if inp.mem is None else
               "no map of the machine to size dom0 on" if not inp.machine_map else
               f"dom0_mem={inp.mem.text} depends on Xen's free memory at dom0 build time, which "
               "Xen does not print")
        return Check(CheckName.NR_PAGES, Status.SKIP, None, built, why)
    if built is None:
        return Check(CheckName.NR_PAGES, Status.SKIP, inp.size.nr_pages, None,
                     "Xen's Dom0 alloc. lines are not in the log")
    ok = built == inp.size.nr_pages
    return Check(CheckName.NR_PAGES, Status.PASS if ok else Status.FAIL, inp.size.nr_pages, built,
                 "Xen gave dom0 what dom0_mem asks for" if ok else
                 "Xen gave dom0 another nr_pages than dom0_mem asks for")


