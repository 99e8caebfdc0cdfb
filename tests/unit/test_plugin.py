from __future__ import annotations

import pytest

from rig.pytest_plugin import RigResult


def test_assert_pass_says_what_and_where() -> None:
    result = RigResult({"verdict": "fail", "log": "/results/x/console.log", "checks": [
        {"name": "crash", "status": "pass", "expected": None, "observed": None, "message": ""},
        {"name": "nothing_lost", "status": "fail", "expected": 3145728, "observed": 2096636,
         "message": "dom0 lost 262273 pages (1024.5 MiB) to holes"}]})
    with pytest.raises(AssertionError) as err:
        result.assert_pass()
    text = str(err.value)
    assert "FAIL nothing_lost" in text and "expected 3145728, observed 2096636" in text
    assert "/results/x/console.log" in text and "crash" not in text
    RigResult({"verdict": "pass", "checks": []}).assert_pass()




def test_plugin_options_are_registered(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(["*--rig-kernel*", "*--rig-xen*", "*--rig-accel*",
                                 "*--rig-results*"])
