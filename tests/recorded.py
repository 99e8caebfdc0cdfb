"""The recorded boots, judged again for the tests: each tests/recorded/NAME holds a real boot's
console log and the result document rig wrote for it (``rig run``, 2026-12-01, before the house
was rebuilt in packages; typed-entries and the nvs-on-kernel pair after rig's test firmware
came), the kernel options the model read, and boot.json: the kernel's release, the upstream
release its build string names, its ELF's layout, and "loader": "grub" for the boots of before
every layout booted direct. SeaBIOS's debug console is in firmware.log where the boot had one.
``scripts/record-boot RESULT-DIR NAME`` keeps a run here. tests/unit/test_golden_boots.py holds
the judge to the recorded documents; other tests borrow the boots (``BOOTS``), judge one again
(``rejudge``) or judge it again with one fact of its console edited (``edited``)."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

from rig.domain.kconfig import KernelConfig
from rig.domain.scenario_file import from_dict
from rig.judge.check import Status
from rig.judge.records import Live
from rig.judge.result import Result
from rig.model.kernel import BootedKernel, KernelLayout
from rig.parse import seabios
from rig.parse.scan import parse_file
from rig.runner.judged import BootEnd, FirmwareMaps, judge_boot
from tests.conftest import RECORDED

BOOTS = sorted(p for p in RECORDED.iterdir() if p.is_dir())


def rejudge(folder: Path, log: Path | None = None) -> tuple[Result, str]:
    """(the boot judged again, from ``log`` in place of its console log if given, the document
    as recorded)."""
    recorded_text = (folder / "result.json").read_text()
    recorded = Result.from_json(json.loads(recorded_text))
    facts = json.loads((folder / "boot.json").read_text())
    assert recorded.scenario is not None and recorded.console is not None
    s = from_dict(recorded.scenario.to_builtins())
    if "loader" in facts:
        # recorded when every scenario with holes booted through GRUB
        s = replace(s, loader=facts["loader"])
    live = Live(scenario=recorded.scenario, accelerator=recorded.accelerator,
                artifacts=recorded.artifacts, timings=recorded.timings,
                console=recorded.console, log=recorded.log, machine=recorded.machine,
                firmware_log=recorded.firmware_log, mode=recorded.mode)
    config = KernelConfig.load(folder / "kernel.config", facts["config_source"])
    layout = KernelLayout(**facts["layout"]) if "layout" in facts else None
    booted = BootedKernel(config, facts["release"], layout, facts.get("upstream"))
    maps = FirmwareMaps.of(None, seabios.read_file(folder / "firmware.log"))
    result = judge_boot(s, parse_file(log or folder / "console.log"), live, booted=booted,
                        maps=maps, ended=BootEnd(recorded.console, facts["exit_status"]),
                        quick=recorded.mode == "quick")
    return result, recorded_text


def edited(tmp_path: Path, name: str, old: str, new: str) -> dict[str, Status]:
    """The checks of the recorded boot ``name`` judged again with the first ``old`` of its
    console log replaced by ``new`` (in a copy under ``tmp_path``)."""
    folder = tmp_path / name
    shutil.copytree(RECORDED / name, folder)
    log = folder / "console.log"
    text = log.read_text()
    assert old in text
    log.write_text(text.replace(old, new, 1))
    result, _ = rejudge(folder)
    return {c.name: c.status for c in result.checks}
