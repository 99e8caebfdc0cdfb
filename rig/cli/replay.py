"""``rig replay LOG``: rebuild a real machine's layout from its boot log, boot it, and say how
faithful the replay is."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rig.cli import reporting
from rig.cli.options import (
    EPILOG,
    Commands,
    accel,
    given,
    image_option,
    machine,
    offline,
    results,
)


def add(sub: Commands) -> None:
    rl = sub.add_parser("replay", help="rebuild a real machine's layout from its boot log",
                        epilog=EPILOG)
    rl.add_argument("log", metavar="LOG",
                    help="a real machine's boot log: Xen's and Linux's lines, in any form rig "
                         "parse reads")
    image_option(rl, "kernel", "dom0's kernel for the replay (default 6.1)")
    image_option(rl, "xen", "Xen for the replay (default 4.17)")
    rl.add_argument("--dom0-mem", metavar="X", help="dom0_mem when the log lacks Xen's lines")
    rl.add_argument("--emit-scenario", type=Path, metavar="FILE", help="write the TOML")
    rl.add_argument("--no-boot", action="store_true", help="derive and report, do not boot")
    rl.add_argument("--json-out", type=Path, metavar="FILE",
                    help="write the replay document (scenario, notes, fidelity, the boot's result)")
    accel(rl)
    results(rl)
    offline(rl)
    machine(rl)
    reporting.add(rl, json_out=False)
    rl.set_defaults(func=main)


def main(a: argparse.Namespace) -> int:
    from rig.judge.result import Result
    from rig.output.summary import summary
    from rig.parse.collect import ParsedLog
    from rig.runner.replay import (
        ReplayRequest,
        boot,
        derive_replay,
        replay_document,
        replay_fidelity,
    )

    reporting.check(a)
    req = ReplayRequest(a.log, given("kernel", a.kernel), given("xen", a.xen), a.dom0_mem,
                        a.emit_scenario, a.no_boot, a.accel, a.results, a.offline, a.json_out)
    if not req.no_boot:
        req.folder = reporting.output_folder(a)
    rp = derive_replay(req)

    def show(text: str) -> None:
        if not a.quiet:  # -q: the verdict alone, at the end
            print(text)

    s = rp.scenario
    show(f"replay    {s.name}: {s.qemu_machine}, {s.memory // 2**20} MiB, RAM below 4 GiB to "
          f"{s.below_4g or 0:#x}, {len(s.holes)} hole(s), dom0 {rp.nr_pages} pages")
    for note in rp.notes:
        show(f"note      {note}")
    if req.emit_scenario:
        req.emit_scenario.write_text(rp.to_toml())
        show(f"scenario  {req.emit_scenario}")
    doc: Result | None = None
    replayed: ParsedLog | None = None
    code = 0
    if not req.no_boot:
        doc, replayed = boot(rp, req)
        reporting.write(a, f"rig replay {s.name}", [(s.name, doc)])
        show(summary(doc))
        code = doc.verdict.exit_code
    fid = replay_fidelity(rp, replayed)
    show(fid.to_text())
    if req.json_out:
        req.json_out.write_text(json.dumps(replay_document(req, rp, fid, doc), indent=2) + "\n")
    if a.quiet:
        print(doc.verdict.label.upper() if doc is not None else "DERIVED")
    return code
