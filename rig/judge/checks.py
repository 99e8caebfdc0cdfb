"""Observed vs predicted → results.

Pure. The same judge serves ``rig parse`` (a log from anywhere) and ``rig run`` (rig's own saved
console log). Result classes are ordered and the worst one wins (XTF's convention):
pass < warn < skip < incomplete < error < fail < crash; warn and skip never decide a verdict.

The first rule: every expected value comes from what the machine gave dom0 (Xen's E820, dom0's
nr_pages as Xen built it, dom0_mem, the kernel's version and build configuration), never from
what the judged kernel printed. A PASS needs evidence: the era's counts predicted and observed
equal, and dom0's pages accounted for. Anything less is ``incomplete``, with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum

from rig.model import pvh
from rig.domain.dom0mem import Dom0Mem, Dom0Size
from rig.model.firmware import page_set, ram_differences, ram_pages, subtract
from rig.domain.kconfig import KernelConfig
from rig.domain.e820 import E820Entry, E820Type, PfnRange, pfn_down, pfn_up
from rig.model.pv import (
    ERA_VERSION,
    IBFT_OPTION,
    Era,
    Kernel,
    Prediction,
    ibft_in_printed_map,
    parse_version,
    predict,
)
from rig.parse import ParsedLog
from rig.parse.crash import Kind
from rig.parse.lava import INFRASTRUCTURE as LAVA_INFRASTRUCTURE
from rig.parse.lava import LavaInfo
from rig.model.prediction import ScenarioPrediction, size_on


class Status(IntEnum):
    PASS = 0
    #: something rig models about the machine (the firmware's map) was off: rig's problem to
    #: explain, never the kernel's; it does not change the verdict
    WARN = 1
    SKIP = 2
    INCOMPLETE = 3  #: the log ends (or a boot stopped) before the evidence
    ERROR = 4  #: infrastructure: QEMU, artifacts, accelerator, GRUB — never the kernel's fault
    FAIL = 5
    CRASH = 6

    @property
    def label(self) -> str:
        return self.name.lower()

    @property
    def exit_code(self) -> int:
        """0 pass, 1 the kernel is bad, 125 could not test (``git bisect run`` skips)."""
        if self <= Status.SKIP:
            return 0
        if self is Status.ERROR:
            return 125
        return 1


#: what a check is evidence of: the era's counts, or where dom0's pages went
COUNT, ACCOUNTING = "count", "accounting"


@dataclass
class Check:
    name: str
    status: Status
    expected: object = None
    observed: object = None
    message: str = ""
    evidence: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "status": self.status.label,
            "expected": self.expected,
            "observed": self.observed,
            "message": self.message,
        }


@dataclass
class Judgement:
    checks: list[Check]
    prediction: Prediction | None
    inputs: dict[str, object] = field(default_factory=dict)
    #: dom0 refused the layout as the model said it must (no boot to judge beyond that)
    refused: bool = False
    #: a PVH dom0's prediction (rig.pvh) in place of the PV model's
    pvh: pvh.PvhPrediction | None = None

    @property
    def verdict(self) -> Status:
        return verdict_of(self.checks)


def verdict_of(checks: Sequence[Check]) -> Status:
    """The worst status of the checks that decide (warn and skip do not)."""
    return max((c.status for c in checks if c.status not in (Status.SKIP, Status.WARN)),
               default=Status.INCOMPLETE)


def _pages_mib(pages: int) -> str:
    return f"{pages} pages ({pages * 4096 / 2**20:.1f} MiB)"


def _ranges(rs: list[PfnRange]) -> list[str]:
    return [str(r) for r in rs]


# -- the model's inputs, each from the best source that is not the judged kernel -------------

@dataclass
class _Inputs:
    machine_map: list[E820Entry]
    nr_pages: int | None
    max_pages: int | None
    kernel: Kernel | None
    image: tuple[int, int] | None
    size: Dom0Size | None
    mem: Dom0Mem | None
    missing: list[str]
    notes: list[str]
    record: dict[str, object]


def _dom0_mem(log: ParsedLog, given: str | None) -> tuple[Dom0Mem | None, str | None, str]:
    values = log.xen.dom0_mem_values
    source = "Xen's command line"
    if not values and given:
        values, source = [given], "--dom0-mem"
    if not values:
        return None, None, source
    try:
        return Dom0Mem.merged(values), None, source
    except ValueError as exc:
        return None, str(exc), source


def _kernel(log: ParsedLog, config: KernelConfig | None, release: str | None,
            notes: list[str], record: dict[str, object]) -> Kernel | None:
    linux = log.linux
    version: tuple[int, ...] | None = None
    source = "printed by the kernel ('Linux version')"
    for text, where in ((linux.version, source),
                        (release, "the booted kernel image's header (the log has no 'Linux "
                                  "version' line)")):
        if version is None and text:
            try:
                version, source = parse_version(text), where
            except ValueError:
                version = None
    if version is None and linux.format_era:
        era = Era(linux.format_era)
        version = ERA_VERSION[era]
        source = (f"guessed: the log has no 'Linux version' line, its setup messages have the "
                  f"format of era {era.value}")
        notes.append(f"the kernel's version is not in the log: era {era.value} was guessed "
                     "from the format of its setup messages")
    if version is None:
        return None
    ibft: bool | None = None
    if config is not None:
        ibft = config.enabled(IBFT_OPTION)
        how = f"{IBFT_OPTION}={'y' if ibft else 'n'} in {config.source}"
    elif version[:2] >= (6, 5):
        printed = ibft_in_printed_map(linux.e820)
        if printed is not None:
            ibft = printed
            how = (f"assumed from the kernel's printed map ({'reserved' if printed else 'RAM'} "
                   "at 0x80000): its build configuration is not known")
            notes.append(f"{IBFT_OPTION} is an assumption read from the kernel's own printed "
                         "map (no kernel configuration was given)")
        else:
            how = ("assumed on, as in distribution kernels: neither the kernel's configuration "
                   "nor its printed map tell")
    else:
        how = "not applicable before Linux 6.5"
    kernel = Kernel(version, source, ibft, how)
    record.update(kernel_version=".".join(map(str, version)), kernel_version_source=source,
                  ibft_reserve=kernel.ibft_reserve, ibft_source=how)
    return kernel


def _inputs(log: ParsedLog, dom0_mem: str | None, config: KernelConfig | None,
            release: str | None) -> _Inputs:
    xen = log.xen
    notes: list[str] = []
    missing: list[str] = []
    record: dict[str, object] = {}
    machine_map: list[E820Entry] = []
    if xen.e820 and not xen.e820_cut:
        machine_map = xen.e820
        record["map_source"] = f"Xen's E820 ({xen.e820_source})"
    elif xen.e820_cut:
        missing.append("Xen's whole E820 map (it is cut by a line wrap that could not be "
                       "undone)")
    else:
        what = "Xen's E820 map"
        if log.linux.e820:
            what += (" (the kernel's own printed map cannot stand in: its setup code has "
                     "already edited it; give Xen's log too: rig parse LOG --xen XEN-LOG)")
        missing.append(what)
    record["map_source"] = record.get("map_source")

    mem, mem_error, mem_source = _dom0_mem(log, dom0_mem)
    if mem_error:
        notes.append(f"{mem_source}: {mem_error}")
    size: Dom0Size | None = None
    if mem is not None and machine_map:
        size = size_on(mem, machine_map)
    nr_pages, nr_source = xen.dom0_nr_pages, None
    if nr_pages is not None and xen.dom0_kind == "PVH" and xen.dom0_e820:
        # what Xen populated, from the map it printed (dom0=verbose): a build-time output
        nr_source = "Xen's Dom0 memory map (its RAM and the page its ACPI tables start in)"
    elif nr_pages is not None:
        nr_source = ("Xen's Dom0 alloc. and Init. ramdisk lines" if xen.alloc_nr_pages
                     is not None else "the size of Xen's Phys-Mach map")
        if xen.nr_pages_disagreement:
            notes.append(f"dom0's nr_pages: {xen.nr_pages_disagreement}; the physical "
                         "arrangement is used")
    elif size is not None:
        nr_pages, nr_source = size.nr_pages, f"Xen's sizing of dom0_mem={mem.text if mem else ''}"
    elif mem is not None and (plenty := mem.with_plenty()) is not None:
        # no map to bound Xen's free memory by: an absolute amount, if Xen had that much
        nr_pages = plenty.nr_pages
        nr_source = (f"dom0_mem={mem.text} ({mem_source}), assuming Xen had that much memory "
                     "free (the log has neither Xen's map nor its Dom0 alloc. lines)")
        notes.append(f"dom0's nr_pages is assumed from dom0_mem={mem.text}")
    else:
        missing.append("dom0's nr_pages (Xen's Dom0 alloc. lines, or an absolute dom0_mem)")
    max_pages, max_source = None, "unknown (Xen's default is unlimited)"
    if size is not None:
        max_pages, max_source = size.max_pages, f"Xen's sizing of dom0_mem ({mem_source})"
    record.update(nr_pages=nr_pages, nr_pages_source=nr_source, max_pages=max_pages,
                  max_pages_source=max_source)

    kernel = _kernel(log, config, release, notes, record)
    if kernel is None:
        missing.append("the kernel's version (no 'Linux version' line, and its setup messages "
                       "do not tell the era)")
    image = xen.dom0_kernel_paddr
    record["kernel_image"] = [hex(a) for a in image] if image else None
    return _Inputs(machine_map, nr_pages, max_pages, kernel, image, size, mem, missing, notes,
                   record)


# -- the judge ----------------------------------------------------------------------------------

def judge(
    log: ParsedLog,
    *,
    dom0_mem: str | None = None,
    expect_init: bool = False,
    kernel_config: KernelConfig | None = None,
    kernel_release: str | None = None,
) -> Judgement:
    """Judge a parsed log. ``dom0_mem`` stands in for Xen's command line when the log has none;
    ``kernel_config`` and ``kernel_release`` are the booted kernel's build configuration and
    release when known (a live run); ``expect_init`` says rig's own /init ran (live runs), so
    its markers must be there."""
    inp = _inputs(log, dom0_mem, kernel_config, kernel_release)
    if log.xen.dom0_kind == "PVH":
        return _judge_pvh(log, inp, expect_init)
    checks: list[Check] = []
    prediction: Prediction | None = None
    if inp.missing:
        checks.append(Check("model", Status.INCOMPLETE,
                            message="no prediction is possible: the log lacks "
                            + "; ".join(inp.missing)))
    else:
        assert inp.nr_pages is not None and inp.kernel is not None
        prediction = predict(inp.machine_map, inp.nr_pages, inp.max_pages, inp.kernel,
                             inp.image)
        status = Status.WARN if log.xen.nr_pages_disagreement else Status.PASS
        summary = (f"predicted era {prediction.era.value} from {inp.record['map_source']}, "
                   f"nr_pages {inp.nr_pages} ({inp.record['nr_pages_source']}), kernel "
                   f"{inp.record['kernel_version']} ({inp.record['kernel_version_source']})")
        checks.append(Check("model", status, message="; ".join([summary, *inp.notes])))
    for note in log.cut:
        checks.append(Check("wrapped", Status.WARN, message=f"line {note[0]}: a cut "
                            f"'{note[1]}' message could not be rejoined: {note[2]!r}"))

    refusal = _refusal(log, prediction)
    checks.append(_crash(log, refusal))
    if refusal is not None:
        checks.append(refusal)
    refused = refusal is not None and refusal.status is Status.PASS
    if refused:
        checks.append(Check("setup", Status.SKIP,
                            message="dom0 refused the layout, as predicted: nothing to count"))
    else:
        if prediction is not None:
            checks.extend(_setup_checks(log, prediction))
        checks.append(_nothing_lost(log, inp.nr_pages))
        checks.append(_xen_accounting(log, inp.nr_pages, inp.size, expect_init))
    checks.append(_nr_pages(log, inp))

    _close(log, checks, expect_init, refused)
    return Judgement(checks, prediction, inp.record, refused)


def _close(log: ParsedLog, checks: list[Check], expect_init: bool, refused: bool) -> None:
    """What every judgement ends with, PV or PVH: whether rig's /init ran to the end, LAVA's
    own verdict when the log is a LAVA job's, and the evidence rule for a PASS."""
    if expect_init:
        init = log.init
        if refused:
            checks.append(Check("boot", Status.SKIP, "done", None,
                                "rig's /init never runs after dom0 refused the layout"))
        elif init.done:
            checks.append(Check("boot", Status.PASS, "done", "done", "rig's /init ran to the end"))
        else:
            seen = init.stages[-1] if init.stages else "none"
            checks.append(Check("boot", Status.INCOMPLETE, "done", seen,
                                f"rig's /init did not finish (last stage: {seen})"))
    if log.lava is not None:
        checks.append(_lava(log.lava))
    evidence = _evidence(checks, refused)
    if evidence is not None:
        checks.append(evidence)


