"""A log of several boots is judged by its last one alone (rig.parse.collect); the halves of
one boot in one file stay one boot."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from rig.judge.check import CheckName, Status
from rig.judge.judge import judge
from rig.judge.result import Result
from rig.parse import by_grep, mail, scan
from rig.parse.collect import parse_lines
from tests.conftest import LOGS


def body(name: str) -> list[str]:
    """A corpus log's lines after its header, as a file's reader splits them (at "\n" only)."""
    text = (LOGS / name).read_text(errors="replace").split("\n\n", 1)[1]
    return list(io.StringIO(text, newline="\n"))


def test_the_last_of_two_boots_is_judged_alone() -> None:
    first, last = body("rig-seed-8g-6.1.log"), body("rig-pci-hole-6.1.log")
    both = parse_lines(first + last)
    alone = parse_lines(last)
    assert both.boot_starts == [len(first) + next(i for i, ln in enumerate(last)
                                                  if "Xen version" in ln) + 1]
    assert both.xen == alone.xen and both.linux == alone.linux and both.init == alone.init
    checks = {c.name: c for c in judge(both).checks}
    # a mix: seed-8g's 3G against 262144
    assert checks[CheckName.NR_PAGES].status is Status.PASS
    boots = checks[CheckName.BOOTS]
    assert boots.status is Status.WARN and boots.observed == 2
    assert [c for c in judge(both).checks if c.name != CheckName.BOOTS] == judge(alone).checks


def test_xl_dmesg_then_dmesg_of_one_boot_is_one_boot() -> None:
    lines = body("rig-pci-hole-6.1.log")
    xen = [ln for ln in lines if ln.startswith("(XEN)")]
    dom0 = [ln for ln in lines if not ln.startswith("(XEN)")]
    for halves in (xen + dom0, dom0 + xen):
        log = parse_lines(halves)
        assert log.boot_starts == []
        assert CheckName.BOOTS not in {c.name for c in judge(log).checks}
        assert log.xen.version == "4.17.7" and log.linux.remapped_pages == 97


def test_a_journal_of_two_boots_splits_at_the_second_kernel() -> None:
    dom0 = [ln for ln in body("rig-pci-hole-6.1.log") if not ln.startswith("(XEN)")]
    log = parse_lines(dom0 + dom0)
    assert log.boot_starts == [len(dom0) + 1 + next(i for i, ln in enumerate(dom0)
                                                    if "Linux version" in ln)]
    assert log.linux.remapped_pages == 97 and log.init.stages == ["init", "done"]


#: boots that end in each way: passed, crashed in Xen, crashed in dom0, refused, quick
BOOTS = ("rig-pci-hole-6.1.log", "rig-pci-hole-cpu-max-crash.log", "rig-seed-8g-6.1.log",
         "rig-q35-pvh-4.20-7.2-fpu-crash.log", "rig-pci-hole-6.1-q-dump-cut.log")


#: a mail is read as its decoded parts when it begins the file: not a boot's lines as they are
SINGLE = sorted(p.name for p in LOGS.glob("*.log") if not mail.looks_like_mail(
    "".join(body(p.name)).encode()))


@pytest.mark.parametrize("name", SINGLE)
def test_the_file_reader_skips_earlier_boots_as_the_line_reader_judges_them(
        name: str, tmp_path: Path) -> None:
    """parse_file reads of the boots before the last only their markers and crash lines: the
    document is the line reader's, which reads every line, for each corpus log after and
    before boots that passed, crashed and stopped, by either scan."""
    grep = shutil.which("grep")
    assert grep is not None
    for before, after in ((BOOTS, (name,)), ((name, *BOOTS), ("rig-seed-8g-6.1.log",))):
        # each log's last line ended, so that the file's lines are the list's
        lines = [ln if ln.endswith("\n") else ln + "\n" for n in (*before, *after)
                 for ln in body(n)]
        raw = tmp_path / "boots.log"
        raw.write_text("".join(lines))
        slow = parse_lines(lines)
        for how in (scan.python_scan, lambda p, _mm, _size: by_grep.grep_scan(grep, p)):
            fast = scan.parse_file(raw, scan=how)
            assert Result.of(fast, judge(fast)) == Result.of(slow, judge(slow))
