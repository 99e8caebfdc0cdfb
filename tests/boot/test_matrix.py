"""pci-hole on every Xen × kernel pair the artifact keys resolve to, each judged by the model."""

from __future__ import annotations

from pathlib import Path

import pytest

from rig import scenario
from rig.run import RunOptions, run

pytestmark = pytest.mark.boot

PAIRS = [(x, k) for x in ("4.17", "4.20") for k in ("6.1", "6.12", "7.2")]


@pytest.mark.parametrize(("xen", "kernel"), PAIRS, ids=[f"xen{x}-linux{k}" for x, k in PAIRS])
def test_pci_hole_pair(xen: str, kernel: str, tmp_path: Path) -> None:
    s = scenario.load("pci-hole", {"xen.version": xen, "dom0.kernel": kernel})
    doc, _ = run(s, RunOptions(accel="tcg", results=tmp_path))
    assert doc["verdict"] == "pass", doc["checks"]
    assert doc["xen"]["version"].startswith(xen)
    assert doc["linux"]["version"].startswith(kernel)
    # by hand: pfn 0x9f-0x100 = 97; 6.5+ reserves 0x80000-0x100000 for iBFT: 0x80-0x100 = 128
    assert doc["linux"]["remapped_pages"] == (97 if kernel == "6.1" else 128)
    assert doc["prediction"]["remapped_pages"] == doc["linux"]["remapped_pages"]
    assert doc["artifacts"]["kernel"]["sha256"] and doc["artifacts"]["xen"]["version"]
