"""rig's error types. Each carries its cause and, where one ran, the command that failed, so that
the message alone is enough to reproduce the problem."""

from __future__ import annotations

import shlex
from collections.abc import Sequence


class RigError(Exception):
    """Base: a problem rig reports in one clear message (no traceback)."""

    #: process exit status for this kind of problem
    exit_code = 125

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
    """Bad input from the user: a scenario value, a flag, a path."""

    exit_code = 2


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
