"""``rig replay LOG``: derive a scenario from a real machine's log (rig.replay, pure), boot it,
and report how faithful the replay is. The machine-side half: files, the host's memory, boots."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rig.runner import replay_layout as replay
from rig.runner.saved_logs import read
from rig.machine.qemu import host_memory_available
from rig.model.pv import parse_version
from rig.parse import parse_file
from rig.judge.document import check_output, summary, verdict
from rig.runner.run import RunOptions, run

#: memory the host keeps for itself while a replay runs (rig.cost estimates QEMU's own)
HOST_HEADROOM = 2 << 30


@dataclass
class ReplayRequest:
    log: str
    kernel: str | None = None
    xen: str | None = None
    dom0_mem: str | None = None
    emit_scenario: Path | None = None
    no_boot: bool = False
    accel: str = "auto"
    results: Path | None = None
    offline: bool = False
    json_out: Path | None = None


def scenario_name(log: str) -> str:
    """A valid scenario name from a log's file name ("replay-<stem>", odd characters as '-')."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(log).stem).strip(".-") or "log"
    return f"replay-{stem}"[:60]


def _artifact(value: str | None, default: str) -> str:
    if not value:
        return default
    path = Path(value).expanduser()
    return str(path.absolute()) if path.is_file() else value


def main_replay(req: ReplayRequest) -> int:
    check_output(req.emit_scenario, "--emit-scenario")
    check_output(req.json_out, "--json-out")
    source = read(req.log)
    original = source.log
    budget = max(0, host_memory_available() - HOST_HEADROOM)
    rp = replay.derive(original, name=scenario_name(req.log), dom0_mem=req.dom0_mem,
                       kernel=_artifact(req.kernel, "6.1"), xen=_artifact(req.xen, "4.17"),
                       budget=budget)
    s = rp.scenario
    print(f"replay    {s.name}: {s.qemu_machine}, {s.memory // 2**20} MiB, RAM below 4 GiB to "
          f"{s.below_4g or 0:#x}, {len(s.holes)} hole(s), dom0 {rp.nr_pages} pages")
    for note in rp.notes:
        print(f"note      {note}")
    if req.emit_scenario:
        req.emit_scenario.write_text(rp.to_toml())
        print(f"scenario  {req.emit_scenario}")
    replayed = None
    doc: dict[str, Any] | None = None
    code = 0
    if not req.no_boot:
        doc, out_dir = run(s, RunOptions(accel=req.accel, results=req.results,
                                         offline=req.offline))
        (out_dir / "scenario.toml").write_text(rp.to_toml())
        print(summary(doc))
        replayed = parse_file(Path(doc["log"]))
        code = verdict(doc).exit_code
    # the kernel the replay ran (or will run); a path or src: kernel counts as the default's era
    version = replayed.linux.version if replayed and replayed.linux.version else s.kernel
    try:
        parse_version(version)
    except ValueError:
        version = "6.1"
    fid = replay.fidelity(rp, replayed, version)
    print(fid.to_text())
    if req.json_out:
        out = {"schema": 1, "log": req.log, "scenario": s.to_json(),
               "qemu_machine": s.qemu_machine, "map_source": rp.map_source,
               "nr_pages": rp.nr_pages, "notes": rp.notes, "fidelity": fid.to_json(),
               "boot": doc}
        req.json_out.write_text(json.dumps(out, indent=2) + "\n")
    return code


__all__ = ["ReplayRequest", "main_replay", "scenario_name"]
