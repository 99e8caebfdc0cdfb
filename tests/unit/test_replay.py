from __future__ import annotations

import io

import pytest

from rig import replay
from rig.parse import parse_lines
from rig.prediction import predict_scenario
from rig.scenario import load
from tests.conftest import LOGS
from tests.unit.test_corpus import load_case


def parsed(name: str):  # type: ignore[no-untyped-def]
    return parse_lines(io.StringIO(load_case(LOGS / name)[1], newline="\n"))


def test_round_trip_of_a_rig_boot_log() -> None:
    rp = replay.derive(parsed("rig-seed-8g-6.1.log"))
    preset = load("seed-8g")
    assert rp.scenario.holes == preset.holes
    assert (rp.scenario.low_ram, rp.scenario.memory) == (preset.low_ram, preset.memory)
    sp = predict_scenario(rp.scenario)
    assert sp.prediction is not None and sp.prediction.remapped_pages == 21886
    fid = replay.fidelity(rp, None, "6.1")
    assert all(remark == "same" for _, _, remark in fid.rows)
    assert fid.original_count == 21886


def test_seed_box_replays_but_for_the_firmware_page() -> None:
    rp = replay.derive(parsed("seed-era-c-3.5.log"))
    assert rp.nr_pages == 1756005
    fid = replay.fidelity(rp, None, "6.1")
    rows = {orig: remark for orig, _, remark in fid.rows}
    assert rows["9e-100"] == "firmware's own area below 1 MiB"
    assert sum(r == "same" for r in rows.values()) == 5
    sp = predict_scenario(rp.scenario)
    # the seed's 283999, less the one page SeaBIOS keeps below 640 KiB (pfn 0x9e is RAM there)
    assert fid.original_count == 283999
    assert sp.prediction is not None and sp.prediction.remapped_pages == 283999 - 1
    assert any("firmware's own area" in n for n in rp.notes)


def test_typed_ranges_become_gaps_and_say_so() -> None:
    rp = replay.derive(parsed("seed-era-c-3.5.log"))
    assert all(h.kind == "gap" for h in rp.scenario.holes)
    assert "treats both alike" in rp.notes[0]


def test_emitted_toml_loads_back(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rp = replay.derive(parsed("rig-many-holes-6.1.log"))
    path = tmp_path / "replay.toml"
    path.write_text(rp.to_toml())
    again = load(str(path))
    assert again.holes == rp.scenario.holes and again.dom0_mem == rp.scenario.dom0_mem


def test_refusals_say_what_would_work() -> None:
    with pytest.raises(replay.ReplayError, match="--dom0-mem"):
        replay.derive(parsed("era-a-3.0-dmesg.log"))  # no Xen lines: nr_pages unknown
    assert replay.derive(parsed("era-a-3.0-dmesg.log"), dom0_mem="1G").nr_pages == 262144
    with pytest.raises(replay.ReplayError, match="largest faithful subset"):
        replay.derive(parsed("era-a-3.0-dmesg.log"), dom0_mem="64G")
    with pytest.raises(replay.ReplayError, match="no E820"):
        replay.derive(parse_lines(["nothing here\n"]), dom0_mem="1G")
