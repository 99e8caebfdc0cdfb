"""Stage limits scaled with the machine (rig.machine.timeouts, rig.model.cost.limit_scale)."""

from __future__ import annotations

import pytest

from rig.domain.scenario_file import load
from rig.machine.timeouts import (
    BASE_SILENCE_S,
    BASE_TIMEOUTS,
    TCG_SLOWDOWN,
    Stage,
    silence_for,
    timeouts_for,
)
from rig.model import cost
from rig.model.cost import limit_scale

#: the layout whose kernel BUG a fixed 60 s limit hid: Linux's first line came 70-80 s after
#: QEMU started (its console is up only after the memory setup of a 12.7 GiB dom0)
BIG = "tests/live/scenarios/extra-mem-50g.toml"
SEEN_FIRST_LINE_S = 87.0


def test_the_reference_machine_keeps_the_base_limits() -> None:
    scale = limit_scale(load("pci-hole"))
    assert scale == pytest.approx(1.0, rel=0.01)
    assert timeouts_for("tcg", machine=scale) == pytest.approx(
        {k: v * TCG_SLOWDOWN for k, v in BASE_TIMEOUTS.items()}, rel=0.01)
    assert silence_for("kvm", scale) == pytest.approx(BASE_SILENCE_S, rel=0.01)


def test_a_big_dom0s_late_console_is_waited_for() -> None:
    scale = limit_scale(load(BIG))
    limits = timeouts_for("tcg", machine=scale)
    assert limits[Stage.LINUX] > SEEN_FIRST_LINE_S
    assert silence_for("tcg", scale) > SEEN_FIRST_LINE_S
    # and the fixed limits did not: what the scale is for
    assert timeouts_for("tcg")[Stage.LINUX] < SEEN_FIRST_LINE_S


def test_given_limits_are_not_scaled() -> None:
    limits = timeouts_for("tcg", {Stage.INIT: 5.0}, machine=4.0)
    assert limits[Stage.INIT] == 5.0
    assert limits[Stage.DONE] == BASE_TIMEOUTS[Stage.DONE] * TCG_SLOWDOWN * 4.0


def test_the_scale_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    """The estimate orders a matrix; where it is far off (hours for a boot of a minute) the
    limits stay bounded."""
    monkeypatch.setattr(cost, "scenario_seconds", lambda s: 3600.0)
    assert cost.limit_scale(load("pci-hole")) == cost.MAX_SCALE
