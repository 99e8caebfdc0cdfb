"""A git repository of three commits, made with git itself, for the tests of what rig does in
a tree in git (a bisect in progress, ``src:TREE@REF``)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def repo(tmp_path: Path) -> Path:
    """``tmp_path``/tree: a file ``f`` committed three times (c0, c1, c2)."""
    r = tmp_path / "tree"
    r.mkdir()
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@localhost",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@localhost"}
    subprocess.run(["git", "init", "-q"], cwd=r, check=True)
    for i in range(3):
        (r / "f").write_text(f"{i}\n")
        subprocess.run(["git", "add", "f"], cwd=r, check=True, env=env)
        subprocess.run(["git", "commit", "-qm", f"c{i}"], cwd=r, check=True, env=env)
    return r
