"""rig installed like a tool (issue 35): the wheel pip builds from this tree, installed into a
fresh venv (as ``pipx install .`` does), gives a ``rig`` that works from any directory: its
templates, recipes, presets and registry travel in the wheel. ``rig predict`` and ``rig parse``
run from another folder; nothing of the checkout is on their path. Marked boot: it fetches the
build backend and rig's dependencies from PyPI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import LOGS

pytestmark = pytest.mark.boot
TOP = Path(__file__).resolve().parents[2]


def test_the_wheel_installs_and_runs_from_anywhere(tmp_path: Path) -> None:
    dist, venv, elsewhere = tmp_path / "dist", tmp_path / "venv", tmp_path / "elsewhere"
    elsewhere.mkdir()
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(dist), str(TOP)], check=True,
                   capture_output=True, timeout=600)
    (wheel,) = dist.glob("rig-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check",
                    "-q", "install", str(wheel)], check=True, capture_output=True, timeout=900)
    # no checkout on the path: the installed package alone, from another folder
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["RIG_RESULTS"] = str(elsewhere / "results")

    def rig(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(venv / "bin" / "rig"), *args], cwd=elsewhere, env=env,
                              capture_output=True, text=True, timeout=300)

    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import rig; print(rig.__file__)"],
                           cwd=elsewhere, env=env, capture_output=True, text=True, check=True)
    assert where.stdout.startswith(str(venv)), where.stdout
    predicted = rig("predict", "seed-8g", "--json")
    assert predicted.returncode == 0, predicted.stderr
    assert json.loads(predicted.stdout)["prediction"]["remapped_pages"] > 0
    parsed = rig("parse", str(LOGS / "rig-pci-hole-6.1.log"), "--json")
    assert parsed.returncode == 0, parsed.stderr
    assert json.loads(parsed.stdout)["verdict"] == "pass"
    listed = rig("regressions", "--list")
    assert listed.returncode == 0 and "extra-mem-table-full" in listed.stdout, listed.stderr
