"""rig compare's table: PV rows with what a kernel without the fix would lose; PVH rows say
that no PV setup runs, and show the non-RAM remap; Xen's own count in both."""

from __future__ import annotations

import re
from pathlib import Path

from msgspec import structs

from rig.judge.result import Result
from rig.output.cells import Cell, CellResult
from rig.output.tables import compare_table
from tests.conftest import LOGS
from tests.corpus import judged


def cell(i: int, variant: str, doc: Result) -> CellResult:
    overrides = (("dom0.kernel", "6.12"), ("xen.dom0_mem", variant))
    return CellResult(Cell(i, overrides), Path("/nonexistent"), 0, 1.0, doc)


def pv_doc() -> Result:
    doc = judged(LOGS / "rig-pci-hole-6.1.log")[1]
    assert doc.pv_prediction is not None
    doc.prediction = structs.replace(doc.pv_prediction, hole_pages=21886)
    doc.xen = structs.replace(doc.xen, dom0_nr_pages=786432, dom0_tot_pages=786432)
    doc.linux = structs.replace(doc.linux, released_pages=0, remapped_pages=21886,
                                meminfo_total_kb=3000000, balloon_current_kb=3145728,
                                memory_line="Memory: 1K/2K available")
    return doc


def pvh_doc() -> Result:
    doc = judged(LOGS / "rig-q35-pvh-4.20-6.12.log")[1]
    assert doc.pvh_prediction is not None
    doc.xen = structs.replace(doc.xen, dom0_nr_pages=1048576, dom0_tot_pages=1048575)
    doc.linux = structs.replace(doc.linux, remapped_nonram_pages=12, meminfo_total_kb=3983980,
                                balloon_current_kb=4194300, memory_line="Memory: 3K/4K available")
    return doc


def test_pv_and_pvh_rows() -> None:
    text = compare_table([cell(0, "3G", pv_doc()), cell(1, "4G", pvh_doc())], ["6.12"],
                         ["3G", "4G"])
    rows = [re.split(r"\s{2,}", r.strip()) for r in text.splitlines()[:3]]
    head, pv, pvh = rows
    pv_cols, pvh_cols = dict(zip(head, pv, strict=True)), dict(zip(head, pvh, strict=True))
    assert (pv_cols["nr_pages"], pv_cols["Xen's count"], pv_cols["holes<nr"]) == (
        "786432", "786432", "21886")
    assert pv_cols["without the fix (era B)"] == "loses 21886 pages (85.5 MiB)"
    assert (pvh_cols["nr_pages"], pvh_cols["Xen's count"], pvh_cols["remapped"]) == (
        "1048576", "1048575", "12 non-RAM")
    assert pvh_cols["without the fix (era B)"] == "n/a: PVH (Xen fills the physmap)"
    assert "Memory: 3K/4K available" in text


def test_a_pvh_kernel_that_prints_no_remap() -> None:
    doc = pvh_doc()
    doc.linux = structs.replace(doc.linux, remapped_nonram_pages=None)
    text = compare_table([cell(0, "4G", doc)], ["6.12"], ["4G"])
    row = next(r for r in text.splitlines() if r.lstrip().startswith("4G"))
    assert "non-RAM" not in row and "n/a: PVH" in row
