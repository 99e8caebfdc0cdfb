"""``rig regressions``: every public regression of dom0's memory setup, caught."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rig.cli.options import EPILOG, Commands, many_boots


def add(sub: Commands) -> None:
    rg = sub.add_parser("regressions", epilog=EPILOG,
                        help="boot every known regression's layout; --prove: with and without "
                             "its fix")
    rg.add_argument("--list", action="store_true", help="name the entries and stop")
    rg.add_argument("--prove", action="store_true",
                    help="also boot each entry without its fix (built from Debian's source "
                         "where no binary lacks it): the check must fail there")
    rg.add_argument("--kernel", metavar="K", help="boot every entry on this kernel (a key, a "
                    "bzImage, src:TREE) instead of its own fixed one")
    rg.add_argument("--xen", metavar="X", help="likewise for Xen")
    rg.add_argument("--only", metavar="ID,...", help="these entries only")
    rg.add_argument("--junit", type=Path, metavar="FILE")
    many_boots(rg)
    rg.set_defaults(func=main)


def main(a: argparse.Namespace) -> int:
    from rig.machine import build
    from rig.output import junit
    from rig.output.paths import check_output
    from rig.runner import regressions as rg
    from rig.runner.run import results_folder

    entries = rg.select(rg.registry(), a.only)
    if a.list:
        print(rg.listing(entries))
        return 0
    if a.prove and (a.kernel or a.xen):
        from rig.errors import UsageError
        raise UsageError("--prove boots each entry's own kernels with and without its fix; "
                         "--kernel/--xen boot the given ones instead: choose one")
    for kind, value in (("kernel", a.kernel), ("xen", a.xen)):
        if value:
            build.check(kind, value)
    if a.junit:
        check_output(a.junit, "--junit")
    req = rg.Request(only=a.only, prove=a.prove, kernel=a.kernel, xen=a.xen, jobs=a.jobs,
                     results=a.results, accel=a.accel, offline=a.offline, quick=a.quick)
    out = results_folder(a.results, "regressions")
    print(f"rig: {len(entries)} regression(s){' (proof)' if a.prove else ''}, results in "
          f"{out}", file=sys.stderr)
    reports = rg.regressions(req, out)
    print(rg.table(reports))
    if a.junit:
        junit.write_cases("rig regressions", [rg.junit_case(rep) for rep in reports], a.junit)
    return rg.worst(reports)
