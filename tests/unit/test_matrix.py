from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from rig import junit
from rig.errors import UsageError
from rig.matrix import CellResult, expand, shard


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
    ok = {"verdict": "pass", "checks": [], "log": "/r/ok/console.log"}
    bad = {"verdict": "fail", "log": "/r/bad/console.log", "checks": [
        {"name": "remapped", "status": "fail", "expected": 97, "observed": 0,
         "message": "Remapped N page(s): expected 97, kernel printed 0"}]}
    results = [CellResult(cells[0], tmp_path, 0, 9.5, ok),
               CellResult(cells[1], tmp_path, 1, 9.9, bad)]
    out = tmp_path / "j.xml"
    junit.write(results, "pci-hole", out)
    suite = ET.parse(out).getroot()
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "1", "0")
    failure = suite.findall("testcase")[1].find("failure")
    assert failure is not None and "expected 97, observed 0" in (failure.text or "")
    assert "/r/bad/console.log" in (suite.findall("testcase")[1].findtext("system-out") or "")
