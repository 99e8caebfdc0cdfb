"""`rig regressions --prove` on real QEMU: every entry that can be had here is caught with its
fix (the check passes) and without it (the check fails: Debian's binary that lacks the fix, or
Debian's source built with it taken out, cached after the first run); and a kernel given with
--kernel that lacks a fix fails the entry, naming the fix."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import kcidb_io
import pytest

from rig.cli import main
from rig.judge.registry import registry
from rig.output.regressions import Outcome

pytestmark = pytest.mark.boot


def test_every_regression_is_caught_with_and_without_its_fix(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], no_leaked_qemu: object) -> None:
    junit, kcidb = tmp_path / "regressions.xml", tmp_path / "kcidb.json"
    code = main(["regressions", "--prove", "-j", "2", "--accel", "tcg",
                 "--results", str(tmp_path / "r"), "--junit", str(junit),
                 "--kcidb", str(kcidb)])
    out = capsys.readouterr().out
    assert code == 0, out
    outcomes = {line.split()[0]: line.split()[1] for line in out.splitlines()
                if line.split() and line.split()[0] in {e.id for e in registry()}
                and len(line.split()) > 1 and line.split()[1] in {o.value for o in Outcome}}
    assert outcomes == {e.id: "caught" for e in registry()}, out
    suite = ET.parse(junit).getroot()
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == \
        (str(len(registry())), "0", "0")
    # KCIDB: each side's checks as tests, valid by KernelCI's own schema; the broken sides'
    # checks fail there, as the regression says they must
    report = json.loads(kcidb.read_text())
    kcidb_io.schema.LATEST.validate(report)
    paths = {t["path"]: t["status"] for t in report["tests"]}
    for e in registry():
        assert paths[f"rig.{e.id}-fixed.{e.check}"] == "PASS"
        assert paths[f"rig.{e.id}-broken.{e.check}"] == "FAIL"


def test_a_kernel_without_the_fix_brings_the_bug_back(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], no_leaked_qemu: object) -> None:
    code = main(["regressions", "--kernel", "6.1", "--only", "amd-nvs-swap", "--accel", "tcg",
                 "--results", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1, out
    assert "amd-nvs-swap               back" in out
    assert "be35d91c8880" in out and "Known: this kernel's version predates" in out
