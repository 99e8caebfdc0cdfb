"""Quick mode on the live console (rig.machine.console.drive with stop_at): a child process
that prints a boot's stage lines and answers Xen's debug key the way Xen does stands in for
QEMU; the boot is done at Linux's memory setup, and Xen is asked for its count then."""

from __future__ import annotations

import io
import sys
import textwrap

import pexpect

from rig.judge.records import Outcome
from rig.machine.console import ConsoleResult, drive
from rig.machine.timeouts import Stage

CONSOLE = textwrap.dedent(r"""
    import sys, tty
    tty.setraw(0)  # a serial line: each byte as it comes, as Xen reads it
    out = sys.stdout
    for line in ("(XEN) Xen version 4.17.7 (Debian)", "(XEN) *** Building a PV Dom0 ***",
                 "[    0.000000] Linux version 6.1.0-57-amd64 (x) #1 SMP",
                 "[    2.209732] Memory: 206944K/1048572K available (14343K kernel code)"):
        out.write(line + "\r\n"); out.flush()
    lost = int(sys.argv[1])  # CTRL-a lost on the line before Xen sees any
    got, to_xen = b"", False
    while True:
        ch = sys.stdin.buffer.read(1)
        if not ch:
            break
        if ch == b"\x01" and lost:
            lost -= 1
            continue
        got += ch
        if got.endswith(b"\x01\x01\x01"):  # Xen's conswitch toggles the input
            got, to_xen = b"", not to_xen
            out.write(f"(XEN) *** Serial input to {'Xen' if to_xen else 'DOM0'} "
                      "(type 'CTRL-a' three times)\r\n")
        elif got.endswith(b"q") and to_xen:
            out.write("(XEN) 'q' pressed -> dumping domain info (now = 12)\r\n"
                      "(XEN) General information for domain 0:\r\n"
                      "(XEN)     refcnt=3 dying=0 pause_count=0\r\n"
                      "(XEN)     nr_pages=262144 xenheap_pages=4 max_pages=262144\r\n")
        out.flush()
""")


def boot(limit: float, stop_at: Stage | None = None, lost: int = 0) -> ConsoleResult:
    """The fake console driven as rig drives QEMU's: each stage allowed ``limit`` seconds;
    ``lost``: CTRL-a the line loses before Xen sees any."""
    child = pexpect.spawn(sys.executable, ["-u", "-c", CONSOLE, str(lost)], timeout=10)
    child.setecho(False)
    child.delaybeforesend = None  # keys go out at once, as rig.machine.qemu sends them
    child.logfile_read = io.BytesIO()  # the console log, as rig.machine.qemu gives it a file
    try:
        return drive(child, {s: limit for s in Stage}, 5.0, stop_at=stop_at)
    finally:
        child.close(force=True)


def test_a_quick_boot_is_done_at_linuxs_memory_setup() -> None:
    result = boot(5.0, Stage.SETUP)
    assert result.outcome is Outcome.DONE and result.stage is Stage.SETUP
    assert {"xen", "dom0-build", "linux", "setup", "xen-query"} <= set(result.timeline)
    assert "init" not in result.timeline


def test_a_full_boot_waits_for_init() -> None:
    result = boot(1.0)
    assert result.outcome is Outcome.TIMEOUT and result.stage is Stage.SETUP


def test_a_lost_switch_to_xen_is_sent_again() -> None:
    # two of the three CTRL-a lost: Xen has seen one when rig sends the switch again, so the
    # second one's second byte switches, and its third starts a count of its own
    result = boot(1.0, Stage.SETUP, lost=2)
    assert result.outcome is Outcome.DONE and "xen-query" in result.timeline


def test_xen_that_never_answers_leaves_the_boot_done_without_the_dump() -> None:
    result = boot(0.3, Stage.SETUP, lost=100)
    assert result.outcome is Outcome.DONE and "xen-query" not in result.timeline
