"""``rig scenarios``: the presets and what each is for."""

from __future__ import annotations

import argparse

from rig.cli.options import Commands


def add(sub: Commands) -> None:
    sc = sub.add_parser("scenarios", help="list the preset scenarios")
    sc.set_defaults(func=main)


def main(a: argparse.Namespace) -> int:
    from rig.domain.scenario import ScenarioError
    from rig.domain.scenario_file import load, presets

    for name, path in presets().items():
        try:
            print(f"{name:<16} {load(str(path)).description}")
        except ScenarioError as exc:
            print(f"{name:<16} INVALID: {exc}")
    return 0
