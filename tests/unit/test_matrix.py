from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from rig.errors import UsageError
from rig.judge.check import CheckName, Status
from rig.judge.records import CheckRecord
from rig.output import junit
from rig.output.cells import Cell, CellResult
from rig.runner.matrix import expand, shard
from tests.conftest import LOGS
from tests.corpus import judged


def test_cross_product_keeps_commas_and_empty_values() -> None:
    cells = expand(["xen.dom0_mem=3G,max:3G", "xen.dom0_mem=", "dom0.kernel=6.1",
                    "dom0.kernel=6.12", "xen.version=4.17"])
    assert len(cells) == 4
    assert cells[0].overrides == (("xen.dom0_mem", "3G,max:3G"), ("dom0.kernel", "6.1"),
                                  ("xen.version", "4.17"))
    assert cells[3].overrides[0] == ("xen.dom0_mem", "")
    assert "xen.dom0_mem=(unset)" in cells[3].name
    assert len({c.slug for c in cells}) == 4


def test_shards_split_deterministically() -> None:
    cells = expand([f"k={i}" for i in range(7)])
    parts = [shard(cells, f"{i}/3") for i in (1, 2, 3)]
    assert sorted(c.index for p in parts for c in p) == list(range(7))
    assert [c.index for c in parts[1]] == [1, 4]
    assert shard(cells, "2/3") == parts[1]
    with pytest.raises(UsageError):
        shard(cells, "4/3")


def test_bad_pair() -> None:
    with pytest.raises(UsageError, match="KEY=VALUE"):
        expand(["dom0.kernel"])


def test_junit_failure_carries_expected_and_observed(tmp_path: Path) -> None:
    cells = expand(["dom0.kernel=6.1", "dom0.kernel=bad"])
    ok, bad = (judged(LOGS / "rig-pci-hole-6.1.log")[1] for _ in range(2))
    ok.log, bad.log = "/r/ok/console.log", "/r/bad/console.log"
    bad.verdict = Status.FAIL
    bad.checks = [CheckRecord(name=CheckName.REMAPPED, status=Status.FAIL, expected=97, observed=0,
                              message="Remapped N page(s): expected 97, kernel printed 0")]
    results = [CellResult(cells[0], tmp_path, 0, 9.5, ok),
               CellResult(cells[1], tmp_path, 1, 9.9, bad)]
    out = tmp_path / "j.xml"
    junit.write(results, "pci-hole", out)
    suite = ET.parse(out).getroot()
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "1", "0")
    failure = suite.findall("testcase")[1].find("failure")
    assert failure is not None and "expected 97, observed 0" in (failure.text or "")
    assert "/r/bad/console.log" in (suite.findall("testcase")[1].findtext("system-out") or "")


def test_the_seed_matrix_starts_its_longest_cell_first(monkeypatch: pytest.MonkeyPatch,
                                                       tmp_path: Path) -> None:
    """Without recorded times, rig.model.cost's estimate puts the 8 GiB dom0 first; a recorded time
    replaces the estimate."""
    from rig.machine import history
    from rig.runner.matrix import MatrixRequest, order, plan

    monkeypatch.setenv("RIG_CACHE", str(tmp_path))
    sets = ["xen.dom0_mem=3G,max:3G", "xen.dom0_mem=", "xen.dom0_mem=max:3G"]
    cells, _ = plan(MatrixRequest("seed-8g", sets, accel="tcg"))
    assert next(c.index for c in order(cells)) == 1  # the cell without dom0_mem
    assert cells[1].expected_s > cells[0].expected_s + 5
    # the 3G cell once took 99 s here: it goes first now
    assert cells[0].history_key is not None
    history.record({cells[0].history_key: 99.0})
    again, _ = plan(MatrixRequest("seed-8g", sets, accel="tcg"))
    assert again[0].expected_s == 99.0
    assert next(c.index for c in order(again)) == 0


def test_progress_on_a_terminal(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A matrix on a terminal redraws done/running/left/failed and an ETA (rich); the cells
    here are stand-in processes, the display is the real one."""
    import io
    import subprocess

    from rich.console import Console

    from rig.progress import MatrixProgress
    from rig.runner import matrix

    started: list[str] = []
    real_popen = subprocess.Popen

    def fake(argv: list[str], **kw: object) -> subprocess.Popen[bytes]:
        started.append(argv[argv.index("--set") + 1])
        return real_popen(["sleep", "0.5"], **kw)  # type: ignore[call-overload, no-any-return]

    monkeypatch.setattr(subprocess, "Popen", fake)
    monkeypatch.setenv("RIG_CACHE", str(tmp_path / "cache"))
    cells = [Cell(i, (("k", str(i)),), expected_s=s)
             for i, s in enumerate((5.0, 30.0, 10.0))]
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120)
    results = matrix.run_matrix("pci-hole", cells, jobs=2, results=tmp_path / "r",
                                progress=MatrixProgress(3, 2, console=console))
    assert started == ["k=1", "k=2", "k=0"]  # longest first
    assert [r.cell.index for r in results] == [0, 1, 2]  # reported in cell order
    text = out.getvalue()
    assert "rig matrix: 0/3 done, 2 running, 1 left" in text
    assert "3/3 done, 0 running, 0 left, 3 failed" in text  # the stand-ins leave no result
    assert "ETA" in text and "running k=1" in text
