"""Observed vs predicted → results.

Pure. The same judge serves ``rig parse`` (a log from anywhere) and ``rig run`` (rig's own saved
console log). Result classes are ordered and the worst one wins (XTF's convention):
pass < skip < incomplete < error < fail < crash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from rig.dom0mem import Dom0Mem
from rig.layout import PfnRange, sanitize
from rig.model import (
    Era,
    Prediction,
    ScenarioPrediction,
    has_ibft_reserve,
    ibft_seen,
    parse_version,
    predict,
    ram_pages,
)
from rig.parse import ParsedLog


class Status(IntEnum):
    PASS = 0
    SKIP = 1
    INCOMPLETE = 2  #: the log ends (or a boot stopped) before the evidence
    ERROR = 3  #: infrastructure: QEMU, artifacts, accelerator — never the kernel's fault
    FAIL = 4
    CRASH = 5

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


@dataclass
class Check:
    name: str
    status: Status
    expected: object = None
    observed: object = None
    message: str = ""

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

    @property
    def verdict(self) -> Status:
        return verdict_of(self.checks)


#: checks whose pass says nothing about dom0's memory (no crash line in a log of nothing)
_NO_EVIDENCE = frozenset({"crash"})


def verdict_of(checks: list[Check]) -> Status:
    """The worst status; a pass needs at least one check that saw the memory setup."""
    worst = max((c.status for c in checks if c.status is not Status.SKIP),
                default=Status.INCOMPLETE)
    if worst > Status.PASS:
        return worst
    evidence = any(c.status is Status.PASS and c.name not in _NO_EVIDENCE for c in checks)
    return Status.PASS if evidence else Status.INCOMPLETE


# a representative version per format era, when a log lacks the "Linux version" line
_ERA_VERSION = {"A": (3, 0), "B": (3, 2), "C": (3, 5), "D": (3, 17), "E": (4, 0)}


def _pages_mib(pages: int) -> str:
    return f"{pages} pages ({pages * 4096 / 2**20:.1f} MiB)"


def _ranges(rs: list[PfnRange]) -> list[str]:
    return [str(r) for r in rs]


def judge(
    log: ParsedLog,
    *,
    dom0_mem: str | None = None,
    expect_init: bool = False,
) -> Judgement:
    """Judge a parsed log. ``dom0_mem`` stands in for Xen's command line when the log has none;
    ``expect_init`` says rig's own /init ran (live runs), so its markers must be there."""
    checks: list[Check] = []
    xen, linux, init = log.xen, log.linux, log.init
    inputs: dict[str, object] = {}

    hit = log.fatal
    if hit is not None:
        checks.append(Check("crash", Status.CRASH, None, hit.text,
                            f"{hit.kind.value} at line {hit.line_no}: {hit.text}"))
    else:
        checks.append(Check("crash", Status.PASS, None, None, "no crash line"))

    # --- the model's inputs, each from the best source the log offers --------------------
    machine_map, map_source = (xen.e820, "xen") if xen.e820 else (linux.e820, "linux")
    nr_pages = xen.dom0_nr_pages
    mem_text = xen.dom0_mem if xen.dom0_mem is not None else dom0_mem
    mem: Dom0Mem | None = None
    if mem_text:
        try:
            mem = Dom0Mem.parse(mem_text)
        except ValueError as exc:
            inputs["dom0_mem_error"] = str(exc)
    if nr_pages is None and mem is not None:
        nr_pages = Dom0Mem.absolute_pages(mem.amount)
    max_pages = xen.max_pages if xen.max_pages is not None else (mem.max_pages if mem else None)
    version: tuple[int, ...] | None = None
    if linux.version:
        try:
            version = parse_version(linux.version)
        except ValueError:
            version = None
    if version is None and linux.format_era:
        version = _ERA_VERSION[linux.format_era]
    inputs.update(map_source=map_source if machine_map else None, nr_pages=nr_pages,
                  max_pages=max_pages, kernel_version=".".join(map(str, version or ())) or None)

    missing = [name for name, value in (("an E820 map", machine_map), ("dom0's nr_pages", nr_pages),
                                        ("the kernel's version", version)) if not value]
    prediction: Prediction | None = None
    if missing:
        why = "the log lacks " + ", ".join(missing)
        checks.append(Check("model", Status.SKIP, message=f"no prediction: {why}"))
    else:
        assert nr_pages is not None and version is not None
        # a kernel without CONFIG_ISCSI_IBFT_FIND (e.g. a tinyconfig build) prints RAM at
        # 0x80000 in its own map: the map tells which rule applies, the model does the counting
        ibft = ibft_seen(linux.e820)
        inputs["ibft_reserve"] = has_ibft_reserve(version, ibft)
        prediction = predict(machine_map, nr_pages, max_pages, version, ibft)
        checks.extend(_setup_checks(log, prediction))

    checks.append(_nothing_lost(log, nr_pages, prediction))

    if expect_init:
        if init.done:
            checks.append(Check("boot", Status.PASS, "done", "done", "rig's /init ran to the end"))
        else:
            seen = init.stages[-1] if init.stages else "none"
            checks.append(Check("boot", Status.INCOMPLETE, "done", seen,
                                f"rig's /init did not finish (last stage: {seen})"))
    return Judgement(checks, prediction, inputs)


