"""pytest plugin: the ``rig_run`` fixture boots a scenario and returns its result document.

    def test_seed(rig_run):
        result = rig_run("pci-hole", **{"xen.dom0_mem": "1G,max:1G"})
        assert result["verdict"] == "pass", result["checks"]
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rig import scenario as scenarios
from rig.run import RunOptions, run


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("rig")
    group.addoption("--rig-accel", default="auto", choices=("auto", "kvm", "tcg"),
                    help="accelerator for rig boots")
    group.addoption("--rig-results", type=Path, default=None, metavar="DIR",
                    help="where rig keeps console logs and result documents")


@pytest.fixture
def rig_run(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., dict[str, Any]]:
    """Factory: ``rig_run(scenario, **overrides)`` → result document (dict)."""
    config = request.config
    base = config.getoption("--rig-results") or tmp_path / "rig-results"

    def _run(name: str, **overrides: str) -> dict[str, Any]:
        s = scenarios.load(name, {k: str(v) for k, v in overrides.items()})
        doc, _ = run(s, RunOptions(accel=config.getoption("--rig-accel"), results=base))
        return doc

    return _run
