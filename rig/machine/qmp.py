"""QEMU's monitor (QMP), every wait on it bounded.

qemu.qmp's synchronous wrapper (``legacy.QEMUMonitorProtocol``) waits without a bound for the
greeting of ``connect`` and for ``close``: a QEMU stopped (SIGSTOP, a host under memory
pressure, a wedged QEMU) after it created its socket accepts the connection in the kernel and
never greets, and rig hung there (240 s seen, until QEMU was continued). This wraps qemu.qmp's
``QMPClient`` (its public asyncio API) the way that wrapper does, with a deadline on each step.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from qemu.qmp import QMPClient, QMPError

from rig.errors import MachineError

_T = TypeVar("_T")

#: seconds for QEMU to greet and answer a command; QEMU answers in milliseconds when it runs
QMP_TIMEOUT_S = 3.0


class Qmp:
    """One connection to QEMU's QMP socket; each call either answers within its bound or
    raises MachineError saying what QEMU did not do."""

    def __init__(self, socket: Path, timeout: float = QMP_TIMEOUT_S) -> None:
        self.socket, self.timeout = socket, timeout
        self._loop = asyncio.new_event_loop()
        self._client = QMPClient("rig")

    def _run(self, step: Coroutine[Any, Any, _T], what: str, timeout: float) -> _T:
        try:
            return self._loop.run_until_complete(asyncio.wait_for(step, timeout))
        except TimeoutError:
            raise MachineError(f"QEMU did not {what} within {timeout:.0f} s (a stopped or "
                               "wedged QEMU)") from None
        except (QMPError, OSError, EOFError, asyncio.IncompleteReadError) as exc:
            # qemu.qmp's errors when QEMU goes away mid-step: ConnectError, ExecInterruptedError
            # (QMPError), a bare EOFError from its reader, the socket's own
            raise MachineError(f"QEMU's QMP failed to {what}: {exc!r}") from exc

    def connect(self) -> None:
        """Connect and negotiate (QEMU's greeting, then qmp_capabilities)."""
        self._run(self._client.connect(str(self.socket)), "greet on QMP", self.timeout)

    def cmd(self, command: str, timeout: float | None = None) -> Any:
        return self._run(self._client.execute(command), f"answer {command!r}",
                         timeout or self.timeout)

    def close(self, timeout: float = 1.0) -> None:
        """Disconnect; a peer that does not let go within ``timeout`` is left to the kill that
        follows (the socket closes with the process)."""
        with contextlib.suppress(MachineError):
            self._run(self._client.disconnect(), "close QMP", timeout)
        self._loop.close()
