"""What a run imports before QEMU starts: not the judge, the model's predictions or the
document (rig.runner.judged, imported in a thread while QEMU boots), not QMP's asyncio and not
the console with the parsers' tables (imported once QEMU runs); and `rig --version` or
`rig parse` import no renderer (Jinja)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from tests.conftest import TESTS

AFTER_BOOT = ("rig.runner.judged", "rig.judge.judgement", "rig.judge.result",
              "rig.model.prediction", "rig.parse.by_grep", "rig.output.summary", "asyncio")
#: imported by the run itself once QEMU runs: the console and the tables its patterns come from
ONCE_QEMU_RUNS = ("rig.machine.console", "rig.parse.stages", "rig.parse.xen", "rig.parse.linux",
                  "rig.parse.crash")


def imported(code: str) -> set[str]:
    probe = code + "\nimport json, sys; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, cwd=TESTS.parent).stdout
    return set(json.loads(out))


def test_a_run_imports_no_judge_before_qemu_starts() -> None:
    # what rig run imports up to Machine.start: the command line and the runner
    before = imported("import rig.cli.parser, rig.cli.run, rig.runner.run")
    assert not before & {*AFTER_BOOT, *ONCE_QEMU_RUNS}, before & {*AFTER_BOOT, *ONCE_QEMU_RUNS}
    # and what the thread imports is the judge (so that the run does wait for nothing)
    after = imported("import importlib, rig.runner.run as r; importlib.import_module(r.AFTER_BOOT)")
    assert set(AFTER_BOOT) - {"rig.output.summary", "asyncio"} <= after


def test_the_command_line_imports_no_renderer() -> None:
    assert "jinja2" not in imported("import rig.cli.parser")


#: as a user's shell runs rig: output to a pipe or file block-buffered (this sandbox sets
#: PYTHONUNBUFFERED, which hid that what main printed is written only at the end)
BUFFERED = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}


def rig(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rig.cli", *args], capture_output=True,
                          text=True, cwd=TESTS.parent, env=BUFFERED)


def test_the_command_ends_with_mains_code_and_all_its_output() -> None:
    """rig.cli.entry skips the interpreter's teardown: the exit code is still main's, and
    nothing it printed is lost."""
    assert rig("--version").returncode == 0 and rig("--version").stdout.startswith("rig ")
    bad = rig("nosuch")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
    log = TESTS / "logs" / "rig-pci-hole-6.1.log"
    parsed = rig("parse", "--json", str(log))
    assert parsed.returncode == 0 and json.loads(parsed.stdout)["verdict"] == "pass"


def test_a_reader_that_goes_away_costs_no_traceback() -> None:
    """`rig parse LOG | head`: no internal error (125 would make git bisect skip), no
    traceback: the exit a closed pipe gives any process, 128 + SIGPIPE."""
    log = TESTS / "logs" / "rig-pci-hole-6.1.log"
    proc = subprocess.Popen([sys.executable, "-m", "rig.cli", "parse", str(log)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=TESTS.parent,
                            env=BUFFERED)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # as `| head -0` does, before rig writes
    assert proc.wait() == 128 + signal.SIGPIPE and b"Traceback" not in proc.stderr.read()
    proc.stderr.close()


def test_output_that_cannot_be_written_is_an_error() -> None:
    """A full disk under `rig parse --json LOG > FILE`: said, and not exit 0."""
    log = TESTS / "logs" / "rig-pci-hole-6.1.log"
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "rig.cli", "parse", "--json", str(log)],
                              stdout=full, stderr=subprocess.PIPE, text=True,
                              cwd=TESTS.parent, env=BUFFERED)
    assert proc.returncode == 125 and "writing the output" in proc.stderr
