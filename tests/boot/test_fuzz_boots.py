"""`rig fuzz` in the suite: a few boots of a fixed seed, small guests. The long runs are by hand
(README, findings)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rig.cli import main
from rig.domain.scenario_file import load

pytestmark = pytest.mark.boot


def test_fixed_seed_runs_clean_and_keeps_its_scenarios(tmp_path: Path,
                                                       no_leaked_qemu: object) -> None:
    code = main(["fuzz", "3", "--seed", "1", "--max-memory", "4G", "--accel", "tcg",
                 "--results", str(tmp_path)])
    (folder,) = [p for p in tmp_path.iterdir() if p.name.startswith("fuzz-1-")]
    doc = json.loads((folder / "fuzz.json").read_text())
    assert [s["name"] for s in doc["scenarios"]] == ["fuzz-1-000", "fuzz-1-001", "fuzz-1-002"]
    assert code == 0, doc["disagreements"]
    for d in doc["disagreements"]:
        # kept as a reproducer: the scenario loads, and the boot's log and result are beside it
        keep = Path(d["folder"])
        assert load(str(keep / "scenario.toml")).name == d["scenario"]
        assert (keep / "console.log").is_file() and (keep / "result.json").is_file()
