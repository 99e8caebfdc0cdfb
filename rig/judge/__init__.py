"""The judge (pure): ``judge.judge`` turns a parsed log into a ``Judgement`` (the model's
inputs, the PV and PVH checks; live.py adds the checks of a live boot); a check is
``check.Check``; ``result.Result`` is one boot's result document."""
