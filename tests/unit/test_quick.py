"""A quick boot's log (rig run --quick: stopped once Linux's memory setup was over, Xen asked
for its count then), judged: the remap checks and Xen's count are judged and PASS; /init and
the balloon are skipped, said so, never passed."""

from __future__ import annotations

from rig.judge.check import CheckName, Status, verdict_of
from rig.judge.expect import Expect
from rig.judge.judge import judge
from rig.parse.collect import parse_lines
from tests.conftest import RECORDED


def quick_log() -> list[str]:
    """The recorded pci-hole boot cut after Linux's Memory: line, with Xen's 'q' dump after it
    (where a quick boot asks for it)."""
    lines = (RECORDED / "pci-hole" / "console.log").read_text().splitlines(True)
    cut = next(i for i, ln in enumerate(lines) if "] Memory: " in ln)
    dump = [ln for ln in lines if "(XEN)" in ln and ("'q' pressed" in ln or "General information"
                                                      in ln or "max_pages=" in ln)]
    return lines[:cut + 1] + dump


def test_a_quick_log_passes_on_what_it_saw() -> None:
    checks = {c.name: c for c in judge(parse_lines(quick_log()), expect=Expect.QUICK).checks}
    for name in (CheckName.REMAPPED, CheckName.RELEASED, CheckName.NOTHING_LOST,
                 CheckName.XEN_ACCOUNTING, CheckName.NR_PAGES):
        assert checks[name].status is Status.PASS, (name, checks[name].message)
    boot = checks[CheckName.BOOT]
    assert boot.status is Status.SKIP and "quick mode" in boot.message
    assert checks[CheckName.BALLOON_TARGET].status is Status.SKIP
    # a crash after the Memory: line was never looked for: the PASS says how far it looked
    crash = checks[CheckName.CRASH]
    assert crash.status is Status.PASS and "up to Linux's memory setup" in crash.message
    assert verdict_of(list(checks.values())) is Status.PASS


def test_a_quick_log_without_xens_count_is_incomplete() -> None:
    lines = [ln for ln in quick_log() if "max_pages=" not in ln]
    checks = {c.name: c for c in judge(parse_lines(lines), expect=Expect.QUICK).checks}
    assert checks[CheckName.XEN_ACCOUNTING].status is Status.INCOMPLETE
