from __future__ import annotations

import pytest

from rig.judge.check import CheckName, Status
from rig.judge.records import CheckRecord
from rig.pytest_plugin import RigResult
from tests.conftest import LOGS
from tests.corpus import judged


def test_assert_pass_says_what_and_where() -> None:
    doc = judged(LOGS / "rig-pci-hole-6.1.log")[1]
    doc.verdict, doc.log = Status.FAIL, "/results/x/console.log"
    doc.checks = [CheckRecord(name=CheckName.CRASH, status=Status.PASS),
                  CheckRecord(name=CheckName.NOTHING_LOST, status=Status.FAIL, expected=3145728,
                              observed=2096636,
                              message="dom0 lost 262273 pages (1024.5 MiB) to holes")]
    result = RigResult(doc)
    assert result["linux"]["remapped_pages"] == 97  # the document's keys, for user asserts
    with pytest.raises(AssertionError) as err:
        result.assert_pass()
    text = str(err.value)
    assert "FAIL nothing_lost" in text and "expected 3145728, observed 2096636" in text
    assert "/results/x/console.log" in text and CheckName.CRASH not in text
    RigResult(judged(LOGS / "rig-pci-hole-6.1.log")[1]).assert_pass()


def test_plugin_options_are_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(["*--rig-kernel*", "*--rig-xen*", "*--rig-accel*",
                                 "*--rig-results*"])
