"""A check: its name (``CheckName``), its status (``Status``, ordered: the worst wins) and
what it expected and observed (``Check``); the verdict of a list of checks. Pure.

Statuses are ordered and the worst one wins (XTF's convention): pass < warn < skip <
incomplete < error < fail < crash; warn and skip never decide a verdict.

A ``CheckName`` names every check rig makes, spelled as the result document, JUnit, KCIDB,
LAVA and the regressions registry spell it. A ``StrEnum``: a member is its string
(``CheckName.NOTHING_LOST == "nothing_lost"``), so documents, reports and golden files hold the
same text as before. A result read back keeps its names as strings (``CheckRecord.name``): one
written by another rig may hold a name this one does not make; ``CheckName.of`` says which
member a name is, if any.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from rig.errors import INFRASTRUCTURE_EXIT


class CheckName(StrEnum):
    """What each check judges, grouped by who makes it."""

    # every judgement (rig.judge.pv, rig.judge.pvh, rig.judge.common)
    #: the model could predict: the log holds its inputs (Xen's map, nr_pages, the kernel)
    MODEL = "model"
    #: no fatal line (the crash table) in the log, a refusal the model predicted excepted
    CRASH = "crash"
    #: Xen built dom0 the nr_pages dom0_mem asks for (rig.domain.dom0mem)
    NR_PAGES = "nr_pages"
    #: Xen could not build a PV dom0 for want of what the model says its builder needs (one
    #: naturally aligned block of RAM for the initial mapping); said only when it could not
    XEN_BUILD = "xen_build"
    #: a kernel that finds the CPU's XSAVE sizes inconsistent goes on without XSAVE (6.16+
    #: oops there: rig's sixth finding); said only when the kernel took that fallback and crashed
    XSAVE_FALLBACK = "xsave_fallback"
    #: dom0 holds every page Xen gave it (PV: balloon or setup messages; PVH: the balloon)
    NOTHING_LOST = "nothing_lost"
    #: Xen's own count of dom0's pages after boot (debug key 'q') is what it gave dom0
    XEN_ACCOUNTING = "xen_accounting"
    #: the balloon's target at /init is what dom0_mem's amount gave dom0 (rig.model.balloon)
    BALLOON_TARGET = "balloon_target"
    #: Linux's PV memory setup (Released/Remapped), said only when it is not judged (skip)
    SETUP = "setup"
    #: rig's /init ran to the end (skipped in quick mode and after a predicted refusal)
    BOOT = "boot"
    #: a log of several boots: the last one is judged, the crashes of the others are said
    BOOTS = "boots"
    #: LAVA's own verdict on the job, when the log is a LAVA job's (its lab's failures)
    LAVA = "lava"
    #: a PASS has evidence: the era's counts compared and dom0's pages accounted for
    EVIDENCE = "evidence"

    # a PV dom0 (rig.judge.pv)
    #: a console message cut in two that could not be rejoined (a warning)
    WRAPPED = "wrapped"
    #: dom0 refuses a map where Xen's allocations for it are not inside RAM, and only then
    REFUSAL = "refusal"
    #: "Remapped N page(s)" (eras D, E) against the model's count
    REMAPPED = "remapped"
    #: "Released N page(s)" (or "... pages of unused memory") against the model's count
    RELEASED = "released"
    #: eras A to C: the printed freed ranges sum to the released total
    FREED_SUM = "freed_sum"
    #: eras A to C: the printed freed ranges are the holes the model predicts
    FREED_RANGES = "freed_ranges"
    #: era C: "Populating ... pages added" against the model's count
    POPULATED = "populated"
    #: 6.12+: "Remapped N non-RAM page(s)" (the swapped NVS) against the model's count
    NONRAM_REMAPPED = "nonram_remapped"
    #: 6.12+: each NVS entry dom0 swapped is in its map where a correct kernel puts it
    NONRAM_MOVED = "nonram_moved"
    #: rig's finding 2: the remap fits the extra memory, the E820 table holds the map
    EXTRA_MEM = "extra_mem"

    # a PVH dom0 (rig.judge.pvh)
    #: Xen moves the kernel (4.19+) or refuses it when its ELF's place is not RAM, else not
    KERNEL_PLACE = "kernel_place"
    #: Xen's printed Dom0 memory map is pvh_setup_e820's, less its ACPI tables
    PVH_MAP = "pvh_map"
    #: Linux's map has the RAM Xen gave it, and no other (UNUSABLE kept for the balloon)
    LINUX_MAP = "linux_map"

    # a live boot of rig's machine (rig.judge.live)
    #: the layout the scenario asked for is in Xen's E820 (else rig's error, exit 125)
    LAYOUT = "layout"
    #: the firmware's map as read on the boot has the RAM of rig's emulation of it
    FIRMWARE = "firmware"
    #: rig predict's "Remapped N page(s)", from the scenario alone, against the kernel's
    PREDICTED_REMAP = "predicted_remap"
    #: rig predict's PVH balloon and Xen counts, from the scenario alone, against the boot
    PREDICTED_PVH = "predicted_pvh"
    #: dom0 reads back rig's ACPI table byte for byte, wherever its setup moved the entry
    ACPI_TABLE = "acpi_table"
    #: GRUB's errors before Xen: in a map command an error, others a warning
    GRUB = "grub"
    #: how the console saw the boot end (a crash, a timeout, silence, QEMU's exit)
    CONSOLE = "console"

    # a run that ended early (rig.runner.run): why, beside what the log holds
    #: a bad value found once the run had begun (exit 2)
    USAGE = "usage"
    #: rig or the machine failed: QEMU, artifacts, a full or read-only results disk
    INFRASTRUCTURE = "infrastructure"
    #: the run was stopped: Ctrl-C, SIGTERM, a bug of rig's
    INTERRUPTED = "interrupted"

    @classmethod
    def of(cls, name: str) -> CheckName | None:
        """The member a document's name is; None for a name this rig does not make."""
        try:
            return cls(name)
        except ValueError:
            return None


