"""pytest plugin (entry point ``pytest11``): boot scenarios from your own tests.

    def test_seed_box(rig_run):
        result = rig_run("seed-8g", **{"xen.dom0_mem": "3G,max:3G"})
        result.assert_pass()           # fails with expected vs observed and the log path
        assert result["linux"]["remapped_pages"] == result["prediction"]["remapped_pages"]

Options: ``--rig-kernel KEY|PATH``, ``--rig-xen KEY|PATH``, ``--rig-accel auto|kvm|tcg``,
``--rig-results DIR``. JUnit comes from pytest's own ``--junitxml`` (each test records its
console log as a property).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rig.domain.scenario_file import load
from rig.judge.result import Result
from rig.runner.run import RunOptions, run


class RigResult(dict[str, Any]):
    """The result document as JSON (the keys rig writes in result.json, for your asserts),
    with the typed result beside it (``.result``) and helpers for assertions."""

    def __init__(self, result: Result) -> None:
        super().__init__(result.to_json())
        self.result = result

    @property
    def verdict(self) -> str:
        return self.result.verdict.label

    @property
    def log(self) -> str | None:
        return self.result.log

    def problems(self) -> list[str]:
        out = []
        for c in self.result.problems:
            line = f"{c.status.label.upper()} {c.name}: {c.message}"
            if c.expected is not None or c.observed is not None:
                line += f" (expected {c.expected}, observed {c.observed})"
            out.append(line)
        return out

    def assert_pass(self) -> None:
        __tracebackhide__ = True
        if self.verdict != "pass":
            lines = "\n  ".join(self.problems() or ["no check said why"])
            raise AssertionError(f"rig verdict {self.verdict}:\n  {lines}\n"
                                 f"console log: {self.log}")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("rig")
    group.addoption("--rig-kernel", default=None, metavar="KEY|PATH",
                    help="dom0 kernel for every rig boot (artifact key or bzImage path)")
    group.addoption("--rig-xen", default=None, metavar="KEY|PATH",
                    help="Xen for every rig boot (artifact key or xen.gz path)")
    group.addoption("--rig-accel", default="auto", choices=("auto", "kvm", "tcg"),
                    help="accelerator for rig boots")
    group.addoption("--rig-results", type=Path, default=None, metavar="DIR",
                    help="where rig keeps console logs and result documents")


@pytest.fixture
def rig_run(request: pytest.FixtureRequest, tmp_path: Path,
            record_property: Callable[[str, object], None]) -> Callable[..., RigResult]:
    """Factory: ``rig_run(scenario, **overrides)`` → RigResult (the result document)."""
    config = request.config
    base = config.getoption("--rig-results") or tmp_path / "rig-results"
    defaults = {key: config.getoption(opt) for key, opt in (("dom0.kernel", "--rig-kernel"),
                                                             ("xen.version", "--rig-xen"))}

    def _run(name: str, **overrides: object) -> RigResult:
        merged = {k: str(v) for k, v in defaults.items() if v}
        merged.update({k: str(v) for k, v in overrides.items()})
        s = load(name, merged)
        doc, _ = run(s, RunOptions(accel=config.getoption("--rig-accel"), results=base))
        record_property(f"rig_log_{s.name}", doc.log)
        return RigResult(doc)

    return _run
