"""rig's command line: the top-level parser, built from one module per command."""

from __future__ import annotations

from rig import __version__
from rig.cli import (
    bisect,
    compare,
    fuzz,
    images,
    kernel,
    lava,
    matrix,
    parse,
    predict,
    regressions,
    render,
    replay,
    report,
    run,
    scenarios,
    shell,
)
from rig.cli.options import EPILOG, Parser

DESCRIPTION = ("rig: reproduce Xen dom0 memory layouts under QEMU and judge what the Linux "
               "kernel does with them")
#: in the order ``rig --help`` lists them
COMMANDS = (run, parse, predict, render, matrix, compare, regressions, report, replay, fuzz,
            bisect, lava, kernel, images, scenarios, shell)


def parser() -> Parser:
    p = Parser(prog="rig", description=DESCRIPTION, epilog=EPILOG)
    p.add_argument("--version", action="version", version=f"rig {__version__}")
    p.set_defaults(root_parser=p)  # for the commands that print the parser (rig.cli.shell)
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    for command in COMMANDS:
        command.add(sub)
    return p
