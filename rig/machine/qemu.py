"""QEMU process and QMP lifecycle, and the choice of accelerator.

A Machine owns one QEMU process: started in its own session (so its process group can be killed
whole), with a parent-death signal (so even a SIGKILL'd rig leaves no QEMU behind), and killed on
every exit path of the ``with`` block.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import pexpect

from rig.errors import MachineError, UsageError
from rig.machine.children import die_with_parent

if TYPE_CHECKING:
    from rig.machine.qmp import Qmp

QEMU = "qemu-system-x86_64"


# -- accelerator -----------------------------------------------------------------------------

@dataclass(frozen=True)
class AccelChoice:
    accel: str  # "kvm" or "tcg"
    reason: str


def kvm_problem(dev: Path = Path("/dev/kvm"), cpuinfo: Path = Path("/proc/cpuinfo")) -> str | None:
    """Why KVM cannot run a Xen guest here, or None when it looks usable.

    /dev/kvm alone proves nothing (on some hosts it is a paravirtual shim whose guests hang), so
    hardware virtualisation must also be advertised."""
    if not dev.exists():
        return f"{dev} does not exist"
    if not os.access(dev, os.R_OK | os.W_OK):
        return f"{dev} is not readable and writable by this user"
    try:
        flags = re.search(r"^flags\s*:(.*)$", cpuinfo.read_text(), re.M)
    except OSError as exc:
        return f"cannot read {cpuinfo}: {exc.strerror}"
    words = set(flags.group(1).split()) if flags else set()
    if not words & {"vmx", "svm"}:
        return "the CPU advertises neither vmx nor svm (no hardware virtualisation)"
    return None


def choose_accel(requested: str, xen: Path | None = None, binary: str = QEMU) -> AccelChoice:
    """``auto`` uses KVM only once proven: /dev/kvm usable, vmx/svm advertised, and Xen really
    printing its banner under KVM within seconds (``probe``); otherwise TCG, with the reason."""
    if requested == "tcg":
        return AccelChoice("tcg", "requested")
    if requested not in ("auto", "kvm"):
        raise MachineError(f"--accel {requested!r}: expected auto, kvm or tcg")
    problem = kvm_problem()
    if problem is None and xen is not None:
        problem = kvm_probe(binary, xen)
    if requested == "kvm":
        if problem:
            raise MachineError(f"--accel kvm: KVM is not usable: {problem}")
        return AccelChoice("kvm", "requested, probe passed")
    if problem:
        return AccelChoice("tcg", f"KVM unusable: {problem}")
    return AccelChoice("kvm", "/dev/kvm usable, vmx/svm present, Xen probe booted")


PROBE_S = 10.0


def kvm_probe(binary: str, xen: Path, seconds: float = PROBE_S) -> str | None:
    """Boot Xen alone under KVM and wait for its banner: where /dev/kvm exists but guests hang
    or die (nested setups without real VMX), this says so in seconds instead of a whole run."""
    argv = [binary, "-accel", "kvm", "-machine", "pc", "-cpu", "host", "-m", "256",
            "-nodefaults", "-display", "none", "-vga", "none", "-serial", "stdio",
            "-monitor", "none", "-no-reboot", "-net", "none", "-kernel", str(xen),
            "-append", "xen console=com1 com1=115200,8n1 noreboot"]
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True,
                                preexec_fn=die_with_parent)
    except OSError as exc:
        return f"the KVM probe could not start QEMU: {exc}"
    assert proc.stdout is not None
    seen = b""
    deadline = time.monotonic() + seconds
    try:
        os.set_blocking(proc.stdout.fileno(), False)
        while time.monotonic() < deadline and b"Xen version" not in seen:
            ready, _, _ = select.select([proc.stdout], [], [], 0.1)
            if ready:
                chunk = proc.stdout.read(65536)
                if not chunk:
                    break
                seen += chunk
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    if b"Xen version" in seen:
        return None
    tail = seen.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
    return f"a Xen probe under KVM printed no banner within {seconds:.0f} s ({tail[0]})"


def host_memory_available(meminfo: Path = Path("/proc/meminfo")) -> int:
    """Bytes the host can give a guest now (MemAvailable), read from the host, not assumed."""
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    raise MachineError(f"cannot read MemAvailable from {meminfo}")


#: the environment variable naming the QEMU to use, as Xen's CI names its QEMU_PREFIX
QEMU_VARIABLE = "RIG_QEMU"


def qemu_binary(chosen: str | None = None) -> str:
    """The QEMU rig runs: ``chosen`` (--qemu), else $RIG_QEMU, else qemu-system-x86_64 on
    PATH. A QEMU the user named that is not there is theirs to fix (exit 2)."""
    for value, where in ((chosen, "--qemu"), (os.environ.get(QEMU_VARIABLE), QEMU_VARIABLE)):
        if not value:
            continue
        found = shutil.which(value)
        if found is None:
            raise UsageError(f"{where} {value!r}: no such executable (give the path of a "
                             f"{QEMU} or its name on PATH)")
        return found
    path = shutil.which(QEMU)
    if path is None:
        raise MachineError(f"{QEMU} is not installed (apt-get install qemu-system-x86)")
    return path


def qemu_version(binary: str) -> str:
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise MachineError(f"{binary} --version failed: {exc}", command=[binary, "--version"]) \
            from exc
    m = re.search(r"version (\S+)", out.stdout)
    return m.group(1) if m else out.stdout.strip()


# -- the machine -----------------------------------------------------------------------------

class Echo:
    """The console log, and a copy of every byte to a stream (``rig run -v``): CI logs show
    the boot as it goes, as Xen's own CI streams its serial into the job's log."""

    def __init__(self, log: BinaryIO, stream: BinaryIO) -> None:
        self.log, self.stream = log, stream

    def write(self, data: bytes) -> int:
        n = self.log.write(data)
        try:
            self.stream.write(data)
            self.stream.flush()
        except (OSError, ValueError):
            pass  # the reader of the stream went away: the log is what counts
        return n

    def flush(self) -> None:
        self.log.flush()


def _peak_rss_kb(pid: int) -> int | None:
    """QEMU's peak resident memory so far (VmHWM), while it still runs."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


