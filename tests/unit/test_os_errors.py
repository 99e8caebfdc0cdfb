"""The one table that maps operating-system errors to rig's exit contract (rig.errors
.OS_ERRORS; issue 34): whose problem a file's error is depends on the error and on where the
file is, never on which code path met it."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from rig.cli import main
from rig.errors import INFRASTRUCTURE_EXIT, USAGE_EXIT, os_error


@pytest.mark.parametrize(("code", "inside", "exit_code", "words"), [
    (errno.ELOOP, False, USAGE_EXIT, "is a loop of symbolic links"),
    (errno.EISDIR, False, USAGE_EXIT, "is a folder, not a file"),
    (errno.EACCES, False, USAGE_EXIT, "permission denied"),
    (errno.EACCES, True, INFRASTRUCTURE_EXIT, "(in RIG_RESULTS) is not accessible"),
    (errno.ENOSPC, True, INFRASTRUCTURE_EXIT,
     "the disk holding it is full: free space or point RIG_RESULTS elsewhere"),
    (errno.ENOSPC, False, INFRASTRUCTURE_EXIT, "the disk holding it is full"),
    (errno.EROFS, False, INFRASTRUCTURE_EXIT, "read-only"),
])
def test_an_os_error_is_a_row(code: int, inside: bool, exit_code: int, words: str,
                              tmp_path: Path) -> None:
    name = str(tmp_path / "results" / "x" / "console.log") if inside else "my.toml"
    err = os_error(OSError(code, os.strerror(code), name),
                   {"RIG_RESULTS": str(tmp_path / "results")})
    assert err.exit_code == exit_code and words in str(err), str(err)
    assert name in str(err)


def test_a_scenario_that_is_a_link_loop_is_a_usage_error(tmp_path: Path, monkeypatch:
                                                         pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    (tmp_path / "a.toml").symlink_to(tmp_path / "b.toml")
    (tmp_path / "b.toml").symlink_to(tmp_path / "a.toml")
    monkeypatch.chdir(tmp_path)
    assert main(["predict", "a.toml"]) == USAGE_EXIT
    err = capsys.readouterr().err
    assert "a.toml is a loop of symbolic links" in err and "Traceback" not in err


def test_a_size_too_large_for_any_number_names_the_field(capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    assert main(["predict", "pci-hole", "--set", "machine.memory=1e309G"]) == USAGE_EXIT
    err = capsys.readouterr().err
    assert "machine.memory = '1e309G': not a size" in err and "Traceback" not in err
