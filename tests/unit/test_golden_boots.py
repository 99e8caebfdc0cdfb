"""Recorded boots, judged again: each tests/recorded/NAME holds a real boot's console log and the
result document rig wrote for it (``rig run``, 2026-12-01, before the house was rebuilt in
packages; typed-entries and the nvs-on-kernel pair after rig's test firmware came), the kernel
options the model read, and boot.json: the kernel's release, the upstream release its build
string names, its ELF's layout, and "loader": "grub" for the boots of before every layout
booted direct. SeaBIOS's debug console is in firmware.log where the boot had one. Judging the
same log with the same live facts must give the same document, byte for byte. A deliberate
change of the judgement rewrites them with ``pytest --regen`` (the diff is the review;
2026-12-01: the kernel's checks of Xen's allocations gained what they checked, and Debian's
kernels their upstream release). The nvs-swap-target-unaligned pair (2026-12-06, Debian's
6.12.118 and 7.2.13 on Xen 4.20) are rig's first finding: both halt with no message of their
own, and the refusal check names the bug. ``scripts/record-boot RESULT-DIR NAME`` keeps a run
here."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from msgspec import UNSET

from rig import __version__
from rig.domain.kconfig import KernelConfig
from rig.domain.scenario_file import from_dict
from rig.judge.check import CheckName
from rig.judge.records import Live
from rig.judge.result import Result
from rig.model.kernel import BootedKernel, KernelLayout
from rig.parse import seabios
from rig.parse.scan import parse_file
from rig.runner.judged import judge_boot
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
                firmware_log=recorded.firmware_log)
    config = KernelConfig.load(folder / "kernel.config", facts["config_source"])
    layout = KernelLayout(**facts["layout"]) if "layout" in facts else None
    booted = BootedKernel(config, facts["release"], layout, facts.get("upstream"))
    firmware = seabios.map_in_file(folder / "firmware.log")
    result = judge_boot(s, parse_file(log or folder / "console.log"), live, booted=booted,
                        recorded=None, exit_status=facts["exit_status"],
                        console=recorded.console, firmware=firmware)
    return result, recorded_text


@pytest.mark.parametrize("folder", BOOTS, ids=[p.name for p in BOOTS])
def test_a_recorded_boot_is_judged_the_same(folder: Path, regen: bool) -> None:
    result, recorded = rejudge(folder)
    assert result.rig_version == __version__
    result.rig_version = UNSET  # the recorded documents are older than the field
    if regen:
        (folder / "result.json").write_text(result.to_text())
        recorded = result.to_text()
    assert result.to_text() == recorded


def test_a_boot_without_xens_dump_is_incomplete_not_failed(tmp_path: Path) -> None:
    # a CI boot's switch to Xen went unanswered: the log ends at /init's last line, and the
    # checks that need Xen's count have no evidence either way
    lines = (RECORDED / "pvh" / "console.log").read_text().splitlines(True)
    cut = next(i for i, ln in enumerate(lines) if "RIG: stage done" in ln)
    (tmp_path / "console.log").write_text("".join(lines[:cut + 1]))
    result, _ = rejudge(RECORDED / "pvh", tmp_path / "console.log")
    checks = {c.name: c.status.value for c in result.checks}
    assert checks[CheckName.PREDICTED_PVH] == "incomplete"
    assert checks[CheckName.XEN_ACCOUNTING] == "incomplete"
    assert result.verdict == "incomplete"