def _count_check(name: str, expected: int, observed: int | None, what: str) -> Check:
    if observed is None:
        return Check(name, Status.INCOMPLETE, expected, None, f"no '{what}' line in the log")
    if observed == expected:
        return Check(name, Status.PASS, expected, observed, f"{what}: {observed} as predicted")
    return Check(name, Status.FAIL, expected, observed,
                 f"{what}: expected {expected}, kernel printed {observed} "
                 f"({observed - expected:+d} pages)")


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
        if linux.freed_ranges:
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
                             "printed freed ranges differ from the predicted holes"))
        if pred.era is Era.C:
            out.append(_count_check("populated", pred.populated_pages, linux.populated_pages,
                                    "Populating ... pages added"))
    return out


def _nothing_lost(log: ParsedLog, nr_pages: int | None, pred: Prediction | None) -> Check:
    current = log.init.balloon_kb.get("current_kb")
    if nr_pages is None:
        return Check("nothing_lost", Status.SKIP, message="dom0's nr_pages is not in the log")
    expected = nr_pages * 4
    linux = log.linux
    released = linux.released_pages or 0
    # released pages come back only through populate (era C); remapped ones were never freed
    given_back = linux.populated_pages or 0
    source = "balloon current_kb"
    if current is None:
        if linux.released_pages is None:
            return Check("nothing_lost", Status.SKIP, expected, None,
                         "neither balloon current_kb nor a Released line in the log")
        # no balloon figure (not a rig boot): the setup messages say what dom0 kept
        current = 4 * (nr_pages - max(0, released - given_back))
        source = "nr_pages - (released - populated), from the setup messages"
    if current >= expected:
        return Check("nothing_lost", Status.PASS, expected, current,
                     f"dom0 holds all {nr_pages} pages Xen gave it ({source})")
    lost = (expected - current) // 4
    how = ("released, never populated or remapped" if released and not given_back
           and not linux.remapped_pages else "not accounted for by the setup messages")
    msg = f"dom0 lost {_pages_mib(lost)} to holes: {how} ({source})"
    if pred is not None and pred.lost_pages == 0:
        msg += f"; a correct era-{pred.era.value} kernel keeps all {nr_pages} pages"
    return Check("nothing_lost", Status.FAIL, expected, current, msg)


def scenario_checks(log: ParsedLog, sp: ScenarioPrediction) -> list[Check]:
    """After a live boot: did the machine have the layout the scenario asked for, and do the
    counts predicted from the scenario alone (``rig predict``) match what the kernel printed?"""
    out = [_layout_check(log, sp)]
    nr = log.xen.dom0_nr_pages
    if sp.nr_pages is not None:
        if nr is None:
            out.append(Check("nr_pages", Status.INCOMPLETE, sp.nr_pages, None,
                             "Xen's Dom0 alloc. lines are not in the log"))
        else:
            ok = nr == sp.nr_pages
            out.append(Check("nr_pages", Status.PASS if ok else Status.FAIL, sp.nr_pages, nr,
                             "dom0's nr_pages is what dom0_mem asked for" if ok else
                             "Xen gave dom0 another nr_pages than dom0_mem asked for"))
    pred = sp.prediction
    if pred is not None and pred.era in (Era.D, Era.E):
        out.append(_count_check("predicted_remap", pred.remapped_pages, log.linux.remapped_pages,
                                "Remapped N page(s) vs rig predict"))
    return out


def _layout_check(log: ParsedLog, sp: ScenarioPrediction) -> Check:
    xen_map = log.xen.e820
    if not sp.machine_map:
        return Check("layout", Status.SKIP, message="no predicted map to compare with "
                     "(" + "; ".join(sp.notes[-1:]) + ")")
    if not xen_map:
        return Check("layout", Status.INCOMPLETE, len(sp.holes), None,
                     "Xen printed no E820 map: cannot tell whether the layout was realised")
    got, want = ram_pages(xen_map), ram_pages(sp.machine_map)
    ram = sanitize(xen_map)
    unrealised = [h for h in sp.holes
                  if any(e.is_ram and e.start < h.end and h.start < e.end for e in ram)]
    if got == want:
        return Check("layout", Status.PASS, len(sp.holes), len(sp.holes),
                     f"Xen's E820 has exactly the predicted RAM; {len(sp.holes)} hole(s) realised")
    extra = [f"pfn {a:x}-{b:x}" for a, b in got if (a, b) not in want][:4]
    missing = [f"pfn {a:x}-{b:x}" for a, b in want if (a, b) not in got][:4]
    msg = (f"Xen's RAM differs from the prediction: printed {extra or 'nothing else'}, "
           f"predicted {missing or 'nothing else'}")
    if unrealised:
        msg = (f"{len(unrealised)} hole(s) not realised (first at {unrealised[0].start:#x}); "
               + msg)
    return Check("layout", Status.FAIL, len(sp.holes), len(sp.holes) - len(unrealised), msg)
