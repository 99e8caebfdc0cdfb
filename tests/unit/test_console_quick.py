"""Quick mode on the live console (rig.machine.console.drive with stop_at): a child process
that prints a boot's stage lines and answers Xen's debug key the way Xen does stands in for
QEMU; the boot is done at Linux's memory setup, and Xen is asked for its count then."""

from __future__ import annotations

import io
import sys
import textwrap

import pexpect

from rig.judge.records import ConsoleOutcome
from rig.machine.console import ConsoleResult, StopAt, drive
from rig.machine.timeouts import Limits, Stage

CONSOLE = textwrap.dedent(r"""
    import sys, tty
    tty.setraw(0)  # a serial line: each byte as it comes, as Xen reads it
    out = sys.stdout
    for line in ("(XEN) Xen version 4.17.7 (Debian)", "(XEN) *** Building a PV Dom0 ***",
                 "[    0.000000] Linux version 6.1.0-57-amd64 (x) #1 SMP",
                 "[    1.190173] Remapped 128 page(s)",
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


def boot(limit: float, stop_at: Stage | None = None, lost: int = 0,
         setup_end: bytes | None = None) -> ConsoleResult:
    """The fake console driven as rig drives QEMU's: each stage allowed ``limit`` seconds;
    ``lost``: CTRL-a the line loses before Xen sees any."""
    child = pexpect.spawn(sys.executable, ["-u", "-c", CONSOLE, str(lost)], timeout=10)
    child.setecho(False)
    child.delaybeforesend = None  # keys go out at once, as rig.machine.qemu sends them
    child.logfile_read = io.BytesIO()  # the console log, as rig.machine.qemu gives it a file
    try:
        log = child.logfile_read
        result = drive(child, Limits({s: limit for s in Stage}, 5.0),
                       stop_at=StopAt(stop_at, setup_end) if stop_at is not None else None)
        result.message = log.getvalue().decode()  # what rig saw, for the test to read
        return result
    finally:
        child.close(force=True)


def test_a_quick_boot_is_done_at_linuxs_memory_setup() -> None:
    result = boot(5.0, Stage.SETUP)
    assert result.outcome is ConsoleOutcome.DONE and result.stage is Stage.SETUP
    assert {"xen", "dom0-build", "linux", "setup", "xen-query"} <= set(result.timeline)
    assert "init" not in result.timeline


def test_a_quick_boot_stops_at_the_kernels_last_remap_line() -> None:
    """rig.parse.stages.QUICK_END: a 3.19+ kernel's setup is over at "Remapped N page(s)";
    Xen is asked for its count before Linux prints Memory: (the line is then never waited
    for)."""
    from rig.parse.stages import QUICK_END

    result = boot(5.0, Stage.SETUP, setup_end=QUICK_END["remapped"].live)
    assert result.outcome is ConsoleOutcome.DONE and "xen-query" in result.timeline
    seen = result.message
    assert seen.index("Remapped 128") < seen.index("'q' pressed")


def test_a_full_boot_waits_for_init() -> None:
    result = boot(1.0)
    assert result.outcome is ConsoleOutcome.TIMEOUT and result.stage is Stage.SETUP


def test_a_lost_switch_to_xen_is_sent_again() -> None:
    # two of the three CTRL-a lost: Xen has seen one when rig sends the switch again, so the
    # second one's second byte switches, and its third starts a count of its own
    result = boot(1.0, Stage.SETUP, lost=2)
    assert result.outcome is ConsoleOutcome.DONE and "xen-query" in result.timeline


def test_xen_that_never_answers_leaves_the_boot_done_without_the_dump() -> None:
    result = boot(0.3, Stage.SETUP, lost=100)
    assert result.outcome is ConsoleOutcome.DONE and "xen-query" not in result.timeline


def test_the_quick_end_follows_the_kernels_release() -> None:
    from rig.parse.stages import QUICK_END
    from rig.runner.run import quick_end

    assert quick_end("7.2.13+deb14-amd64", "7.2.13") == QUICK_END["nonram"].live
    assert quick_end("6.12.118+deb13-amd64", None) == QUICK_END["nonram"].live
    assert quick_end("6.1.0-57-amd64", "6.1.192") == QUICK_END["remapped"].live
    assert quick_end("3.19.0-1-amd64", None) == QUICK_END["remapped"].live
    # 3.18 prints its Remapped line in xen_memory_setup(), before Released and the E820
    assert quick_end("3.18.0-1-amd64", None) == QUICK_END["memory"].live
    assert quick_end("3.17.0-4-amd64", None) == QUICK_END["memory"].live  # era C populates
    assert quick_end(None, None) == QUICK_END["memory"].live
