"""The human summaries: of a result (``rig run``, ``rig parse``) and of a prediction (``rig
predict``). Pure: a document in, text out."""

from __future__ import annotations

from msgspec import UNSET

from rig.domain.units import mib
from rig.judge.records import Value
from rig.judge.result import Result
from rig.model.prediction import ScenarioPrediction
from rig.model.pv import Prediction


def _fmt(value: Value) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ", ".join(map(str, value)) if len(value) <= 6 else f"{len(value)} items"
    return str(value)


def summary(r: Result) -> str:
    out: list[str] = []
    if r.scenario is not None:
        out.append(f"scenario  {r.scenario.name}: {r.scenario.description}")
    if r.accelerator is not None:
        acc = r.accelerator
        machine_type = "" if acc.machine_type is UNSET else acc.machine_type
        out.append(f"machine   {machine_type} accel={acc.accel} ({acc.reason}), QEMU "
                   f"{acc.qemu_version}, cpu {acc.cpu}")
        out += [f"          {why}" for why in
                ([] if acc.machine_reasons is UNSET else acc.machine_reasons)]
    xen, linux = r.xen, r.linux
    out.append(f"xen       {_fmt(xen.version)}  dom0_mem={_fmt(xen.dom0_mem)}  "
               f"dom0 nr_pages={_fmt(xen.dom0_nr_pages)}")
    out.append(f"linux     {_fmt(linux.version)}  era={_fmt(linux.era)}  "
               f"released={_fmt(linux.released_pages)}  "
               f"remapped={_fmt(linux.remapped_pages)}  "
               f"populated={_fmt(linux.populated_pages)}  "
               f"balloon current_kb={_fmt(linux.balloon_current_kb)}")
    if linux.memory_line:
        out.append(f"          {linux.memory_line}")
    timings = r.timings
    if timings is not None and timings.stages:
        stages = "  ".join(f"{k} {v:.1f}s" for k, v in timings.stages.items())
        out.append(f"stages    {stages}")
    if r.mode == "quick":
        out.append("mode      quick: stopped once Linux's memory setup was over (--quick)")
    if timings is not None and timings.total_s is not UNSET:
        out.append(f"time      {timings.total_s:.1f} s in all")
    out.append("checks")
    for c in r.checks:
        exp_obs = ""
        if c.expected is not None or c.observed is not None:
            exp_obs = f" (expected {_fmt(c.expected)}, observed {_fmt(c.observed)})"
        out.append(f"  {c.status.label.upper():<10} {c.name:<14} {c.message}{exp_obs}")
    out += [f"note      {n}" for n in ([] if r.notes is UNSET else r.notes)]
    if r.log:
        out.append(f"log       {r.log}")
    out.append(f"verdict   {r.verdict.label.upper()}")
    return "\n".join(out)


def _pred_line(p: Prediction) -> str:
    parts = [f"released {p.released_pages}"]
    if p.era.value in "BC":
        parts.append(f"freed ranges {', '.join(str(r) for r in p.freed_ranges) or '-'}")
    if p.era.value == "C":
        parts.append(f"populated {p.populated_pages}")
    if p.era.value in "DE":
        parts.append(f"remapped {p.remapped_pages}")
    parts.append(f"dom0 keeps {p.dom0_pages} pages")
    if p.lost_pages:
        parts.append(f"LOSES {p.lost_pages} pages ({mib(p.lost_pages)})")
    if p.balloon_current_kb is not None:
        parts.append(f"balloon current_kb {p.balloon_current_kb}")
    return ", ".join(parts)


def prediction_summary(sp: ScenarioPrediction) -> str:
    out = [f"scenario  {sp.scenario} (boot: {sp.boot})",
           "machine map (SeaBIOS, as Xen will see it):"]
    out += [f"  {e}" for e in sp.machine_map]
    out.append(f"holes     {len(sp.holes)}")
    out += [f"  {h.start:#x}-{h.end:#x} {h.kind} ({(h.end - h.start) >> 12} pages)"
            for h in sp.holes]
    nr = "-" if sp.nr_pages is None else f"{sp.nr_pages} ({mib(sp.nr_pages)})"
    out.append(f"dom0      nr_pages {nr}, max_pages {sp.max_pages or 'unlimited'}")
    if sp.prediction is not None:
        p = sp.prediction
        out.append(f"non-RAM below nr_pages: {p.hole_pages} pages in "
                   f"{len(p.hole_ranges)} area(s): "
                   + ", ".join(str(r) for r in p.hole_ranges[:8])
                   + (" ..." if len(p.hole_ranges) > 8 else ""))
        version = ".".join(map(str, p.kernel_version))
        out.append(f"kernel {version} (era {p.era.value}): {_pred_line(p)}")
    if sp.without_fix is not None:
        out.append(f"without the fix (era B, 3.2-3.4): {_pred_line(sp.without_fix)}")
    if sp.pvh is not None:
        out.append("PVH dom0's map (Xen's pvh_setup_e820, before its ACPI tables' bytes):")
        out += [f"  {e}" for e in sp.pvh.built]
        out.append(f"PVH: Xen counts {sp.pvh.xen_pages} pages for dom0, Linux has "
                   f"{sp.pvh.own_pages} of its own; balloon current_kb "
                   + " or ".join(str(x * 4) for x in sp.pvh.balloon_pages)
                   + " (by the kernel's balloon)")
    out += [f"note      {n}" for n in sp.notes]
    return "\n".join(out)
