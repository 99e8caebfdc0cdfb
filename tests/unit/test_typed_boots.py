"""The checks of typed entries can fail: the recorded boots of rig's test firmware (tests/recorded)
judged again with one fact of their console edited."""

from __future__ import annotations

from pathlib import Path

import pytest

from rig.judge.check import CheckName, Status
from tests.conftest import RECORDED
from tests.recorded import edited, rejudge


def test_the_recorded_boots_pass_or_fail_as_they_did() -> None:
    for name, verdict in (("typed-entries", "pass"), ("nvs-on-kernel", "pass"),
                          ("nvs-on-kernel-6.1", "crash"), ("two-nvs-on-kernel-6.12", "crash"),
                          ("two-nvs-on-kernel-7.2", "pass")):
        result, _ = rejudge(RECORDED / name)
        assert result.verdict.value == verdict, name
    checks = {c.name: c for c in rejudge(RECORDED / "nvs-on-kernel-6.1")[0].checks}
    assert checks[CheckName.REFUSAL].status is Status.FAIL
    assert "be35d91c8880" in checks[CheckName.REFUSAL].message
    # 6.12.118 has the swap but not the restart: only the fix its version predates is named
    checks = {c.name: c for c in rejudge(RECORDED / "two-nvs-on-kernel-6.12")[0].checks}
    assert "without 5f8719945244" in checks[CheckName.REFUSAL].message
    assert "be35d91c8880" not in checks[CheckName.REFUSAL].message
    # two swapped entries side by side are one entry in dom0's map, as in the model's
    checks = {c.name: c for c in rejudge(RECORDED / "two-nvs-on-kernel-7.2")[0].checks}
    assert checks[CheckName.NONRAM_MOVED].expected == ["ACPI NVS [0x7ffde000, 0x7ffe0000)"]


def test_a_swapped_count_that_differs_fails(tmp_path: Path) -> None:
    checks = edited(tmp_path, "nvs-on-kernel", "Remapped 18 non-RAM page(s)",
                    "Remapped 17 non-RAM page(s)")
    assert checks[CheckName.NONRAM_REMAPPED] is Status.FAIL


def test_an_nvs_left_in_place_fails(tmp_path: Path) -> None:
    # dom0's map as a kernel that did not move the NVS would print it
    checks = edited(tmp_path, "nvs-on-kernel",
                    "Xen: [mem 0x000000007ffce000-0x000000007ffdffff] ACPI NVS",
                    "Xen: [mem 0x0000000004200000-0x0000000004211fff] ACPI NVS")
    assert checks[CheckName.NONRAM_MOVED] is Status.FAIL


@pytest.mark.parametrize(("entry", "seen"), [
    # another type at the same bytes
    ("(XEN)  [0000000020000000, 0000000020002fff] (ACPI NVS)",
     "(XEN)  [0000000020000000, 0000000020002fff] (reserved)"),
    # the same type rounded to whole pages
    ("(XEN)  [0000000030000f26, 0000000030002159] (ACPI data)",
     "(XEN)  [0000000030000000, 0000000030002fff] (ACPI data)"),
], ids=["another-type", "rounded-to-pages"])
def test_a_typed_entry_not_as_asked_is_not_the_layout(tmp_path: Path, entry: str,
                                                      seen: str) -> None:
    assert edited(tmp_path, "typed-entries", entry, seen)[CheckName.LAYOUT] is Status.ERROR
