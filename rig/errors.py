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

import shlex
from collections.abc import Sequence

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