def _lava(info: LavaInfo) -> Check:
    """LAVA's own verdict on the job: a failure of the lab (its error types Infrastructure,
    Configuration, Bug, or a cancel) means the boot tested nothing (an error, exit 125); any
    other failure is the boot's, which the console's checks judge."""
    job = info.job
    failed = [r for r in info.results if r.result == "fail"]
    lab = [r for r in failed if r.error_type in LAVA_INFRASTRUCTURE]
    if lab:
        r = lab[0]
        return Check("lava", Status.ERROR, "pass", r.result,
                     f"LAVA: {r.definition}/{r.case} failed with a {r.error_type} error "
                     f"({r.error_msg or 'no message'}): the lab failed, not the kernel")
    if job is None:
        return Check("lava", Status.SKIP, message=f"LAVA's results ({info.source}) have no "
                     "job result (the job had not finished when the log was saved)")
    if failed:
        names = ", ".join(f"{r.definition}/{r.case}" for r in failed)
        return Check("lava", Status.WARN, "pass", job.result,
                     f"LAVA reports {names} failed ({failed[0].error_type or 'no error type'}: "
                     f"{failed[0].error_msg or 'no message'}); rig judges the console itself")
    return Check("lava", Status.PASS, "pass", job.result,
                 f"LAVA finished the job ({len(info.results)} result(s), none failed)")


