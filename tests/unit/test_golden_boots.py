"""Recorded boots, judged again (tests/recorded, read by tests/recorded.py): judging the same
log with the same live facts must give the same document, byte for byte. A deliberate change of
the judgement rewrites them with ``pytest --regen`` (the diff is the review; 2026-12-01: the
kernel's checks of Xen's allocations gained what they checked, and Debian's kernels their
upstream release). The nvs-swap-target-unaligned pair (2026-12-06, Debian's 6.12.118 and 7.2.13
on Xen 4.20) are rig's first finding: both halt with no message of their own, and the refusal
check names the bug."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from msgspec import UNSET

from rig import __version__
from rig.judge.check import CheckName, Status
from tests.conftest import RECORDED
from tests.recorded import BOOTS, rejudge


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


def test_a_quick_boot_is_judged_again_as_quick(tmp_path: Path) -> None:
    """A recorded quick boot (``--quick``) keeps its mode: judged again as a full boot, its
    missing /init would be incomplete instead of not looked for."""
    folder = tmp_path / "pci-hole"
    shutil.copytree(RECORDED / "pci-hole", folder)
    doc = json.loads((folder / "result.json").read_text())
    doc["mode"] = "quick"
    (folder / "result.json").write_text(json.dumps(doc))
    result, _ = rejudge(folder)
    assert result.mode == "quick"
    boot = next(c for c in result.checks if c.name == CheckName.BOOT)
    assert boot.status is Status.SKIP and "quick mode" in boot.message
