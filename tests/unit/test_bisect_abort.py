"""`git bisect run` with rig and a misspelt scenario must abort the bisect, not mark the commit
bad (issue 31): while a bisect is in progress rig's usage errors exit 128, which git takes as
"abort". Run with git itself, on a repository of three commits."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from rig.cli.options import BISECT_ABORT_EXIT, bisecting
from tests.gitrepo import repo

TOP = Path(__file__).resolve().parents[2]


def test_git_bisect_run_aborts_on_a_misspelt_scenario(tmp_path: Path) -> None:
    r = repo(tmp_path)
    assert not bisecting(r)
    subprocess.run(["git", "bisect", "start", "HEAD", "HEAD~2"], cwd=r, check=True,
                   capture_output=True)
    assert bisecting(r)
    proc = subprocess.run(["git", "bisect", "run", sys.executable, "-m", "rig.cli", "run",
                           "no-such-scenario"], cwd=r, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(TOP)})
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "is the first bad commit" not in out
    assert f"exit code {BISECT_ABORT_EXIT}" in out and "no-such-scenario" in out
    # and outside a bisect the same mistake is the usual exit 2
    plain = subprocess.run([sys.executable, "-m", "rig.cli", "run", "no-such-scenario"],
                           cwd=tmp_path, capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": str(TOP)})
    assert plain.returncode == 2


def test_src_tree_at_ref_is_read_and_checked(tmp_path: Path) -> None:
    """`src:TREE@REF` names a commit of a tree (issue 35); a ref that is no commit is the
    user's to fix, found before any build."""
    import pytest

    from rig.errors import UsageError
    from rig.machine.build import check, source_ref

    r = repo(tmp_path)
    (r / "Makefile").write_text("")
    (r / "arch" / "x86").mkdir(parents=True)
    assert source_ref(f"src:{r}@HEAD~1") == (r, "HEAD~1")
    assert source_ref(f"src:{r}") == (r, None)
    check("kernel", f"src:{r}@HEAD~1")
    with pytest.raises(UsageError, match="'nope' is no commit"):
        check("kernel", f"src:{r}@nope")