# -- a PVH dom0 (rig.pvh) -----------------------------------------------------------------------

def _judge_pvh(log: ParsedLog, inp: _Inputs, expect_init: bool) -> Judgement:
    """Xen built dom0's map itself (pvh_setup_e820) and printed it (dom0=verbose); Linux reads
    it by hypercall. Judged: Xen's map against its source, Linux's against Xen's, the balloon
    and Xen's own count against both."""
    xen = log.xen
    checks: list[Check] = []
    prediction: pvh.PvhPrediction | None = None
    printed = xen.dom0_e820
    if inp.missing:
        checks.append(Check("model", Status.INCOMPLETE, message="no prediction is possible: "
                            "the log lacks " + "; ".join(inp.missing)))
    else:
        assert inp.nr_pages is not None
        built = pvh.dom0_map(inp.machine_map, inp.nr_pages)
        stolen = pvh.acpi_steal(printed, built) if printed else None
        prediction = pvh.predict(inp.machine_map, inp.nr_pages, stolen)
        checks.append(Check("model", Status.PASS, message=(
            f"PVH dom0: its map from {inp.record['map_source']} as Xen's pvh_setup_e820 builds "
            f"it, nr_pages {inp.nr_pages} ({inp.record['nr_pages_source']})"
            + (f", {stolen} bytes of it taken for Xen's ACPI tables (Xen's Dom0 memory map)"
               if stolen is not None else "") + "; " + "; ".join(inp.notes)).rstrip("; ")))
    checks.append(_crash(log, None))
    checks.append(Check("setup", Status.SKIP, message="PVH dom0: Linux's PV memory setup "
                        "(Released/Remapped) does not run; Xen builds the map"))
    if prediction is not None:
        checks.append(_pvh_map(printed, prediction))
        checks.append(_pvh_linux_map(log, printed))
        checks.append(_pvh_balloon(log, prediction))
        checks.append(_pvh_accounting(log, prediction, inp.size, expect_init))
    # nr_pages of a PVH dom0 is what Xen's printed map holds (rig.parse.xen): none without it
    checks.append(_pvh_nr_pages(inp.nr_pages if printed else None, inp.mem))
    _close(log, checks, expect_init, refused=False)
    return Judgement(checks, None, inp.record, False, prediction)


