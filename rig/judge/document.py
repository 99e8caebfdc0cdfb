"""The result document (JSON, schema 1) and its human summary.

One document serves ``rig parse``, ``rig run`` and the pytest plugin.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rig.judge.checks import Check, Judgement, Status, verdict_of
from rig.errors import UsageError
from rig.model.pv import Prediction
from rig.parse import ParsedLog
from rig.model.prediction import ScenarioPrediction

SCHEMA = 1


def document(parsed: ParsedLog, judgement: Judgement, extra_checks: list[Check] | None = None,
             **live: object) -> dict[str, Any]:
    checks = list(judgement.checks) + list(extra_checks or [])
    linux = parsed.linux.to_json()
    linux["meminfo_total_kb"] = parsed.init.meminfo_kb.get("MemTotal")
    linux["balloon_current_kb"] = parsed.init.balloon_kb.get("current_kb")
    linux["balloon_target_kb"] = parsed.init.balloon_kb.get("target_kb")
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "verdict": verdict_of(checks).label,
        "checks": [c.to_json() for c in checks],
        "xen": parsed.xen.to_json(),
        "linux": linux,
        "init": parsed.init.to_json(),
        "prediction": judgement.prediction.to_json() if judgement.prediction else
        judgement.pvh.to_json() if judgement.pvh else None,
        "model_inputs": judgement.inputs,
        "crashes": [h.to_json() for h in parsed.crashes],
        "log_lines": parsed.lines,
        "log_rejoined": parsed.rejoined,
        "log_decoded": parsed.decoded,
        "lava": parsed.lava.to_json() if parsed.lava else None,
        "log_cut": [{"line": no, "message": what, "text": text} for no, what, text in parsed.cut],
        "log_tail": parsed.tail,
    }
    for key in ("scenario", "scenario_prediction", "accelerator", "artifacts", "timings",
                "console", "log", "machine"):
        doc[key] = live.get(key)
    return doc


def load(path: Path) -> dict[str, Any]:
    """A result document written by rig (result.json); anything else is a usage error."""
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a directory") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: not a rig result document ({exc})") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA or "checks" not in data:
        raise UsageError(f"{path}: not a rig result document (no schema {SCHEMA} and checks)")
    return data


def check_output(path: Path | None, flag: str) -> None:
    """An output file the user named must be writable where it is, before any work starts."""
    if path is None:
        return
    if path.is_dir():
        raise UsageError(f"{flag} {str(path)!r} is a directory: give a file name")
    if not path.parent.is_dir():
        raise UsageError(f"{flag} {str(path)!r}: the folder {str(path.parent)!r} does not exist")


def verdict(doc: dict[str, Any]) -> Status:
    return Status[str(doc["verdict"]).upper()]


def write(doc: dict[str, Any], path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2, default=str) + "\n")
    tmp.replace(path)


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ", ".join(map(str, value)) if len(value) <= 6 else f"{len(value)} items"
    return str(value)


def summary(doc: dict[str, Any]) -> str:
    out: list[str] = []
    sc = doc.get("scenario") or {}
    if sc:
        out.append(f"scenario  {sc.get('name')}: {sc.get('description', '')}")
    if doc.get("accelerator"):
        acc = doc["accelerator"]
        out.append(f"machine   {acc.get('machine_type', '')} accel={acc.get('accel')} "
                   f"({acc.get('reason')}), QEMU {acc.get('qemu_version')}, cpu {acc.get('cpu')}")
        out += [f"          {why}" for why in acc.get("machine_reasons") or []]
    xen, linux = doc["xen"], doc["linux"]
    out.append(f"xen       {_fmt(xen.get('version'))}  dom0_mem={_fmt(xen.get('dom0_mem'))}  "
               f"dom0 nr_pages={_fmt(xen.get('dom0_nr_pages'))}")
    out.append(f"linux     {_fmt(linux.get('version'))}  era={_fmt(linux.get('era'))}  "
               f"released={_fmt(linux.get('released_pages'))}  "
               f"remapped={_fmt(linux.get('remapped_pages'))}  "
               f"populated={_fmt(linux.get('populated_pages'))}  "
               f"balloon current_kb={_fmt(linux.get('balloon_current_kb'))}")
    if linux.get("memory_line"):
        out.append(f"          {linux['memory_line']}")
    timings = doc.get("timings") or {}
    if timings.get("stages"):
        stages = "  ".join(f"{k} {v:.1f}s" for k, v in timings["stages"].items())
        out.append(f"stages    {stages}")
    if timings.get("total_s") is not None:
        out.append(f"time      {timings['total_s']:.1f} s in all")
    out.append("checks")
    for c in doc["checks"]:
        exp_obs = ""
        if c["expected"] is not None or c["observed"] is not None:
            exp_obs = f" (expected {_fmt(c['expected'])}, observed {_fmt(c['observed'])})"
        out.append(f"  {c['status'].upper():<10} {c['name']:<14} {c['message']}{exp_obs}")
    out += [f"note      {n}" for n in doc.get("notes") or []]
    if doc.get("log"):
        out.append(f"log       {doc['log']}")
    out.append(f"verdict   {doc['verdict'].upper()}")
    return "\n".join(out)


def _mib(pages: int) -> str:
    return f"{pages * 4096 / 2**20:.1f} MiB"


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
        parts.append(f"LOSES {p.lost_pages} pages ({_mib(p.lost_pages)})")
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
    nr = "-" if sp.nr_pages is None else f"{sp.nr_pages} ({_mib(sp.nr_pages)})"
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