class State(Enum):
    NEW = "new"  #: not started
    RUNNING = "running"  #: QEMU process alive
    STOPPED = "stopped"  #: process gone (exited or killed); exit status known


class Machine:
    """One QEMU run. Use as a context manager; the console is ``self.console`` (pexpect)."""

    def __init__(self, argv: list[str], log: BinaryIO | Echo, qmp_socket: Path) -> None:
        self.argv = argv
        self.log = log
        self.qmp_socket = qmp_socket
        self.state = State.NEW
        self.console: Any = None  # pexpect.spawn once started
        self.exit_status: int | None = None
        self.peak_rss_kb: int | None = None
        #: when QEMU was started (monotonic): the console's silence is counted from here
        self.started_at: float | None = None
        self._qmp: Qmp | None = None

    def __repr__(self) -> str:
        return f"<Machine {self.state.value} pid={getattr(self.console, 'pid', None)}>"

    def __enter__(self) -> Machine:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        if self.state is not State.NEW:
            raise MachineError(f"machine already {self.state.value}")
        try:
            # pexpect gives QEMU a pty and its own session; maxread/searchwindowsize keep
            # matching cheap and bounded however much the guest prints
            self.console = pexpect.spawn(
                self.argv[0], self.argv[1:], maxread=8192, searchwindowsize=16384,
                preexec_fn=die_with_parent, echo=False, env=dict(os.environ, LC_ALL="C"))
        except (pexpect.ExceptionPexpect, OSError) as exc:
            raise MachineError(f"QEMU did not start: {exc}", command=self.argv) from exc
        # pexpect sleeps 0.05 s before every send (for programs that echo before they read):
        # QEMU's serial reads at once, and the two keys of Xen's query paid 0.1 s for nothing
        self.console.delaybeforesend = None
        self.console.logfile_read = self.log
        self.started_at = time.monotonic()
        self.state = State.RUNNING

    def qmp(self, timeout: float = 10.0) -> Qmp:
        """Connected QMP client. QEMU creates the socket shortly after it starts: wait for it
        at most ``timeout`` s, and for QEMU's greeting at most Qmp's bound."""
        if self._qmp is not None:
            return self._qmp
        # asyncio and qemu.qmp are imported here, once QEMU runs: their ~40 ms then overlap
        # QEMU's own start (it makes the socket only after ~0.1 s)
        from rig.machine.qmp import Qmp

        deadline = time.monotonic() + timeout
        while not self.qmp_socket.exists():
            if not self.alive() or time.monotonic() >= deadline:
                why = "QEMU exited" if not self.alive() else f"no socket after {timeout:.0f} s"
                raise MachineError(f"no QMP connection on {self.qmp_socket}: {why}",
                                   command=self.argv)
            time.sleep(0.05)
        client = Qmp(self.qmp_socket)
        try:
            client.connect()
        except MachineError:
            client.close(timeout=0.5)
            raise
        self._qmp = client
        return client

    def query(self, command: str) -> Any:
        return self.qmp().cmd(command)

    def version(self) -> str | None:
        """QEMU's version as ``qemu_version`` reads it from ``--version`` ("7.2.22"), asked
        of the running QEMU (no process of its own); None when QMP does not say."""
        try:
            q = self.query("query-version")["qemu"]
            return f"{q['major']}.{q['minor']}.{q['micro']}"
        except (MachineError, KeyError, TypeError):
            return None

    def alive(self) -> bool:
        return self.console is not None and bool(self.console.isalive())

    def stop(self, grace: float = 1.0) -> None:
        """Ask QEMU to quit, then kill its whole process group. Idempotent."""
        if self.state is not State.RUNNING:
            return
        child = self.console
        self.peak_rss_kb = _peak_rss_kb(child.pid)
        try:
            if child.isalive() and self._qmp is not None:
                # QEMU may already be gone, or stopped: the kill below settles it either way
                with contextlib.suppress(MachineError):
                    self._qmp.cmd("quit", timeout=grace)
            deadline = time.monotonic() + grace
            while child.isalive() and time.monotonic() < deadline:
                time.sleep(0.005)  # QEMU frees the guest's RAM as it quits: ~0.1 s
            if child.isalive():
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGKILL)
                child.wait()
        finally:
            if self._qmp is not None:
                self._qmp.close(timeout=0.5)
                self._qmp = None
            if not child.isalive():
                # ptyprocess sleeps 0.1 s after closing the pty "to give the kernel time to
                # update process status": QEMU is reaped already, so every run paid it for
                # nothing
                child.ptyproc.delayafterclose = 0
            with contextlib.suppress(Exception):
                child.close(force=True)
            self.exit_status = child.exitstatus if child.exitstatus is not None else (
                -child.signalstatus if child.signalstatus else None)
            self.state = State.STOPPED
