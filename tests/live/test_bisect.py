"""`rig bisect` on a small git history of Debian's 6.1 source (issue 31): a good commit, the
seed's bug put back (rig/regressions/regress-seed-6.1.patch), two later commits. rig names the
commit with the bug; a misspelt scenario stops it with exit 2 before anything is built.

The history (tests/live/conftest.py ``history``) lives in rig's cache, with fixed dates, so
its commits, and with them rig's builds of each step, are the same on every run: the first
run builds two steps (a full build and an incremental one), later runs reuse both."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.live.conftest import SUBJECTS, git

pytestmark = [pytest.mark.boot, pytest.mark.usefixtures("no_leaked_qemu")]
RIG = [sys.executable, "-m", "rig.cli"]


def test_rig_bisect_names_the_commit_that_broke(history: Path, tmp_path: Path) -> None:
    good, bad = git(history, "rev-list", "--max-parents=0", "HEAD").strip(), "HEAD"
    before = git(history, "status", "--porcelain")
    proc = subprocess.run([*RIG, "bisect", "--tree", str(history), good, bad, "--",
                           "pci-hole", "--set", "xen.dom0_mem=3G,max:3G", "--quick",
                           "--accel", "tcg", "--results", str(tmp_path)],
                          capture_output=True, text=True, timeout=3000)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    culprit = git(history, "rev-list", "--reverse", "HEAD").split()[1]
    assert f"first bad commit  {culprit} {SUBJECTS[1]}" in proc.stdout
    assert " bad " in proc.stdout  # each step's mark and verdict are listed
    # the user's checkout is untouched: same HEAD, nothing changed, no bisect left in it
    assert git(history, "status", "--porcelain") == before
    assert git(history, "rev-parse", "HEAD").strip() == git(history, "rev-parse", bad).strip()
    assert not (history / ".git" / "BISECT_START").exists()


def test_a_misspelt_scenario_blames_no_commit(history: Path) -> None:
    proc = subprocess.run([*RIG, "bisect", "--tree", str(history), "HEAD~3", "HEAD", "--",
                           "pci-hole-typo"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "pci-hole-typo" in proc.stderr and "first bad commit" not in proc.stdout


def test_a_commit_of_a_tree_is_built_in_rigs_worktree(history: Path, tmp_path: Path) -> None:
    """`dom0.kernel = src:TREE@REF` (issue 35): the seed's bug commit, built in the worktree rig
    keeps for the tree (the bisect's, so its build of that commit is reused), fails; the
    tree's own checkout stays as it was."""
    from rig.domain import scenario_file
    from rig.judge.check import Status
    from rig.runner.run import RunOptions, run

    before = (git(history, "rev-parse", "HEAD"), git(history, "status", "--porcelain"))
    s = scenario_file.load("pci-hole", {"xen.dom0_mem": "3G,max:3G",
                                        "dom0.kernel": f"src:{history}@HEAD~2"})
    doc, _ = run(s, RunOptions(accel="tcg", results=tmp_path, quick=True))
    assert doc.verdict is Status.FAIL, doc.checks
    assert doc.artifacts is not None and doc.artifacts.kernel.key.endswith("@HEAD~2")
    assert (git(history, "rev-parse", "HEAD"), git(history, "status", "--porcelain")) == before
