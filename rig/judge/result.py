"""What a judgement is made of: ordered statuses, checks, the worst-wins verdict.

Pure. Statuses are ordered and the worst one wins (XTF's convention): pass < warn < skip <
incomplete < error < fail < crash; warn and skip never decide a verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from rig.errors import INFRASTRUCTURE_EXIT
from rig.judge.names import CheckName


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