def _pvh_map(printed: list[E820Entry], p: pvh.PvhPrediction) -> Check:
    if not printed:
        return Check("pvh_map", Status.INCOMPLETE, message="Xen printed no Dom0 memory map "
                     "(it does with dom0=pvh,verbose, as rig boots it)")
    if p.stolen is None:
        return Check("pvh_map", Status.FAIL, "ACPI tables at the top of low RAM", None,
                     "Xen's Dom0 memory map does not end its last RAM below 4 GiB with the "
                     "ACPI data Xen's pvh_setup_acpi takes there", COUNT)
    want = pvh.with_steal(p.built, p.stolen)
    diff = pvh.ram_differences(printed, want)
    if diff or not 0 < p.stolen < pvh.PAGE:
        why = "; ".join(diff) or f"{p.stolen} bytes for the ACPI tables"
        return Check("pvh_map", Status.FAIL, pvh.ram_total(want), pvh.ram_total(printed),
                     f"Xen built dom0 another map than pvh_setup_e820 does: {why}", COUNT)
    return Check("pvh_map", Status.PASS, pvh.ram_total(want), pvh.ram_total(printed),
                 "Xen's Dom0 memory map is pvh_setup_e820's of the machine's E820 and nr_pages, "
                 f"less {p.stolen} bytes for its ACPI tables", COUNT)


def _pvh_linux_map(log: ParsedLog, printed: list[E820Entry]) -> Check:
    """Linux reads dom0's map from Xen (XENMEM_memory_map). 6.9+ turns UNUSABLE back into RAM
    it reserves for the balloon (xen_reserve_extra_memory); nothing else may differ."""
    mine = log.linux.e820
    if not mine or not printed:
        return Check("linux_map", Status.SKIP, message="Linux's or Xen's printed map is missing")
    xen_ram = page_set(printed)
    linux_ram = page_set(mine)
    unusable = [(pfn_down(e.start), pfn_up(e.end)) for e in printed
                if e.type is E820Type.UNUSABLE]
    missing = subtract(xen_ram, linux_ram)
    extra = subtract(subtract(linux_ram, xen_ram), unusable)
    if missing or extra:
        found = ([f"RAM Xen gave, missing: {_pfns(missing)}"] if missing else []) + \
            ([f"RAM Xen did not give: {_pfns(extra)}"] if extra else [])
        return Check("linux_map", Status.FAIL, None, None,
                     "Linux's map is not the one Xen gave it: " + "; ".join(found))
    converted = sum(hi - lo for lo, hi in subtract(linux_ram, xen_ram))
    return Check("linux_map", Status.PASS, message="Linux's map has the RAM Xen gave" + (
        f", and {converted} page(s) of Xen's UNUSABLE as RAM reserved for the balloon "
        "(xen_reserve_extra_memory)" if converted else ""))


