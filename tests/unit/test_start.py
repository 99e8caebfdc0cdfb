"""What a run imports before QEMU starts: not the judge, the model's predictions or the
document (rig.runner.judged, imported in a thread while QEMU boots), not QMP's asyncio
(imported once QEMU runs); and `rig --version` or `rig parse` import no renderer (Jinja)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import TESTS

AFTER_BOOT = ("rig.runner.judged", "rig.judge.judgement", "rig.judge.document",
              "rig.model.prediction", "rig.machine.logscan", "rig.output.summary", "asyncio")


def imported(code: str) -> set[str]:
    probe = code + "\nimport json, sys; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, cwd=TESTS.parent).stdout
    return set(json.loads(out))


def test_a_run_imports_no_judge_before_qemu_starts() -> None:
    # what rig run imports up to Machine.start: the command line, the runner, the console
    before = imported("import rig.cli.parser, rig.cli.run, rig.runner.run, rig.machine.console")
    assert not before & set(AFTER_BOOT), before & set(AFTER_BOOT)
    # and what the thread imports is the judge (so that the run does wait for nothing)
    after = imported("import importlib, rig.runner.run as r; importlib.import_module(r.AFTER_BOOT)")
    assert set(AFTER_BOOT) - {"rig.output.summary", "asyncio"} <= after


def test_the_command_line_imports_no_renderer() -> None:
    assert "jinja2" not in imported("import rig.cli.parser")
