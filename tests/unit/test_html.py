"""The HTML report: its memory map and checks, and what a real browser renders of it."""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from rig.domain.scenario_file import load
from rig.judge.expect import Expect
from rig.judge.judge import judge
from rig.judge.live import scenario_checks
from rig.judge.records import Live, ScenarioPredictionRecord
from rig.judge.result import Result
from rig.model.prediction import predict_scenario
from rig.output import html
from rig.parse.collect import parse_lines
from tests.conftest import LOGS
from tests.corpus import load_case


def rig_doc(log: str, preset: str) -> Result:
    _, body = load_case(LOGS / log)
    parsed = parse_lines(io.StringIO(body, newline="\n"))
    sp = predict_scenario(load(preset))
    judgement = judge(parsed, expect=Expect.FULL)
    return Result.of(parsed, judgement, scenario_checks(parsed, sp, sp, judgement),
                    Live(scenario_prediction=ScenarioPredictionRecord.of(sp), log="console.log"))


def test_map_shows_holes_areas_and_nr_boundary() -> None:
    svg = html.memory_map_svg(rig_doc("rig-seed-8g-6.1.log", "seed-8g"))
    assert svg.count('class="hole"') == 4  # the four requested cutmem holes
    assert svg.count('class="area"') == 6  # 9f-100, 4 holes, bafe0-c0000 below nr_pages
    assert 'class="nr-boundary"' in svg and "pfn c0000" in svg
    assert 'class="remap"' in svg


def test_axis_keeps_small_ranges_visible() -> None:
    axis = html._Axis({0, 0x1000, 1 << 36})
    assert axis.pos(0x1000) > 10  # one page still gets room next to 64 GiB
    assert axis.pos(1 << 36) == html.WIDTH


def test_page_escapes_log_text() -> None:
    doc = rig_doc("rig-pci-hole-6.1.log", "pci-hole")
    doc.checks[0].message = "<script>alert(1)</script>"
    page = html.page([("x", doc)])
    assert "<script>alert" not in page and "&lt;script&gt;" in page


def _png_pixels_vary(png: bytes) -> bool:
    """Decode enough of a PNG to tell a blank page from a drawn one."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        if kind == b"IDAT":
            idat += png[pos + 8:pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(idat)
    return len(set(raw)) > 50  # a white page has a handful of byte values, a report hundreds


CHROMIUM = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync"]


def test_chromium_renders_the_report(tmp_path: Path) -> None:
    assert shutil.which("chromium"), "chromium is installed by scripts/bootstrap.sh"
    page = tmp_path / "report.html"
    page.write_text(html.page([("seed-8g", rig_doc("rig-seed-8g-6.1.log", "seed-8g")),
                               ("many-holes", rig_doc("rig-many-holes-6.1.log", "many-holes"))]))
    common = [*CHROMIUM, f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1100,1400"]
    dom = subprocess.run([*common, "--dump-dom", page.as_uri()], capture_output=True, text=True,
                         timeout=120).stdout
    assert dom.count('class="memmap"') == 2 and dom.count('class="hole"') == 4 + 32
    shot = tmp_path / "shot.png"
    subprocess.run([*common, f"--screenshot={shot}", page.as_uri()], capture_output=True,
                   timeout=120)
    assert shot.stat().st_size > 20_000
    assert _png_pixels_vary(shot.read_bytes())
    blank = tmp_path / "blank.html"
    blank.write_text("<html><body></body></html>")
    shot2 = tmp_path / "blank.png"
    subprocess.run([*common, f"--screenshot={shot2}", blank.as_uri()], capture_output=True,
                   timeout=120)
    assert not _png_pixels_vary(shot2.read_bytes())  # the check can tell blank from drawn


@pytest.mark.parametrize("cells", [1, 3])
def test_page_has_one_section_per_run(cells: int) -> None:
    doc = rig_doc("rig-pci-hole-6.1.log", "pci-hole")
    page = html.page([(f"run{i}", doc) for i in range(cells)])
    assert page.count('<section class="run">') == cells