def _pvh_balloon(log: ParsedLog, p: pvh.PvhPrediction) -> Check:
    current = log.init.balloon_kb.get("current_kb")
    want = list(p.balloon_pages)
    if current is None:
        return Check("nothing_lost", Status.SKIP, want, None, "no balloon figure in the log")
    observed = current // 4
    if observed == p.xen_pages:
        return Check("nothing_lost", Status.PASS, want, observed, "the balloon starts from "
                     f"Xen's count for dom0 ({observed}: XENMEM_current_reservation), and Linux "
                     f"has the RAM Xen gave ({p.own_pages} pages of it its own)", ACCOUNTING)
    if observed == p.own_pages:
        return Check("nothing_lost", Status.PASS, want, observed, "the balloon counts the RAM "
                     f"Linux has ({observed}: the whole pages of Xen's map, less page 0 and the "
                     "page Xen's ACPI tables start in)", ACCOUNTING)
    return Check("nothing_lost", Status.FAIL, want, observed,
                 f"the balloon holds {observed} pages: neither Xen's count {p.xen_pages} nor the "
                 f"RAM of Xen's map Linux can have ({p.own_pages})", ACCOUNTING)


def _pvh_accounting(log: ParsedLog, p: pvh.PvhPrediction, size: Dom0Size | None,
                    live: bool) -> Check:
    tot = log.xen.dom0_tot_pages
    if tot is None:
        return Check("xen_accounting", Status.INCOMPLETE if live else Status.SKIP,
                     p.xen_pages, None, "Xen's debug-key 'q' dump of dom0 is not in the log")
    problems = []
    if tot != p.xen_pages:
        problems.append(f"Xen counts {tot} pages for dom0, not nr_pages {p.nr_pages} less the "
                        "page Linux maps its shared info over")
    seen_max = log.xen.dom0_max_pages_seen
    if size is not None and seen_max is not None and seen_max != size.max_pages:
        problems.append(f"Xen's max_pages for dom0 is {seen_max}, dom0_mem asks for "
                        f"{size.max_pages}")
    if problems:
        return Check("xen_accounting", Status.FAIL, p.xen_pages, tot, "; ".join(problems),
                     ACCOUNTING)
    return Check("xen_accounting", Status.PASS, p.xen_pages, tot,
                 f"Xen counts {tot} pages for dom0: nr_pages {p.nr_pages} less the RAM page Linux "
                 "mapped its shared info over (Xen frees the page it displaces)", ACCOUNTING)


def _pvh_nr_pages(built: int | None, mem: Dom0Mem | None) -> Check:
    want = mem.with_plenty() if mem is not None else None
    if want is None or built is None:
        return Check("nr_pages", Status.SKIP, want.nr_pages if want else None, built,
                     "for a PVH dom0 only an absolute dom0_mem is known before Xen's free "
                     "memory, IOMMU and paging reservations are (and Xen's map must be printed)")
    ok = built == want.nr_pages
    return Check("nr_pages", Status.PASS if ok else Status.FAIL, want.nr_pages, built,
                 "Xen gave dom0 what dom0_mem asks for" if ok else
                 "Xen gave dom0 another nr_pages than dom0_mem asks for")


def _evidence(checks: list[Check], refused: bool) -> Check | None:
    """PASS needs the era's counts compared and dom0's pages accounted for."""
    if refused or verdict_of(checks) is not Status.PASS:
        return None
    passed = {c.evidence for c in checks if c.status is Status.PASS and c.evidence}
    lacking = []
    if COUNT not in passed:
        lacking.append("no count of the era's setup messages was compared with the model")
    if ACCOUNTING not in passed:
        lacking.append("dom0's pages were not accounted for (no balloon figure, no Xen 'q' "
                       "dump, no complete set of setup messages)")
    if not lacking:
        return None
    return Check("evidence", Status.INCOMPLETE, message="a PASS needs evidence: "
                 + "; ".join(lacking))


def _crash(log: ParsedLog, refusal: Check | None) -> Check:
    hits = [h for h in log.crashes if h.fatal]
    if refusal is not None and refusal.status is Status.PASS:
        # the refusal (and the halt that follows it) is what a correct kernel does
        hits = [h for h in hits if h.kind not in (Kind.E820_CONFLICT, Kind.DOM0_HALT)]
    if not hits:
        return Check("crash", Status.PASS, None, None, "no crash line")
    hit = hits[0]
    return Check("crash", Status.CRASH, None, hit.text,
                 f"{hit.kind.value} at line {hit.line_no}: {hit.text}")