class Status(StrEnum):
    """A check's outcome, spelled as the result document spells it, ordered by how bad it is
    (the comparison operators follow that order, not the spelling)."""

    PASS = "pass"
    #: something rig models about the machine (the firmware's map) was off: rig's problem to
    #: explain, never the kernel's; it does not change the verdict
    WARN = "warn"
    SKIP = "skip"
    INCOMPLETE = "incomplete"  #: the log ends (or a boot stopped) before the evidence
    ERROR = "error"  #: infrastructure: QEMU, artifacts, accelerator, GRUB — never the kernel's
    FAIL = "fail"
    CRASH = "crash"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def __lt__(self, other: str) -> bool:
        return self.rank < Status(other).rank

    def __le__(self, other: str) -> bool:
        return self.rank <= Status(other).rank

    def __gt__(self, other: str) -> bool:
        return self.rank > Status(other).rank

    def __ge__(self, other: str) -> bool:
        return self.rank >= Status(other).rank

    @property
    def label(self) -> str:
        return self.value

    @property
    def exit_code(self) -> int:
        """0 pass, 1 the kernel is bad, 125 could not test (``git bisect run`` skips)."""
        return REPORTED[self].exit_code

    @property
    def reported(self) -> Reported:
        return REPORTED[self]


_RANK = {s: i for i, s in enumerate(Status)}


@dataclass(frozen=True)
class Reported:
    """How a status is said to each system that reads rig's results."""

    #: JUnit: the element a case holds (None: the case passed)
    junit: str | None
    #: KCIDB's test status (kcidb-io's schema): FAIL, ERROR, MISS, PASS, DONE, SKIP
    kcidb: str
    #: LAVA's lava-test-case result: pass, fail, skip, unknown
    lava: str
    exit_code: int


#: the one table of what each status is to JUnit, KCIDB, LAVA and the shell (README shows it).
#: A warning is rig's own model problem: the kernel passed. Incomplete: the kernel may have
#: hung, nothing proves either way (KCIDB's ERROR: "the status of the tested code is unknown");
#: error: rig's machine failed (KCIDB's MISS: "a failure in the test harness"; git bisect skips).
REPORTED: dict[Status, Reported] = {
    Status.PASS: Reported(None, "PASS", "pass", 0),
    Status.WARN: Reported(None, "PASS", "pass", 0),
    Status.SKIP: Reported("skipped", "SKIP", "skip", 0),
    Status.INCOMPLETE: Reported("error", "ERROR", "unknown", 1),
    Status.ERROR: Reported("error", "MISS", "unknown", INFRASTRUCTURE_EXIT),
    Status.FAIL: Reported("failure", "FAIL", "fail", 1),
    Status.CRASH: Reported("failure", "FAIL", "fail", 1),
}

#: what a check is evidence of: the era's counts, or where dom0's pages went
COUNT, ACCOUNTING = "count", "accounting"


@dataclass
class Check:
    name: CheckName
    status: Status
    expected: object = None
    observed: object = None
    message: str = ""
    #: what a PASS of this check proves (COUNT, ACCOUNTING), for the evidence rule
    evidence: str | None = None


def verdict_of(checks: Sequence[Check]) -> Status:
    """The worst status of the checks that decide (warn and skip do not)."""
    return max((c.status for c in checks if c.status not in (Status.SKIP, Status.WARN)),
               default=Status.INCOMPLETE)


def count_check(name: CheckName, expected: int, observed: int | None, what: str) -> Check:
    """A count the model predicts against the one the log printed (``what`` names the line)."""
    if observed is None:
        return Check(name, Status.INCOMPLETE, expected, None, f"no '{what}' line in the log",
                     COUNT)
    if observed == expected:
        return Check(name, Status.PASS, expected, observed, f"{what}: {observed} as predicted",
                     COUNT)
    return Check(name, Status.FAIL, expected, observed,
                 f"{what}: expected {expected}, kernel printed {observed} "
                 f"({observed - expected:+d} pages)", COUNT)
