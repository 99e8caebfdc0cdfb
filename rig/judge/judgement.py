"""A judgement: the checks of one log, the prediction they were judged against and the model's
inputs with their sources. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field

from rig.judge.check import Check, Status, verdict_of
from rig.judge.records import ModelInputs
from rig.model.pv import Prediction
from rig.model.pvh import PvhPrediction


@dataclass
class Judgement:
    checks: list[Check]
    prediction: Prediction | None
    inputs: ModelInputs = field(default_factory=ModelInputs)
    #: dom0 refused the layout as the model said it must (no boot to judge beyond that)
    refused: bool = False
    #: a PVH dom0's prediction (rig.model.pvh) in place of the PV model's
    pvh: PvhPrediction | None = None

    @property
    def verdict(self) -> Status:
        return verdict_of(self.checks)
