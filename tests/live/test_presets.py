"""Every preset on the default kernel: what `rig predict` says from the scenario alone is what
the kernel printed, and the layout was realised (Xen's E820 = the predicted map)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rig.domain import scenario_file
from rig.judge.check import CheckName, Status
from rig.runner.run import RunOptions, run

pytestmark = pytest.mark.boot

# pci-hole is booted by test_boot.py through the CLI
PRESETS = [name for name in scenario_file.presets() if name != "pci-hole"]


@pytest.mark.parametrize("name", PRESETS)
def test_preset(name: str, tmp_path: Path) -> None:
    s = scenario_file.load(name)
    doc, _ = run(s, RunOptions(accel="tcg", results=tmp_path))
    assert doc.scenario_prediction is not None
    if s.firmware == "uefi" and doc.scenario_prediction.prediction is None:
        # OVMF's map is recorded by the first boot of a machine and size; the second is judged
        assert doc.verdict is Status.PASS, doc.problems
        doc, _ = run(s, RunOptions(accel="tcg", results=tmp_path))
    assert doc.verdict is Status.PASS, doc.problems
    layout = doc.check(CheckName.LAYOUT)
    assert layout is not None and layout.status is Status.PASS
    sp = doc.scenario_prediction  # what `rig predict` says before the boot
    assert sp is not None and sp.prediction is not None
    assert doc.linux.remapped_pages == sp.prediction.remapped_pages
    assert doc.xen.dom0_nr_pages == sp.nr_pages
    assert doc.linux.balloon_current_kb == sp.prediction.balloon_current_kb
