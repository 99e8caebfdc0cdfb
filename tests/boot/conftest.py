"""Shared by the boot tests: no QEMU process may outlive its run."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

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
