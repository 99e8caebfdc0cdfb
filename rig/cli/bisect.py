"""``rig bisect GOOD BAD -- RUN-ARGS``: find the commit that broke dom0's memory setup."""

from __future__ import annotations

import argparse
from pathlib import Path

from rig.cli.options import EPILOG, Commands


def add(sub: Commands) -> None:
    b = sub.add_parser(
        "bisect", epilog=EPILOG + "; bisect: 0 a first bad commit named, 1 none could be",
        help="git bisect a kernel tree with rig: each step built, booted and judged",
        description="Bisect the kernel tree in --tree (default: here) between GOOD and BAD in "
                    "a worktree of rig's own (your checkout is untouched). RUN-ARGS are `rig "
                    "run`'s: a scenario and its options, without a kernel.")
    b.add_argument("good", metavar="GOOD", help="a commit where the scenario passes")
    b.add_argument("bad", metavar="BAD", help="a commit where it fails")
    b.add_argument("run_args", nargs=argparse.REMAINDER, metavar="-- RUN-ARGS",
                   help="rig run's arguments: SCENARIO [--set K=V] [--quick] [--accel A] ...")
    b.add_argument("--tree", type=Path, default=Path("."), metavar="DIR",
                   help="the kernel's git tree (default: the current folder); before GOOD BAD, "
                        "since all after them is rig run's")
    b.set_defaults(func=main)


def main(a: argparse.Namespace) -> int:
    from rig.cli import run as run_command
    from rig.cli.options import Parser, overrides
    from rig.errors import UsageError
    from rig.machine.timeouts import parse_timeouts
    from rig.output.bisection import bisect_table
    from rig.runner.bisect import BisectRequest, bisect
    from rig.runner.run import RunOptions

    args = a.run_args[1:] if a.run_args[:1] == ["--"] else a.run_args
    if not args:
        raise UsageError("rig bisect GOOD BAD -- SCENARIO [rig run's options]: no scenario")
    run_parser = Parser(prog="rig bisect GOOD BAD --")
    run_command.arguments(run_parser)
    r = run_parser.parse_args(args)
    if r.kernel is not None:
        raise UsageError("rig bisect builds dom0's kernel at each step: RUN-ARGS must not "
                         "name one (--kernel)")
    options = RunOptions(accel=r.accel, results=r.results, offline=r.offline,
                         timeouts=parse_timeouts(r.timeout), cpu=r.cpu, quick=r.quick,
                         verbose=r.verbose)
    result = bisect(BisectRequest(a.tree.resolve(), a.good, a.bad, r.scenario,
                                  overrides(r), options))
    print(bisect_table(result))
    return 0 if result.first_bad else 1
