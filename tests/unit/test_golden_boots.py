"""Recorded boots, judged again: each tests/boots/NAME holds a real boot's console log and the
result document rig wrote for it (``rig run``, 2026-12-01, before the house was rebuilt in
packages), the kernel options the model read and the kernel's release. Judging the same log
with the same live facts must give the same document, byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rig.domain.kconfig import KernelConfig
from rig.domain.scenario_file import from_dict
from rig.judge.document import Result
from rig.judge.records import Live
from rig.parse.scan import parse_file
from rig.runner.run import judge_boot
from tests.conftest import TESTS

BOOTS = sorted(p for p in (TESTS / "boots").iterdir() if p.is_dir())


def rejudge(folder: Path) -> tuple[Result, str]:
    """(the boot judged again, the document as recorded)."""
    recorded_text = (folder / "result.json").read_text()
    recorded = Result.from_json(json.loads(recorded_text))
    facts = json.loads((folder / "boot.json").read_text())
    assert recorded.scenario is not None and recorded.console is not None
    s = from_dict(recorded.scenario.to_builtins())
    live = Live(scenario=recorded.scenario, accelerator=recorded.accelerator,
                artifacts=recorded.artifacts, timings=recorded.timings,
                console=recorded.console, log=recorded.log, machine=recorded.machine)
    config = KernelConfig.load(folder / "kernel.config", facts["config_source"])
    result = judge_boot(s, parse_file(folder / "console.log"), live, config=config,
                        release=facts["release"], recorded=None,
                        exit_status=facts["exit_status"], console=recorded.console)
    return result, recorded_text


@pytest.mark.parametrize("folder", BOOTS, ids=[p.name for p in BOOTS])
def test_a_recorded_boot_is_judged_the_same(folder: Path) -> None:
    result, recorded = rejudge(folder)
    assert result.to_text() == recorded
