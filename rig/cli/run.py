"""``rig run``: boot one scenario, print the summary, write the documents asked for."""

from __future__ import annotations

import argparse
import shlex
from typing import TYPE_CHECKING

from rig.cli import reporting
from rig.cli.options import (
    EPILOG,
    Commands,
    accel,
    html,
    image_option,
    machine,
    offline,
    overrides,
    results,
    scenario,
    sets,
    timeout,
)
from rig.machine.cpu import DEFAULT_CPU

if TYPE_CHECKING:
    from rig.judge.result import Result


def add(sub: Commands) -> None:
    r = sub.add_parser("run", help="boot a scenario under QEMU and judge dom0's memory setup",
                       epilog=EPILOG)
    arguments(r)
    r.set_defaults(func=main)


def arguments(r: argparse.ArgumentParser) -> None:
    """rig run's arguments (rig bisect reads its RUN-ARGS with them)."""
    scenario(r)
    sets(r, "override a scenario field, e.g. xen.dom0_mem=3G")
    accel(r)
    image_option(r, "kernel", "dom0's kernel (dom0.kernel)")
    image_option(r, "xen", "Xen (xen.version)")
    html(r, "write an HTML report")
    results(r)
    r.add_argument("--keep", action="store_true",
                   help="keep the rendered files and print the QEMU command to rerun by hand")
    r.add_argument("--cpu", default=DEFAULT_CPU, metavar="MODEL",
                   help=f"QEMU CPU model (default {DEFAULT_CPU}; plain 'max' crashes dom0 "
                        "under TCG, a handy fault to test)")
    offline(r)
    r.add_argument("--quick", action="store_true",
                   help="stop once Linux's memory setup is over and Xen has given its count "
                        "(the remap checks judged; /init and the balloon not)")
    timeout(r)
    machine(r)
    reporting.add(r)


def main(a: argparse.Namespace) -> int:
    # what comes after the boot (the document, the report, the summary) is imported after it:
    # rig.runner.run imports the judge while QEMU boots
    from rig.domain import scenario_file
    from rig.machine.timeouts import parse_timeouts
    from rig.output.paths import check_output, check_output_dir
    from rig.runner.run import RunOptions, run

    timeouts = parse_timeouts(a.timeout)
    s = scenario_file.load(a.scenario, overrides(a))
    reporting.check(a)
    check_output(a.html, "--html")
    check_output_dir(a.results, "--results")
    fixed = reporting.output_folder(a)

    def deliver(result: Result) -> None:
        """The documents asked for, however the run ends (an interrupted run's too)."""
        from rig.output import html

        reporting.write(a, f"rig run {s.name}", [(s.name, result)])
        if a.html:
            html.write_page([(s.name, result)], a.html, f"rig run {s.name}")

    options = RunOptions(accel=a.accel, results=a.results, keep=a.keep, offline=a.offline,
                         timeouts=timeouts, cpu=a.cpu, on_result=deliver, quick=a.quick,
                         folder=fixed, verbose=a.verbose)
    doc, out_dir = run(s, options)
    from rig.output.summary import summary

    print(doc.verdict.label.upper() if a.quiet else summary(doc))
    if options.keep and doc.machine is not None:
        print(f"kept      {out_dir / 'run'}")
        print("rerun     " + shlex.join(doc.machine.rerun))
    return doc.verdict.exit_code