def _refusal(log: ParsedLog, pred: Prediction | None) -> Check | None:
    """dom0's kernel must refuse a map in which its own image is not inside one RAM entry."""
    hit = next((h for h in log.crashes if h.kind is Kind.E820_CONFLICT), None)
    conflict = pred.kernel_conflict if pred is not None else None
    if hit is None and conflict is None:
        return None
    where = (f"{conflict.type.value} [{conflict.start:#x}, {conflict.end:#x}) lies inside the "
             "kernel image Xen placed" if conflict else "")
    if hit is not None and conflict is not None:
        return Check("refusal", Status.PASS, "refuse", "refused",
                     f"dom0 refused the layout, as it must: {where} (line {hit.line_no}: "
                     f"{hit.text})")
    if hit is not None:
        if pred is None:
            return None  # no model to say whether the refusal was due: the crash check tells
        return Check("refusal", Status.FAIL, "boot", "refused",
                     f"dom0 refused a layout in which its kernel image lies inside RAM "
                     f"(line {hit.line_no}: {hit.text})")
    went_on = log.linux.remapped_pages is not None or log.linux.released_pages is not None
    return Check("refusal", Status.FAIL if went_on else Status.INCOMPLETE, "refuse",
                 "went on" if went_on else None,
                 f"dom0 must refuse this layout ({where}) but "
                 + ("went on with its memory setup" if went_on else
                    "the log ends before it says so"))


def _count_check(name: str, expected: int, observed: int | None, what: str) -> Check:
    if observed is None:
        return Check(name, Status.INCOMPLETE, expected, None, f"no '{what}' line in the log",
                     COUNT)
    if observed == expected:
        return Check(name, Status.PASS, expected, observed, f"{what}: {observed} as predicted",
                     COUNT)
    return Check(name, Status.FAIL, expected, observed,
                 f"{what}: expected {expected}, kernel printed {observed} "
                 f"({observed - expected:+d} pages)", COUNT)


def _setup_checks(log: ParsedLog, pred: Prediction) -> list[Check]:
    linux = log.linux
    out: list[Check] = []
    if pred.era in (Era.D, Era.E):
        out.append(_count_check("remapped", pred.remapped_pages, linux.remapped_pages,
                                "Remapped N page(s)"))
        out.append(_count_check("released", pred.released_pages, linux.released_pages,
                                "Released N page(s)"))
    else:
        out.append(_count_check("released", pred.released_pages, linux.released_pages,
                                "Released N pages of unused memory"))
        if linux.freed_ranges or pred.freed_ranges:
            printed = sum(r.pages for r in linux.freed_ranges)
            ok = printed == linux.released_pages
            out.append(Check("freed_sum", Status.PASS if ok else Status.FAIL,
                             linux.released_pages, printed,
                             "freed ranges sum to the released total" if ok else
                             f"freed ranges sum to {printed}, "
                             f"Released says {linux.released_pages}"))
            same = _ranges(linux.freed_ranges) == _ranges(pred.freed_ranges)
            out.append(Check("freed_ranges", Status.PASS if same else Status.FAIL,
                             _ranges(pred.freed_ranges), _ranges(linux.freed_ranges),
                             "printed freed ranges are the predicted holes" if same else
                             "printed freed ranges differ from the predicted holes", COUNT))
        if pred.era is Era.C:
            observed = linux.populated_pages
            if observed is None and linux.released_pages is not None:
                observed = 0  # era C prints a Populating line only for a non-empty chunk
            out.append(_count_check("populated", pred.populated_pages, observed,
                                    "Populating ... pages added"))
    return out


def _nothing_lost(log: ParsedLog, nr_pages: int | None) -> Check:
    """dom0 holds every page Xen gave it: the balloon's count (rig's /init) equals nr_pages,
    or, in a log from elsewhere, the setup messages say nothing was released for good."""
    if nr_pages is None:
        return Check("nothing_lost", Status.SKIP, message="dom0's nr_pages is not known")
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
        return Check("nothing_lost", Status.SKIP, nr_pages, None,
                     "neither a balloon figure nor a complete set of setup messages")
    if observed == nr_pages:
        return Check("nothing_lost", Status.PASS, nr_pages, observed,
                     f"dom0 holds all {nr_pages} pages Xen gave it ({source})", ACCOUNTING)
    if observed > nr_pages:
        return Check("nothing_lost", Status.FAIL, nr_pages, observed,
                     f"dom0 counts {_pages_mib(observed - nr_pages)} more than Xen gave it "
                     f"({source})", ACCOUNTING)
    lost = nr_pages - observed
    how = ("released, never populated or remapped" if released and not given_back
           and not linux.remapped_pages else "not accounted for by the setup messages")
    return Check("nothing_lost", Status.FAIL, nr_pages, observed,
                 f"dom0 lost {_pages_mib(lost)} to holes: {how} ({source})", ACCOUNTING)


