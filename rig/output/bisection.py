"""What ``rig bisect`` found: its steps (a commit, git's mark, rig's verdict) and the first
bad commit, and the text table of them. Pure: a bisection in, text out (the git and boot loop
is rig.runner.bisect's)."""

from __future__ import annotations

from dataclasses import dataclass, field

from rig.judge.check import Status


@dataclass(frozen=True)
class Step:
    commit: str
    subject: str
    mark: str  # good | bad | skip
    verdict: Status | None  # None: the build failed
    seconds: float
    note: str = ""


@dataclass
class Bisection:
    steps: list[Step] = field(default_factory=list)
    first_bad: str | None = None
    subject: str = ""
    #: what git said last (when no first bad commit could be named)
    said: str = ""


def bisect_table(b: Bisection) -> str:
    lines = [f"{'step':<5} {'commit':<12} {'mark':<5} {'verdict':<10} {'time':>7}  subject"]
    for i, s in enumerate(b.steps, 1):
        verdict = s.verdict.value if s.verdict is not None else "no build"
        lines.append(f"{i:<5} {s.commit[:12]:<12} {s.mark:<5} {verdict:<10} "
                     f"{s.seconds:>6.1f}s  {s.subject}")
    if b.first_bad:
        lines.append(f"\nfirst bad commit  {b.first_bad} {b.subject}")
    else:
        lines.append(f"\nno first bad commit: {b.said.splitlines()[0] if b.said else '?'}")
    return "\n".join(lines)
