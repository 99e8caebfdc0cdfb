from __future__ import annotations

import re
from pathlib import Path

import pytest

from rig.domain.scenario_file import load
from rig.layouts import replayed as replay
from rig.model import cost
from rig.model.prediction import predict_scenario
from rig.parse.collect import parse_lines
from tests.replayable import REAL, parsed


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


def test_typed_entries_keep_their_type_and_bounds() -> None:
    rp = replay.derive(parsed("seed-era-c-3.5.log"))
    kinds = {(h.start, h.end): h.kind for h in rp.scenario.holes}
    assert kinds[(0x20000000, 0x20200000)] == "reserved"
    assert kinds[(0xBAD80000, 0xBADC9000)] == "nvs"
    # every range of this map is an entry: no gaps, and the two RAM pages between reserved
    # entries stay RAM
    assert "gap" not in kinds.values()
    assert not any(h.start < 0xBADF6000 and h.end > 0xBADF4000 for h in rp.scenario.holes)
    assert "keeps its type and exact bounds" in rp.notes[0]


def test_unaligned_entries_keep_their_bytes_and_gaps_their_pages() -> None:
    """A gap shares its partial pages with a typed neighbour (which keeps them) or with RAM
    (whose partial page was never RAM to dom0)."""
    lines = ["(XEN) Xen-e820 RAM map:",
             "(XEN)  [0000000000000000, 000000000009fbff] (usable)",
             "(XEN)  [00000000000f0000, 00000000000fffff] (reserved)",
             "(XEN)  [0000000000100000, 000000003fff0f25] (usable)",
             "(XEN)  [000000003fff0f26, 000000003fff2f25] (ACPI data)",
             "(XEN)  [000000003fff4000, 000000003fffffff] (usable)",
             "(XEN)  [0000000040000000, 00000000400007ff] (ACPI NVS)",
             "(XEN)  [0000000040003000, 000000007fffffff] (usable)"]
    rp = replay.derive(parse_lines(line + "\n" for line in lines), dom0_mem="512M")
    holes = [(h.start, h.end, h.kind) for h in rp.scenario.holes if h.start < 0x40003000]
    assert holes == [(0x3FFF0F26, 0x3FFF2F26, "acpi"), (0x3FFF3000, 0x3FFF4000, "gap"),
                     (0x40000000, 0x40000800, "nvs"), (0x40001000, 0x40003000, "gap")]


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
    with pytest.raises(replay.ReplayError, match="no E820"):
        replay.derive(parse_lines(["nothing here\n"]), dom0_mem="1G")
    with pytest.raises(replay.ReplayError, match="--dom0-mem 'lots'"):
        replay.derive(parsed("rig-seed-8g-6.1.log"), dom0_mem="lots")


def test_a_host_too_small_is_told_a_command_that_works() -> None:
    """The SLES server (125.5 GiB dom0) on a host with 6 GiB to spare: rig names the largest
    dom0 that fits, and that suggestion, given back, replays."""
    log = parsed("real-xen-4.13-sles-4.12-128g-mail.log")
    budget = 6 << 30
    with pytest.raises(replay.ReplayError, match="largest faithful subset") as err:
        replay.derive(log, budget=budget)
    m = re.search(r"--dom0-mem (\d+)G", str(err.value))
    assert m is not None, str(err.value)
    rp = replay.derive(log, dom0_mem=f"{m.group(1)}G", budget=budget)
    assert rp.nr_pages == int(m.group(1)) << 18
    assert cost.peak_rss(rp.scenario.memory, rp.nr_pages, 0) <= budget
    assert any("of the original's 32911007 pages" in n for n in rp.notes)
    # and the whole machine replays where the host can hold it (measured: rig.model.cost)
    whole = replay.derive(log, budget=24 << 30)
    assert whole.nr_pages == 32911007 and whole.scenario.memory >= 127 << 30


@pytest.mark.parametrize(("name", "machine"), REAL)
def test_real_machines_replay_but_for_the_firmware_below_1m(name: str, machine: str,
                                                            tmp_path: Path) -> None:
    rp = replay.derive(parsed(name), name="r")
    assert rp.scenario.qemu_machine == machine
    fid = replay.fidelity(rp, None, "6.1")
    # the replay's map gives the same count, less what the firmwares place below 1 MiB
    assert fid.original_count - fid.replay_model_count == fid.firmware_pages
    assert abs(fid.firmware_pages) <= 6
    assert not [r for r in fid.rows if r[2].startswith(("differs", "only in"))]
    path = tmp_path / "r.toml"
    path.write_text(rp.to_toml())
    assert load(str(path)).holes == rp.scenario.holes
