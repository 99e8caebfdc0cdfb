"""``rig predict``: what a correct kernel must do with a scenario's layout, from the scenario
alone."""

from __future__ import annotations

import argparse
import json

from rig.cli.options import Commands, scenario, sets


def add(sub: Commands) -> None:
    pr = sub.add_parser("predict", help="what a correct kernel must do with a scenario's layout")
    scenario(pr)
    sets(pr, "override a scenario field")
    pr.add_argument("--json", action="store_true", help="print the prediction document")
    pr.set_defaults(func=main)


def main(a: argparse.Namespace) -> int:
    from rig.domain.scenario_file import load, overrides_from
    from rig.judge.records import ScenarioPredictionRecord
    from rig.model.prediction import predict_scenario
    from rig.output.summary import prediction_summary

    sp = predict_scenario(load(a.scenario, overrides_from(a.set)))
    print(json.dumps(ScenarioPredictionRecord.of(sp).to_builtins(), indent=2) if a.json
          else prediction_summary(sp))
    return 0
