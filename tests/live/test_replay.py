"""rig replay: a rig boot log replays to the same counts exactly; the seed's box (holes at
arbitrary places, from a hand-written era-C log) replays within the differences it explains."""

from __future__ import annotations

import io
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from rig.layouts import replayed as replay
from rig.parse.collect import parse_lines
from rig.parse.scan import parse_file
from rig.runner.run import RunOptions, run
from tests.conftest import LOGS
from tests.corpus import load_case
from tests.replayable import REAL, parsed

pytestmark = pytest.mark.boot


def test_round_trip_through_the_cli(tmp_path: Path) -> None:
    raw = tmp_path / "seed-8g.log"
    raw.write_text(load_case(LOGS / "rig-seed-8g-6.1.log")[1])
    proc = subprocess.run([sys.executable, "-m", "rig.cli", "replay", str(raw), "--accel", "tcg",
                           "--results", str(tmp_path / "r"), "--emit-scenario",
                           str(tmp_path / "replay.toml")], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert ("the original remaps 21886, the replay 21886; replayed boot printed: 21886"
            in proc.stdout)
    assert "0 unexplained" in proc.stdout
    # the scenario file rig wrote loads back with the four holes (tomli-w writes short
    # entries as an inline array of tables)
    assert len(tomllib.loads((tmp_path / "replay.toml").read_text())["holes"]) == 4


def test_seed_box_within_the_explained_difference(tmp_path: Path) -> None:
    original = parse_lines(io.StringIO(load_case(LOGS / "seed-era-c-3.5.log")[1], newline="\n"))
    rp = replay.derive(original)
    doc_result, _ = run(rp.scenario, RunOptions(accel="tcg", results=tmp_path))
    doc = doc_result.to_json()
    assert doc["verdict"] == "pass", doc["checks"]
    fid = replay.fidelity(rp, parse_file(Path(doc["log"])), doc["linux"]["version"])
    unexplained = [row for row in fid.rows if row[2].startswith(("differs", "only in"))]
    assert unexplained == []
    # the one remaining difference: pfn 0x9e, RAM under SeaBIOS, non-RAM on the seed's box
    assert fid.original_count - fid.replayed_count == 1  # type: ignore[operator]


@pytest.mark.parametrize(("name", "machine"),
                         [r for r in REAL if "128g" not in r[0]])  # 128 GiB: docs/guide.md
def test_real_machine_replays_within_the_firmware_pages(name: str, machine: str,
                                                        tmp_path: Path) -> None:
    """Each real machine of the corpus, replayed and booted: the kernel's count is the model's
    on the original map but for the firmware's own pages below 1 MiB."""
    rp = replay.derive(parsed(name), name="r")
    doc_result, _ = run(rp.scenario, RunOptions(accel="tcg", results=tmp_path))
    doc = doc_result.to_json()
    assert doc["verdict"] == "pass", doc["checks"]
    assert doc["accelerator"]["machine_type"] == machine
    fid = replay.fidelity(rp, parse_file(Path(doc["log"])), doc["linux"]["version"])
    assert fid.unexplained == 0, fid.to_text()
