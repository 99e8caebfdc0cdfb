"""Off a terminal a long step is never silent (issue 31): said when it starts, then a
heartbeat while it runs; -q silences both. And -v's matrix echo: each cell's console a line at
a time under the cell's name, a line cut mid-write held until it ends."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from rig import progress
from rig.runner.matrix import ConsoleEcho


@pytest.fixture(autouse=True)
def level() -> Iterator[None]:
    yield
    progress.set_level()


def test_a_long_step_beats_off_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    with progress.step("building bzImage", every=0.05):
        time.sleep(0.3)
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "rig: building bzImage"
    assert len([ln for ln in err if ln.startswith("rig: still building bzImage (")]) >= 2
    progress.set_level(quiet=True)
    with progress.step("building bzImage", every=0.05):
        time.sleep(0.2)
    assert capsys.readouterr().err == ""


def test_the_matrix_echo_prefixes_whole_lines(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "console.log"
    echo = ConsoleEcho()
    echo.follow("xen=4.17", log)  # not there yet
    log.write_bytes(b"(XEN) Xen version 4.17\r\n(XEN) half a li")
    echo.follow("xen=4.17", log)
    assert capsys.readouterr().out == "[xen=4.17] (XEN) Xen version 4.17\n"
    with open(log, "ab") as f:
        f.write(b"ne\nlast")
    echo.follow("xen=4.17", log, ended=True)
    assert capsys.readouterr().out == "[xen=4.17] (XEN) half a line\n[xen=4.17] last\n"
