"""Bad inputs and faults a user meets, without a machine: serial noise, a version to report,
an interrupt's message, host packages a build needs, a matrix interrupted."""

from __future__ import annotations

import io
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from rig import __version__
from rig.cli import main
from rig.errors import ArtifactError, Interrupted
from rig.judge.check import Status
from rig.judge.judge import judge
from rig.judge.result import Result
from rig.machine import host
from rig.output.cells import Cell, CellResult
from rig.parse.collect import parse_lines
from tests.conftest import LOGS
from tests.corpus import load_case

NOISE = "\x1b[0m\ufffd\ufffd"  # a colour reset and two bytes that were no UTF-8


def _noisy(body: str, every: int) -> str:
    """Noise after the line end of every ``every``-th line (as a serial capture had it)."""
    lines = body.split("\n")
    return "\n".join(line + NOISE if i % every == 0 and line else line
                     for i, line in enumerate(lines))


def test_noise_after_a_message_does_not_lose_it() -> None:
    _, body = load_case(LOGS / "rig-pci-hole-6.1.log")
    clean = parse_lines(io.StringIO(body, newline="\n"))
    noisy_text = _noisy(body, 1)  # every line, E820 entries included
    assert noisy_text.count(NOISE) > 80
    noisy = parse_lines(io.StringIO(noisy_text, newline="\n"))
    assert noisy.xen.e820 == clean.xen.e820 and len(clean.xen.e820) > 5
    assert noisy.linux.remapped_pages == clean.linux.remapped_pages == 97
    a, b = Result.of(clean, judge(clean)), Result.of(noisy, judge(noisy))
    assert a.verdict is b.verdict is Status.PASS
    # the lines that end in a number are not read (the number may be cut): the allocation
    # arithmetic is unknown then, never added up without its ramdisk
    assert noisy.xen.alloc_cut and noisy.xen.alloc_nr_pages is None


def test_a_number_cut_by_noise_is_not_read() -> None:
    """Noise right after a number: the number may have lost digits to it, so it is not read
    (and said so); never read as the shorter number."""
    _, body = load_case(LOGS / "rig-pci-hole-6.1.log")
    cut = body.replace("RIG: balloon info/current_kb 1048576",
                       "RIG: balloon info/current_kb 10485" + NOISE)
    log = parse_lines(io.StringIO(cut, newline="\n"))
    assert "current_kb" not in log.init.balloon_kb
    assert any("noise" in what for _, what, _ in log.cut)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"rig {__version__}"
    _, body = load_case(LOGS / "rig-pci-hole-6.1.log")
    log = parse_lines(io.StringIO(body, newline="\n"))
    assert Result.of(log, judge(log)).to_json()["rig_version"] == __version__


def test_an_interrupt_says_which_signal(monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    from rig.cli import scenarios

    def stop(_: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(scenarios, "main", stop)
    assert main(["scenarios"]) == 130
    assert "interrupted (SIGINT)" in capsys.readouterr().err

    def term(_: object) -> int:
        raise Interrupted(15)

    monkeypatch.setattr(scenarios, "main", term)
    assert main(["scenarios"]) == 143
    assert "interrupted (SIGTERM)" in capsys.readouterr().err


def test_a_build_names_the_packages_it_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    """As a user without root, a missing compiler is an infrastructure error that says the
    one command to run; present packages cost nothing."""
    missing = host.Package("rig-no-such-package", command="rig-no-such-command")
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    with pytest.raises(ArtifactError, match=r"apt-get install .* rig-no-such-package") as err:
        host.require([missing, host.Package("bash", command="bash")], "building a kernel")
    assert "building a kernel" in str(err.value) and "bash" not in str(err.value)
    host.require([host.Package("bash", command="bash")], "nothing to install")


def test_an_interrupted_matrix_hands_over_what_it_has(monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    """SIGTERM during a matrix: the cells running are stopped and keep their (partial)
    results, the ones never started are errors, and on_end gets them all (JUnit, HTML)."""
    from rig.progress import MatrixProgress
    from rig.runner import matrix

    real_popen = subprocess.Popen

    def fake(argv: list[str], **kw: Any) -> subprocess.Popen[bytes]:
        return real_popen([sys.executable, "-c", "import time; time.sleep(30)"], **kw)

    class Interrupting(MatrixProgress):
        """SIGTERM arrives while the matrix waits for its cells."""

        calls = 0

        def update(self, *args: Any) -> None:
            self.calls += 1
            if self.calls == 3:
                raise Interrupted(15)

    monkeypatch.setattr(subprocess, "Popen", fake)
    monkeypatch.setenv("RIG_CACHE", str(tmp_path / "cache"))
    cells = [Cell(i, (("k", str(i)),), expected_s=s) for i, s in enumerate((5.0, 3.0, 1.0))]
    got: list[list[CellResult]] = []
    t0 = time.monotonic()
    with pytest.raises(Interrupted):
        matrix.run_matrix("pci-hole", cells, jobs=2, results=tmp_path / "r",
                          progress=Interrupting(3, 2), on_end=got.append)
    assert time.monotonic() - t0 < 20  # the stand-ins were stopped, not waited out
    (ended,) = got
    assert [r.cell.index for r in ended] == [0, 1, 2]
    assert all(r.status is Status.ERROR for r in ended)  # the stand-ins leave no result
    assert ended[2].exit_code == -1  # never started: the longest two ran first
