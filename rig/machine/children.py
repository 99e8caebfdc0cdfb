"""Child processes tied to rig's life.

QEMU and apt run in a process group of their own, SIGKILLed by the kernel when rig dies
however it dies (PR_SET_PDEATHSIG), and by rig when it is done with them. apt's download
methods are apt's children: PDEATHSIG ends apt, not them, so the group is recorded in a file
beside the work (``owner``), and the next rig to run there ends a dead rig's group by its id
before it starts its own (issue 34: a SIGKILLed fetch left apt's http method downloading,
holding apt's lock, and the fetch after it failed "Unable to lock directory").
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

_PR_SET_PDEATHSIG = 1
#: how often a running child's watch is asked
TICK_S = 1.0


def die_with_parent() -> None:
    """Runs in the child between fork and exec: SIGKILL it when rig dies, however rig dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


@dataclass(frozen=True)
class Finished:
    returncode: int
    stdout: str
    stderr: str


class Stopped(Exception):
    """The watch stopped the child (its reason), or its time ran out (``timed_out``)."""

    def __init__(self, reason: str, timed_out: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.timed_out = timed_out


def end_orphans(owner: Path) -> int | None:
    """End the process group a dead rig recorded in ``owner`` (``RIGPID PGID``); the group id
    ended, or None when there was none or its rig still runs (then it is that rig's)."""
    try:
        rig_pid, pgid = (int(w) for w in owner.read_text().split())
    except (OSError, ValueError):
        return None
    if _alive(rig_pid) and rig_pid != os.getpid():
        return None
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while _group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)  # SIGKILL is not instant: apt's lock is released when they are gone
    owner.unlink(missing_ok=True)
    return pgid


def run_child(cmd: list[str], *, owner: Path, timeout: float, cwd: Path | None = None,
              env: dict[str, str] | None = None,
              watch: Callable[[], str | None] | None = None) -> Finished:
    """Run ``cmd`` to its end in a group of its own, recorded in ``owner`` while it runs.
    ``watch`` is asked every second: a reason from it stops the child (Stopped). Output goes to
    unnamed temporary files, not pipes: a chatty child never blocks on a full pipe."""
    end_orphans(owner)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=err, start_new_session=True, preexec_fn=die_with_parent)
        owner.write_text(f"{os.getpid()} {proc.pid}\n")
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    code = proc.wait(timeout=TICK_S)
                    break
                except subprocess.TimeoutExpired:
                    pass
                if time.monotonic() > deadline:
                    raise Stopped(f"no end after {timeout:.0f} s", timed_out=True)
                if watch is not None and (why := watch()) is not None:
                    raise Stopped(why)
        finally:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)  # its own children too (apt's methods)
            proc.wait()
            owner.unlink(missing_ok=True)
        out.seek(0)
        err.seek(0)
        return Finished(code, out.read().decode(errors="replace"),
                        err.read().decode(errors="replace"))


def _alive(pid: int) -> bool:
    return _answers(os.kill, pid) and not _zombie(pid)


def _group_alive(pgid: int) -> bool:
    return _answers(os.killpg, pgid)


def _answers(send: Callable[[int, int], None], ident: int) -> bool:
    """Signal 0 to a process (``os.kill``) or group (``os.killpg``): it exists, another
    user's included."""
    try:
        send(ident, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] == "Z"
