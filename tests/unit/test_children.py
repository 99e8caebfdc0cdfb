"""Child processes tied to rig's life (rig.machine.children; issue 34 cases 7 and 9): a dead
rig's apt group is ended by the next rig before it starts, and a disk that fills while apt
runs stops it within seconds, naming the disk."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rig.errors import ArtifactError
from rig.machine import children
from rig.machine.images import apt
from rig.machine.images.apt import AptRoot

#: a stand-in for rig running apt: children.run of a shell whose child (apt's http method)
#: outlives it; the "rig" prints the grandchild's pid, then waits to be killed
FAKE_RIG = """
import sys
from pathlib import Path
from rig.machine import children
children.run_child(["sh", "-c", "sleep 300 & echo $! > " + sys.argv[2] + "; wait"],
                   owner=Path(sys.argv[1]), timeout=600)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rpartition(")")[2].split()[0] != "Z"


def test_a_killed_rigs_apt_group_is_ended_by_the_next(tmp_path: Path) -> None:
    owner, grandchild = tmp_path / "rig-apt.owner", tmp_path / "method.pid"
    rig = subprocess.Popen([sys.executable, "-c", FAKE_RIG, str(owner), str(grandchild)],
                           cwd=Path(__file__).parents[2])
    deadline = time.monotonic() + 30
    # the child may print its pid before its rig has recorded it in the owner file (Popen
    # returns, then rig writes it): under load that took long enough for a kill between the
    # two, which is not what this test is about
    while not (grandchild.exists() and grandchild.read_text().strip() and owner.exists()):
        assert time.monotonic() < deadline, "the fake rig never started its child"
        time.sleep(0.05)
    method = int(grandchild.read_text())
    rig.send_signal(signal.SIGKILL)  # SIGKILL: no finally of rig's runs
    rig.wait()
    time.sleep(0.2)
    assert _alive(method), "the orphan this test is about"
    assert owner.exists()
    assert children.end_orphans(owner) is not None
    assert not _alive(method) and not owner.exists()


def test_a_live_rigs_group_is_left_alone(tmp_path: Path) -> None:
    owner = tmp_path / "rig-apt.owner"
    sleeper = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        owner.write_text(f"{os.getppid()} {sleeper.pid}\n")  # its rig (pytest's parent) lives
        assert children.end_orphans(owner) is None and sleeper.poll() is None
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_filling_disk_stops_apt_within_seconds(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    root = AptRoot(tmp_path, ["bookworm"])
    monkeypatch.setattr(apt, "DISK_FULL_S", 0.5)
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage",
                        lambda _p: usage._replace(free=64 << 10))  # 64 KiB left
    t0 = time.monotonic()
    with pytest.raises(children.Stopped, match=r"RIG_CACHE .* is full \(64 KiB free"):
        children.run_child(["sleep", "60"], owner=tmp_path / "o", timeout=600,
                           watch=root._disk_watch())
    assert time.monotonic() - t0 < 10
    # before a step that needs more than is free, rig says so and starts nothing
    with pytest.raises(ArtifactError, match=r"has 0 MiB free, and apt-get update needs about"):
        root.run("apt-get", "update", needs=apt.LISTS_BYTES)
