"""The kernel developer's recipe (docs/guide.md, "From a patch series to a verdict"): a series
on the list, taken with ``b4 am``, applied to a tree, judged with ``rig regressions`` on that
commit. The series here is the seed's bug put back (rig/regressions/regress-seed-6.1.patch,
the second commit of the bisect history), mailed as ``git format-patch`` mails it; b4 reads it
from a local mbox (``-m``) as it would fetch it from lore. ``git am`` with the history's fixed
identity and dates makes the very commit the bisect test built, so its build is reused."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.live.conftest import ENV, git

pytestmark = [pytest.mark.boot, pytest.mark.usefixtures("no_leaked_qemu")]
MSGID = "seed-bug-back.1@rig.example"


def test_a_series_from_the_list_is_judged_by_the_regressions(history: Path,
                                                             tmp_path: Path) -> None:
    b4 = shutil.which("b4", path=str(Path(sys.executable).parent))
    assert b4 is not None, "b4 is installed by ./scripts/test's setup (pyproject, test extras)"
    good, seed = git(history, "rev-list", "--reverse", "HEAD").split()[:2]
    # the series as a mailing list carries it
    mbox = tmp_path / "series.mbox"
    mbox.write_text(git(history, "format-patch", "--stdout", f"--add-header=Message-Id: <{MSGID}>",
                        f"{good}..{seed}"))
    env = {**os.environ, **ENV}
    # 1. b4 am: the series as one mbox ready for git am
    subprocess.run([b4, "am", "-m", str(mbox), "-o", str(tmp_path / "am"), MSGID], check=True,
                   capture_output=True, env=env, stdin=subprocess.DEVNULL, cwd=tmp_path)
    (mbx,) = (tmp_path / "am").glob("*.mbx")
    # 2. git am on the commit the series is for, in a worktree: the tree itself is untouched
    work = tmp_path / "work"
    git(history, "worktree", "add", "-q", "--detach", str(work), good)
    try:
        subprocess.run(["git", "-C", str(work), "am", "-q", str(mbx)], check=True,
                       capture_output=True, env=env)
        commit = git(work, "rev-parse", "HEAD").strip()
    finally:
        git(history, "worktree", "remove", "--force", str(work))
    assert commit == seed  # the same commit: rig's build of it is reused
    # 3. rig regressions on that commit: the seed's regression is back, and named
    proc = subprocess.run([sys.executable, "-m", "rig.cli", "regressions", "--kernel",
                           f"src:{history}@{commit}", "--only", "seed-populate", "--accel",
                           "tcg", "--results", str(tmp_path / "r")],
                          capture_output=True, text=True, timeout=3000, env=env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "seed-populate" in proc.stdout and " back " in proc.stdout, proc.stdout
