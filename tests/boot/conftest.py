"""Shared by the boot tests: no QEMU process may outlive its run."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator

import pytest


def qemu_pids() -> set[int]:
    out = subprocess.run(["pgrep", "-f", "qemu-system-x86_64"], capture_output=True, text=True)
    return {int(p) for p in out.stdout.split()}


@pytest.fixture
def no_leaked_qemu() -> Iterator[None]:
    before = qemu_pids()
    yield None
    deadline = time.monotonic() + 3
    while qemu_pids() - before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert qemu_pids() - before == set(), "a QEMU process outlived its run"
