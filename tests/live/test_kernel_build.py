"""A kernel built from Debian's linux-source-6.1: the stock build passes, the build with the
seed's bug re-injected (rig/regressions/regress-seed-6.1.patch) fails with the loss stated."""

from __future__ import annotations

from pathlib import Path

import pytest

from rig.domain import scenario_file
from rig.judge.check import CheckName
from rig.judge.registry import registry_folder
from rig.machine import build
from rig.runner.run import RunOptions, run

pytestmark = pytest.mark.boot

PATCH = registry_folder() / "regress-seed-6.1.patch"
# 4 GiB pc, 2 GiB of RAM below 4 GiB, dom0_mem=3G,max:3G: nr_pages = pfn 0xc0000. By hand, the
# non-RAM below it: pfn 0x9f-0x100 (97) + SeaBIOS's top 128 KiB and the PCI hole from pfn 0x7ffe0
# to 0xc0000 (262176) = 262273 pages (the count issue #10 saw printed by the patched kernel).
HOLES = 97 + (0xC0000 - 0x7FFE0)
SETTINGS = {"xen.dom0_mem": "3G,max:3G"}


@pytest.fixture(scope="module")
def source() -> Path:
    return build.debian_source("6.1")


def test_stock_build_passes(source: Path, tmp_path: Path) -> None:
    s = scenario_file.load("pci-hole", {**SETTINGS, "dom0.kernel": f"src:{source}"})
    doc_result, _ = run(s, RunOptions(accel="tcg", results=tmp_path))
    doc = doc_result.to_json()
    assert doc["verdict"] == "pass", doc["checks"]
    assert doc["linux"]["remapped_pages"] == HOLES
    # a second build of the unchanged tree is the cached image
    again = build.build(source)
    assert again.reused and again.bzimage == Path(doc["artifacts"]["kernel"]["path"])


def test_regression_patch_fails_with_the_loss(source: Path, tmp_path: Path) -> None:
    patched = build.build(source, build.BuildRecipe(patches=(PATCH,)))
    s = scenario_file.load("pci-hole", {**SETTINGS, "dom0.kernel": str(patched.bzimage)})
    doc_result, _ = run(s, RunOptions(accel="tcg", results=tmp_path))
    doc = doc_result.to_json()
    assert doc["verdict"] == "fail", doc["checks"]
    checks = {c["name"]: c for c in doc["checks"]}
    remapped = checks[CheckName.REMAPPED]
    assert remapped["status"] == "fail"
    assert (remapped["expected"], remapped["observed"]) == (HOLES, 0)
    assert doc["linux"]["released_pages"] == HOLES
    lost = checks[CheckName.NOTHING_LOST]
    assert lost["status"] == "fail"
    assert (f"dom0 lost {HOLES} pages ({HOLES * 4096 / 2**20:.1f} MiB) to holes: released, "
            "never populated or remapped") in lost["message"]
    # the prediction says what a correct kernel of this era prints
    assert doc["prediction"]["era"] == "E" and doc["prediction"]["remapped_pages"] == HOLES
    assert doc["linux"]["remap_failed"] is True  # "Unable to find available pfn range"
    # Xen's own count after boot: the released pages went back to Xen for good
    accounting = checks[CheckName.XEN_ACCOUNTING]
    assert accounting["status"] == "fail"
    assert (accounting["expected"], accounting["observed"]) == (3 << 18, (3 << 18) - HOLES)
    assert f"Xen took back {HOLES} pages" in accounting["message"]
    assert build.build(source, build.BuildRecipe(patches=(PATCH,))).reused


def test_the_content_check_fails_on_a_remap_to_the_wrong_page(tmp_path: Path) -> None:
    """rig's ACPI table check against a kernel that remaps a swapped NVS one machine page too
    far (tests/fixtures/patches/mutate-remap-wrong-page.patch on 6.12.118's source with rig's
    fix for its third finding): the check must FAIL where the fixed build PASSes."""
    mutation = Path(__file__).parents[1] / "fixtures" / "patches" / "mutate-remap-wrong-page.patch"
    source = build.debian_source("6.12")
    fix = registry_folder() / "fix-acpi-nvs-remap.patch"
    mutated = build.build(source, build.BuildRecipe(patches=(fix, mutation)))
    layout = registry_folder() / "layouts" / "acpi-table-swapped.toml"
    s = scenario_file.load(str(layout), {"dom0.kernel": str(mutated.bzimage)})
    doc = run(s, RunOptions(accel="tcg", results=tmp_path))[0].to_json()
    checks = {c["name"]: c for c in doc["checks"]}
    assert doc["verdict"] == "fail", doc["checks"]
    assert checks[CheckName.ACPI_TABLE]["status"] == "fail", checks[CheckName.ACPI_TABLE]
    assert checks[CheckName.NONRAM_MOVED]["status"] == "pass"  # the entry itself went where it must
