"""Parsers never raise, whatever the log: random text, and real corpus lines mutated."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from rig.judge.check import Status
from rig.judge.expect import Expect
from rig.judge.judge import judge
from rig.judge.result import Result
from rig.parse.collect import parse_lines
from rig.parse.scan import parse_file
from tests.conftest import LOGS
from tests.corpus import load_case

CORPUS_LINES = [line for p in sorted(LOGS.glob("*.log"))
                for line in load_case(p)[1].splitlines(keepends=True)]
INTERESTING = [ln for ln in CORPUS_LINES if any(k in ln for k in (
    "Xen:", "RAM map", "Remapped", "Released", "Freeing", "Populating", "Dom0 alloc", "ramdisk",
    "RIG:", "Memory:", "(usable)", "(reserved)", "crashed", "Linux version", "Command line"))]


def _judge_all(lines: list[str]) -> None:
    log = parse_lines(lines)
    Result.of(log, judge(log, expect=Expect.FULL))
    Result.of(log, judge(log, dom0_mem="1G,max:1G"))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=120), max_size=40))
def test_random_text(lines: list[str]) -> None:
    _judge_all(lines)


def _mutate(line: str, pos: int, junk: str, cut: int) -> str:
    pos %= max(1, len(line))
    return (line[:pos] + junk + line[pos + cut:])


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(INTERESTING), st.integers(0, 200),
                          st.text(alphabet="0123456789abcdefx-[]() ,:\r\x1b", max_size=6),
                          st.integers(0, 4)), max_size=60))
def test_mutated_corpus_lines(picks: list[tuple[str, int, str, int]]) -> None:
    _judge_all([_mutate(*p) for p in picks])


def test_binary_garbage_file(tmp_path: Path) -> None:
    p = tmp_path / "garbage.log"
    p.write_bytes(bytes(range(256)) * 50 + b"\n(XEN) Xen-e820 RAM map:\n\xff\xfe\n")
    log = parse_file(p)
    assert Result.of(log, judge(log)).verdict is Status.INCOMPLETE
