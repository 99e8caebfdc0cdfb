"""``rig render``: every generated file of a scenario into a folder that boots by hand."""

from __future__ import annotations

import argparse
from pathlib import Path

from rig.cli.options import Commands, scenario, sets


def add(sub: Commands) -> None:
    rd = sub.add_parser("render", help="write every generated file of a scenario to a folder")
    scenario(rd)
    rd.add_argument("-o", "--output", type=Path, required=True, metavar="DIR",
                    help="the folder to write the files into")
    sets(rd, "override a scenario field")
    rd.add_argument("--accel", default="tcg", choices=("kvm", "tcg"),
                    help="the accelerator of the rendered QEMU command (default tcg)")
    rd.set_defaults(func=main)


def main(a: argparse.Namespace) -> int:
    from rig.domain import scenario_file
    from rig.output.paths import check_output_dir
    from rig.runner.render_folder import render_folder

    s = scenario_file.load(a.scenario, scenario_file.overrides_from(a.set))
    check_output_dir(a.output, "-o")
    for path in render_folder(s, a.output, accel=a.accel):
        print(path)
    return 0
