"""The minimiser's simplifications of a layout (rig.layouts.smaller.tries): each one step
smaller, in the order the search tries them."""

from __future__ import annotations

from pathlib import Path

import pytest

from rig.domain.scenario import Scenario
from rig.domain.scenario_file import from_dict
from rig.judge.check import CheckName
from rig.layouts.smaller import tries

LAYOUT = {"name": "x", "machine": {"type": "q35", "memory": "4G", "below_4g": "2G"},
          "holes": [{"start": "0x40000123", "size": "0x1000", "kind": "reserved"},
                    {"start": "0x50000000", "size": "8K", "kind": "nvs"}],
          "xen": {"dom0_mem": "1G,max:2G"}}


def test_each_try_is_one_step_smaller() -> None:
    s = from_dict(LAYOUT)
    got = [(what, t) for what, t in tries(s)]
    assert [w for w, _ in got] == [
        "drop holes[0] (reserved at 0x40000123)", "drop holes[1] (nvs at 0x50000000)",
        "holes[0] (reserved at 0x40000123) on pages", "memory 2G", "dom0_mem 1G",
        "no dom0_mem", "pc machine"]
    aligned = dict(got)["holes[0] (reserved at 0x40000123) on pages"].holes[0]
    assert (aligned.start, aligned.end) == (0x40000000, 0x40002000)
    assert dict(got)["memory 2G"].below_4g == 2 << 30
    assert dict(got)["dom0_mem 1G"].dom0_mem == "1G"


def test_a_try_that_changed_the_outcome_is_not_booted_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Seed 4242's BUG booted "drop the entry that makes it" again in every round; a failed
    try is now skipped once another was kept. Here the reserved entry is what disagrees."""
    from rig.runner import minimise as mn

    s = from_dict(LAYOUT)
    (tmp_path / "scenario.toml").write_text(s.to_toml())
    (tmp_path / "result.json").write_text("{}")
    booted: list[str] = []

    def fake_run(candidate: Scenario, options: object) -> tuple[Scenario, None]:
        booted.append(candidate.to_toml())
        return candidate, None

    def fake_disagreements(doc: object) -> list[tuple[str, str, str, str]]:
        held = isinstance(doc, Scenario) and any(h.kind == "reserved" for h in doc.holes)
        return [(CheckName.CRASH, "crash", "kernel", "BUG" if held or doc is None else "other")]

    monkeypatch.setattr(mn, "run", fake_run)
    monkeypatch.setattr(mn, "load", lambda path: None)
    monkeypatch.setattr(mn, "disagreements", fake_disagreements)
    out = mn.minimise(tmp_path, options=None, budget=30)  # type: ignore[arg-type]
    assert [h.kind for h in out.scenario.holes] == ["reserved"]
    # one boot without it per place it had: at 0x40000123, then on its pages (every round
    # after the first would boot it again otherwise: five more here)
    drops = [t for t in booted if "reserved" not in t]
    assert len(drops) == 2, "\n---\n".join(booted)
