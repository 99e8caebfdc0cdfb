"""``rig replay LOG``: derive a scenario from a real machine's log (rig.layouts.replayed,
pure), boot it, and report how faithful the replay is. The machine-side half: files, the host's
memory, boots."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rig import progress
from rig.judge.records import ScenarioRecord
from rig.judge.result import Result
from rig.layouts.replayed import Fidelity, Replay, derive, fidelity
from rig.machine.qemu import host_memory_available
from rig.model.kernel import parse_version
from rig.output.paths import check_output, check_output_dir
from rig.parse.by_grep import parse_with_grep
from rig.parse.collect import ParsedLog
from rig.runner.run import RunOptions, run
from rig.runner.saved_logs import read

#: memory the host keeps for itself while a replay runs (rig.model.cost estimates QEMU's own)
HOST_HEADROOM = 2 << 30


@dataclass
class ReplayRequest:
    log: str
    #: checked and absolute (rig.cli.options.image); None: 6.1 and 4.17
    kernel: str | None = None
    xen: str | None = None
    dom0_mem: str | None = None
    emit_scenario: Path | None = None
    no_boot: bool = False
    accel: str = "auto"
    results: Path | None = None
    offline: bool = False
    json_out: Path | None = None
    #: the boot's folder itself (``--output DIR``), not a dated one in ``results``
    folder: Path | None = None


def scenario_name(log: str) -> str:
    """A valid scenario name from a log's file name ("replay-<stem>", odd characters as '-')."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(log).stem).strip(".-") or "log"
    return f"replay-{stem}"[:60]


def derive_replay(req: ReplayRequest) -> Replay:
    """The replay's scenario from the log (every output path checked first)."""
    check_output(req.emit_scenario, "--emit-scenario")
    check_output(req.json_out, "--json-out")
    check_output_dir(req.results, "--results")
    original = read(req.log).log
    budget = max(0, host_memory_available() - HOST_HEADROOM)
    return derive(original, name=scenario_name(req.log), dom0_mem=req.dom0_mem,
                  kernel=req.kernel or "6.1", xen=req.xen or "4.17",
                  budget=budget)


def boot(rp: Replay, req: ReplayRequest) -> tuple[Result, ParsedLog]:
    """Boot the replay; its result (with the scenario kept beside it) and its parsed log."""
    doc, out_dir = run(rp.scenario, RunOptions(accel=req.accel, results=req.results,
                                               offline=req.offline, folder=req.folder,
                                               verbose=progress.verbose()))
    (out_dir / "scenario.toml").write_text(rp.to_toml())
    return doc, parse_with_grep(Path(str(doc.log)))


def replay_fidelity(rp: Replay, replayed: ParsedLog | None) -> Fidelity:
    """How faithful the replay is, for the kernel it ran (or will run); a path or src: kernel
    counts as the default's era."""
    version = replayed.linux.version if replayed and replayed.linux.version else \
        rp.scenario.kernel
    try:
        parse_version(version)
    except ValueError:
        version = "6.1"
    return fidelity(rp, replayed, version)


def replay_document(req: ReplayRequest, rp: Replay, fid: Fidelity,
                    doc: Result | None) -> dict[str, object]:
    """``--json-out``'s document: the scenario, notes, fidelity and the boot's result."""
    s = rp.scenario
    return {"schema": 1, "log": req.log, "scenario": ScenarioRecord.of(s).to_builtins(),
            "qemu_machine": s.qemu_machine, "map_source": rp.map_source,
            "nr_pages": rp.nr_pages, "notes": rp.notes, "fidelity": fid.to_json(),
            "boot": doc.to_json() if doc else None}
