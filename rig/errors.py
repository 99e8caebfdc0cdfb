"""rig's error types, and the one rule for exit codes.

Exit codes are a contract, because ``git bisect run`` reads them:

- **0**: the kernel and Xen did what a correct pair must (pass; warnings and skips included);
- **1**: they did not (fail), crashed, or the log ends before the evidence (incomplete);
- **2**: usage: anything the person at the keyboard can fix in the command line, the scenario or
  the files they named (an unknown key or artifact, a missing file, a bad value). ``git bisect
  run`` would *skip* a commit on 125, so a typo must never look like one;
- **125**: infrastructure: this machine, the network, a download, QEMU, or a build that failed
  through no fault of the user's input (``git bisect run`` skips the commit).

Each error type carries its code; nothing else decides it. Each also carries its cause and,
where one ran, the command that failed, so that the message alone reproduces the problem.
"""

from __future__ import annotations

import errno
import os
import shlex
from collections.abc import Mapping, Sequence

USAGE_EXIT = 2
INFRASTRUCTURE_EXIT = 125


class RigError(Exception):
    """Base: a problem rig reports in one clear message (no traceback)."""

    #: process exit status for this kind of problem
    exit_code = INFRASTRUCTURE_EXIT

    def __init__(self, message: str, *, command: Sequence[str] | None = None,
                 output: str | None = None) -> None:
        self.message = message
        self.command = list(command) if command else None
        self.output = output
        super().__init__(message)

    def __str__(self) -> str:
        text = self.message
        if self.command:
            text += f"\n  command: {shlex.join(self.command)}"
        if self.output:
            tail = self.output.strip().splitlines()[-8:]
            text += "\n  output:\n" + "\n".join(f"    {line}" for line in tail)
        return text


class UsageError(RigError):
    """Bad input from the user: a scenario value, a flag, a path, an unknown artifact key."""

    exit_code = USAGE_EXIT


class ArtifactError(RigError):
    """An artifact could not be fetched, verified or prepared (infrastructure: exit 125)."""


class MachineError(RigError):
    """QEMU could not be started or driven (infrastructure: exit 125)."""


class Interrupted(BaseException):
    """SIGTERM (or SIGINT) turned into an exception, so that every ``finally`` runs: QEMU is
    killed and the log and a partial result are kept. A BaseException, like
    KeyboardInterrupt, so that no ``except Exception`` swallows it."""

    def __init__(self, signum: int) -> None:
        import signal

        super().__init__(signal.Signals(signum).name)
        self.signum = signum


#: what an operating-system error says of the file it names; the machine's own (a full or
#: read-only disk, an I/O error) are infrastructure wherever they happen, the rest are the
#: user's when the file is one they named, rig's own (125) when it is in RIG_CACHE or
#: RIG_RESULTS. One table: a new errno is a row here, not a new try/except.
OS_ERRORS: dict[int, tuple[str, bool]] = {
    errno.ELOOP: ("is a loop of symbolic links", False),
    errno.ENOENT: ("does not exist", False),
    errno.ENOTDIR: ("has a part that is not a folder", False),
    errno.EISDIR: ("is a folder, not a file", False),
    errno.EACCES: ("is not accessible: permission denied", False),
    errno.EPERM: ("is not accessible: operation not permitted", False),
    errno.ENAMETOOLONG: ("has too long a name", False),
    errno.ENXIO: ("is a device or socket with nothing behind it", False),
    errno.ENOSPC: ("cannot be written: the disk holding it is full", True),
    errno.EDQUOT: ("cannot be written: the disk quota is used up", True),
    errno.EROFS: ("cannot be written: its file system is read-only", True),
    errno.EIO: ("cannot be read or written: input/output error", True),
}


def os_error(exc: OSError, roots: Mapping[str, str | os.PathLike[str]] | None = None,
             ) -> RigError:
    """An OSError as rig reports it: the file, what the error says of it, and whose problem it
    is (``roots``: rig's own folders by the variable that sets them, e.g. RIG_RESULTS)."""
    name = exc.filename if exc.filename is not None else None
    words, machine = OS_ERRORS.get(exc.errno or -1, (None, True))
    owner = next((var for var, root in (roots or {}).items()
                  if name is not None and _inside(str(name), str(root))), None)
    what = f"{name}" if name is not None else "a file"
    if owner is not None:
        what += f" (in {owner})"
    if words is None:
        words = f"failed: {exc.strerror or exc}"
    if machine and owner is not None and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        words += f": free space or point {owner} elsewhere"
    cls = RigError if machine or owner is not None else UsageError
    return cls(f"{what} {words}")


def _inside(path: str, root: str) -> bool:
    a, b = os.path.abspath(path), os.path.abspath(root)
    return a == b or a.startswith(b.rstrip(os.sep) + os.sep)
