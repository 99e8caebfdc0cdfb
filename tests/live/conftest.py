"""Shared by the boot tests: no QEMU process may outlive its run; a small git history of
Debian's 6.1 source for the tests that build kernels from commits (rig bisect, the b4 recipe)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from rig.judge.registry import registry_folder
from rig.machine import build
from rig.machine.images.store import Store

TAG = "RIG_TEST_TAG"


def qemu_pids(tag: str | None = None) -> set[int]:
    """QEMU processes running now; with a tag, only those started under it.

    The tag travels in the environment, which QEMU inherits from rig (and keeps when rig is
    killed and QEMU is orphaned), so a QEMU of another user on the same machine, a benchmark
    or a second test session, is never taken for one of ours."""
    out = subprocess.run(["pgrep", "-f", "qemu-system-x86_64"], capture_output=True, text=True)
    pids = {int(p) for p in out.stdout.split()}
    if tag is None:
        return pids
    return {pid for pid in pids if _has_tag(pid, tag)}


def _has_tag(pid: int, tag: str) -> bool:
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False  # gone already, or not ours to read
    return f"{TAG}={tag}".encode() in environ.split(b"\0")


def boot_qemu(pids: set[int]) -> set[int]:
    """The pids among these that boot a machine (rig's QMP socket), not a `--version` probe."""
    found = set()
    for pid in pids:
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"-qmp" in argv:
            found.add(pid)
    return found


@pytest.fixture
def no_leaked_qemu(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    tag = uuid.uuid4().hex
    monkeypatch.setenv(TAG, tag)
    assert os.environ[TAG] == tag
    yield None
    deadline = time.monotonic() + 3
    while qemu_pids(tag) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert qemu_pids(tag) == set(), "a QEMU process outlived its run"


#: the history's commits are made with these, so they are the same commits on every run
ENV = {"GIT_AUTHOR_NAME": "rig", "GIT_AUTHOR_EMAIL": "rig@localhost",
       "GIT_COMMITTER_NAME": "rig", "GIT_COMMITTER_EMAIL": "rig@localhost",
       "GIT_AUTHOR_DATE": "2026-01-01T00:00:00+0000",
       "GIT_COMMITTER_DATE": "2026-01-01T00:00:00+0000"}
SUBJECTS = ["Debian's 6.1.192", "xen/setup: put the seed's bug back",
            "later: a note", "later: another note"]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True, env={**os.environ, **ENV}).stdout


@pytest.fixture(scope="session")
def history() -> Path:
    """Debian's 6.1.192, the seed's bug put back (rig/regressions/regress-seed-6.1.patch),
    two later commits: made once in rig's cache (test-repos/linux-6.1-bisect) from a
    hard-linked copy of the unpacked source."""
    repo = Store().root / "test-repos" / "linux-6.1-bisect"
    ready = repo / ".git" / "rig-ready"
    if ready.exists():
        return repo
    shutil.rmtree(repo, ignore_errors=True)
    repo.parent.mkdir(parents=True, exist_ok=True)
    # hard links: no file of the cached source is written (patch and git write new files)
    subprocess.run(["cp", "-al", str(build.debian_source("6.1")), str(repo)], check=True)
    git(repo, "init", "-q")
    git(repo, "add", "-A", "-f")  # Debian's .gitignore ignores the top level
    git(repo, "commit", "-qm", SUBJECTS[0])
    patch = registry_folder() / "regress-seed-6.1.patch"
    git(repo, "apply", str(patch))
    git(repo, "commit", "-qam", SUBJECTS[1])
    for i, subject in enumerate(SUBJECTS[2:], 1):
        (repo / f"RIG-NOTE-{i}").write_text(f"{subject}\n")
        git(repo, "add", "-f", f"RIG-NOTE-{i}")
        git(repo, "commit", "-qm", subject)
    ready.write_text("4 commits\n")
    return repo