def _xen_accounting(log: ParsedLog, nr_pages: int | None, size: Dom0Size | None,
                    live: bool) -> Check:
    """Xen's own count of dom0's pages after boot (debug key 'q'): the seed's acceptance test
    ("'xl list' now reflects what the dom0_mem= argument is"), seen from Xen."""
    xen = log.xen
    tot = xen.dom0_tot_pages
    if tot is None:
        if live:
            return Check("xen_accounting", Status.INCOMPLETE, nr_pages, None,
                         "Xen's debug-key 'q' dump of dom0 is not in the log")
        return Check("xen_accounting", Status.SKIP, nr_pages, None,
                     "no Xen debug-key 'q' dump in the log")
    if nr_pages is None:
        return Check("xen_accounting", Status.SKIP, None, tot,
                     f"Xen counts {tot} pages for dom0, but what it gave dom0 is not known")
    balloon = log.init.balloon_kb.get("current_kb")
    problems = []
    if tot < nr_pages:
        problems.append(f"Xen took back {_pages_mib(nr_pages - tot)}: it counts {tot} pages "
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
        return Check("xen_accounting", Status.FAIL, nr_pages, tot, "; ".join(problems),
                     ACCOUNTING)
    seen = f"Xen counts {tot} pages for dom0 = nr_pages"
    if balloon is not None:
        seen += " = the balloon's current_kb / 4"
    if xen.dom0_max_pages_seen is not None:
        seen += f" (max_pages {xen.dom0_max_pages_seen})"
    return Check("xen_accounting", Status.PASS, nr_pages, tot, seen, ACCOUNTING)


def _nr_pages(log: ParsedLog, inp: _Inputs) -> Check:
    """Xen's sizing of dom0: what it built against what dom0_mem asks for (rig.dom0mem)."""
    built = log.xen.dom0_nr_pages
    if inp.size is None:
        why = ("dom0_mem is not known" if inp.mem is None else
               "no map of the machine to size dom0 on" if not inp.machine_map else
               f"dom0_mem={inp.mem.text} depends on Xen's free memory at dom0 build time, which "
               "Xen does not print")
        return Check("nr_pages", Status.SKIP, None, built, why)
    if built is None:
        return Check("nr_pages", Status.SKIP, inp.size.nr_pages, None,
                     "Xen's Dom0 alloc. lines are not in the log")
    ok = built == inp.size.nr_pages
    return Check("nr_pages", Status.PASS if ok else Status.FAIL, inp.size.nr_pages, built,
                 "Xen gave dom0 what dom0_mem asks for" if ok else
                 "Xen gave dom0 another nr_pages than dom0_mem asks for")


# -- checks of a live boot: the machine rig built ----------------------------------------------

def scenario_checks(log: ParsedLog, sp: ScenarioPrediction, emulated: ScenarioPrediction,
                    judgement: Judgement) -> list[Check]:
    """After a live boot. ``sp`` predicts from the firmware's map as read on this boot (or the
    emulation when it could not be read), ``emulated`` from rig's emulation of the firmware
    (``rig predict``). Was the layout the scenario asked for realised? Did rig's emulation of
    the firmware match the firmware? Does ``rig predict`` match what the kernel printed?"""
    out = [_layout_check(log, sp)]
    firmware = _firmware_check(sp, emulated)
    if firmware is not None:
        out.append(firmware)
    pred = emulated.prediction
    if judgement.pvh is not None:
        out.append(_predicted_pvh(log, emulated))
        return out
    if judgement.refused:
        out.append(Check("predicted_remap", Status.SKIP,
                         message="dom0 refused the layout: nothing was remapped"))
    elif pred is not None and pred.era in (Era.D, Era.E):
        check = _count_check("predicted_remap", pred.remapped_pages, log.linux.remapped_pages,
                             "Remapped N page(s) vs rig predict")
        check.evidence = None  # the model's own check ('remapped') is the evidence
        main = judgement.prediction
        if (check.status is Status.FAIL and firmware is not None
                and firmware.status is Status.WARN and main is not None
                and log.linux.remapped_pages == main.remapped_pages):
            check.status = Status.WARN
            check.message += ("; the difference is rig's emulation of the firmware (see "
                              "'firmware'), not the kernel: it matches the prediction from "
                              "Xen's map")
        out.append(check)
    return out


def _predicted_pvh(log: ParsedLog, emulated: ScenarioPrediction) -> Check:
    """``rig predict``'s PVH figures, from the scenario alone, against the boot."""
    p = emulated.pvh
    current = log.init.balloon_kb.get("current_kb")
    if p is None or current is None:
        return Check("predicted_pvh", Status.SKIP, message="rig predict has no PVH figures for "
                     "this scenario (no absolute dom0_mem) or the boot no balloon figure")
    got = [current // 4, log.xen.dom0_tot_pages]
    want = [list(p.balloon_pages), p.xen_pages]
    if got[0] in p.balloon_pages and got[1] == p.xen_pages:
        return Check("predicted_pvh", Status.PASS, want, got,
                     "rig predict's balloon and Xen counts for the PVH dom0")
    return Check("predicted_pvh", Status.FAIL, want, got,
                 "the boot differs from rig predict's PVH figures (balloon, Xen's count)")


def _firmware_check(sp: ScenarioPrediction, emulated: ScenarioPrediction) -> Check | None:
    if sp.firmware_source == emulated.firmware_source or not emulated.firmware_map:
        return None
    got, want = ram_differences(sp.firmware_map, emulated.firmware_map)
    if not got and not want:
        return Check("firmware", Status.PASS, message=f"the firmware's map ({sp.firmware_source})"
                     f" has the RAM of rig's emulation ({emulated.firmware_source})")
    message = (f"the firmware's map ({sp.firmware_source}) differs from rig's emulation in "
               f"whole pages of RAM: firmware only {', '.join(got) or 'nothing'}, emulation "
               f"only {', '.join(want) or 'nothing'}; rig's model of the firmware is off, not "
               "the kernel")
    if (top := _top_reserve_difference(sp.firmware_map, emulated.firmware_map)) is not None:
        message += (f". Known: SeaBIOS kept {top[0]} page(s) at the top of RAM below 4 GiB for "
                    f"its tables where the emulation keeps {top[1]}; what it keeps varies with "
                    "the tables it builds (facts.md), and the verdict uses the map as read")
    return Check("firmware", Status.WARN, want or None, got or None, message)


def _top_reserve_difference(got_map: list[E820Entry],
                            want_map: list[E820Entry]) -> tuple[int, int] | None:
    """(pages the firmware reserved, pages the emulation reserves) at the top of RAM below
    4 GiB, when that is the maps' only RAM difference (the RAM below ends a page or two apart
    and the reservation above it ends at the same address)."""
    a, b = ram_pages(got_map), ram_pages(want_map)
    only_a = [r for r in a if r not in b]
    only_b = [r for r in b if r not in a]
    if len(only_a) != 1 or len(only_b) != 1 or only_a[0][0] != only_b[0][0]:
        return None
    end_a, end_b = only_a[0][1], only_b[0][1]
    if end_a > 0x100000 or abs(end_a - end_b) > 8:
        return None
    top = [pfn_up(e.end) for e in got_map if not e.is_ram and pfn_down(e.start) == end_a]
    top_b = [pfn_up(e.end) for e in want_map if not e.is_ram and pfn_down(e.start) == end_b]
    if not top or top != top_b:
        return None
    return top[0] - end_a, top_b[0] - end_b


def _layout_check(log: ParsedLog, sp: ScenarioPrediction) -> Check:
    """The layout the scenario asked for, in Xen's E820: every hole realised, no RAM where the
    machine has none, and every other page of the machine's RAM either RAM or inside an entry
    of the firmware's own. When GRUB read the firmware's map, Xen's RAM must be exactly that
    map less the holes. A layout that was not realised is rig's or GRUB's failure: the boot
    tested something else, so the result is an error (exit 125), never a FAIL."""
    xen_map = log.xen.e820
    if not sp.requested:
        return Check("layout", Status.SKIP, message="the scenario's machine is not known")
    if not xen_map:
        return Check("layout", Status.INCOMPLETE, len(sp.holes), None,
                     "Xen printed no E820 map: cannot tell whether the layout was realised")
    holes = [(pfn_down(h.start), pfn_up(h.end)) for h in sp.holes]
    xen_ram, typed = page_set(xen_map), page_set(xen_map, ram=False)
    asked = subtract(page_set(sp.requested), holes)
    unrealised = [h for h in sp.holes
                  if any(e.is_ram and e.start < h.end and h.start < e.end for e in xen_map)]
    problems = []
    if unrealised:
        problems.append(f"{len(unrealised)} hole(s) not realised (first at "
                        f"{unrealised[0].start:#x})")
    if extra := subtract(xen_ram, page_set(sp.requested)):
        problems.append("RAM where the machine has none: " + _pfns(extra))
    not_ram = subtract(asked, xen_ram)
    if missing := subtract(not_ram, typed):
        problems.append("RAM missing without an entry of the firmware's: " + _pfns(missing))
    if sp.firmware_source.startswith("GRUB"):
        got, want = ram_differences(xen_map, sp.machine_map)
        if got or want:
            problems.append(f"Xen's RAM is not the firmware's map less the holes: Xen only "
                            f"{', '.join(got) or 'nothing'}, expected only "
                            f"{', '.join(want) or 'nothing'}")
    if problems:
        return Check("layout", Status.ERROR, len(sp.holes), len(sp.holes) - len(unrealised),
                     "; ".join(problems) + ": the machine is not the one the scenario asked for")
    kept = sum(hi - lo for lo, hi in not_ram)
    holes_said = f"{len(sp.holes)} hole(s) realised in Xen's E820" if sp.holes else \
        "no holes asked for"
    return Check("layout", Status.PASS, len(sp.holes), len(sp.holes),
                 f"{holes_said}; RAM as the scenario asked, less {kept} page(s) the firmware "
                 "keeps for itself")


def _pfns(ranges: list[tuple[int, int]]) -> str:
    shown = ", ".join(f"pfn {lo:x}-{hi:x}" for lo, hi in ranges[:4])
    return shown + (f" and {len(ranges) - 4} more" if len(ranges) > 4 else "")
