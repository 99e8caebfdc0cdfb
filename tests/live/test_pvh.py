"""A PVH dom0 (Xen 4.20, Linux 6.12): the issue's command passes with every check backed by rig's
model of Xen's and Linux's source (rig.model.pvh), and a layout with every typed entry and gaps
below and above 4 GiB."""

from __future__ import annotations

from pathlib import Path

import pytest

from rig.domain.scenario_file import load
from rig.judge.check import CheckName
from rig.runner.run import RunOptions, run

pytestmark = pytest.mark.boot

SCENARIOS = Path(__file__).parent / "scenarios"
MODEL = (CheckName.PVH_MAP, CheckName.LINUX_MAP, CheckName.NOTHING_LOST, CheckName.XEN_ACCOUNTING,
         CheckName.NR_PAGES, CheckName.PREDICTED_PVH)


@pytest.mark.parametrize(("name", "sets"), [
    ("q35", {"dom0.mode": "pvh", "xen.version": "4.20", "dom0.kernel": "6.12"}),
    # Xen 4.20's pvh_setup_e820 keeps each typed entry at its bytes and trims RAM to whole
    # pages around an unaligned one (measured: RAM to 0x30000000, ACPI data [0x30000f26,
    # 0x3000215a), RAM from 0x30003000)
    (str(SCENARIOS / "q35-pvh-typed.toml"), {}),
])
def test_pvh_dom0(name: str, sets: dict[str, str], tmp_path: Path,
                  no_leaked_qemu: object) -> None:
    doc_result, _ = run(load(name, sets), RunOptions(accel="tcg", results=tmp_path))
    doc = doc_result.to_json()
    checks = {c["name"]: c for c in doc["checks"]}
    assert doc["verdict"] == "pass", doc["checks"]
    assert doc["xen"]["dom0_kind"] == "PVH"
    for name_ in MODEL:
        assert checks[name_]["status"] == "pass", checks[name_]
    assert checks[CheckName.LAYOUT]["status"] == "pass"
    assert "intel-iommu" in " ".join(doc["accelerator"]["machine_reasons"])
    # Xen counts one page less than it gave (Linux's shared info), never more
    assert doc["xen"]["dom0_tot_pages"] == doc["xen"]["dom0_nr_pages"] - 1
