"""``rig regressions``: every public regression of dom0's memory setup, caught."""

from __future__ import annotations

import argparse
import sys

from rig.cli import reporting
from rig.cli.options import EPILOG, Commands, given, image_option, machine, many_boots


def add(sub: Commands) -> None:
    rg = sub.add_parser("regressions", epilog=EPILOG,
                        help="boot every known regression's layout; --prove: with and without "
                             "its fix")
    rg.add_argument("--list", action="store_true", help="name the entries and stop")
    rg.add_argument("--prove", action="store_true",
                    help="also boot each entry without its fix (built from Debian's source "
                         "where no binary lacks it): the check must fail there")
    image_option(rg, "kernel", "boot every entry on this kernel instead of its own fixed one")
    image_option(rg, "xen", "boot every entry on this Xen instead of its own")
    rg.add_argument("--only", metavar="ID,...", help="these entries only")
    many_boots(rg)
    machine(rg)
    reporting.add(rg, junit="entry (a failure unless caught, an error when nothing was tested)")
    rg.set_defaults(func=main)


def main(a: argparse.Namespace) -> int:
    from rig.judge.registry import registry, select
    from rig.output import junit
    from rig.output.regressions import exit_code, junit_case, listing, regressions_table
    from rig.runner import regressions as rg
    from rig.runner.run import results_folder

    entries = select(registry(), a.only)
    if a.list:
        print(listing(entries))
        return 0
    if a.prove and (a.kernel or a.xen):
        from rig.errors import UsageError
        raise UsageError("--prove boots each entry's own kernels with and without its fix; "
                         "--kernel/--xen boot the given ones instead: choose one")
    kernel, xen = given("kernel", a.kernel), given("xen", a.xen)
    reporting.check(a)
    req = rg.Request(only=a.only, prove=a.prove, kernel=kernel, xen=xen, jobs=a.jobs,
                     results=a.results, accel=a.accel, offline=a.offline, quick=a.quick)
    out = reporting.output_folder(a) or results_folder(a.results, "regressions")
    print(f"rig: {len(entries)} regression(s){' (proof)' if a.prove else ''}, results in "
          f"{out}", file=sys.stderr)
    reports = rg.regressions(req, out)
    code = exit_code(reports)
    print({0: "PASS", 1: "FAIL"}.get(code, "ERROR") if a.quiet else regressions_table(reports))
    if a.junit:
        junit.write_cases("rig regressions", [junit_case(rep) for rep in reports], a.junit)
    reporting.write(a, "rig regressions", [(f"{rep.entry.id}-{r.side}", r.result.doc)
                                           for rep in reports for r in rep.runs
                                           if r.result is not None and r.result.doc is not None],
                    junit=False)
    return code
