"""A parser's table reads a line by the hint it holds (rig.parse.messages): on every line of
the corpus it picks the message the plain walk of the table in order picks."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from rig.parse import linux, xen
from rig.parse.lines import Source, split
from rig.parse.messages import Message, Table
from tests.conftest import LOGS, RECORDED


def corpus_lines() -> list[tuple[Source, str]]:
    paths = [*sorted(LOGS.glob("*.log")), *sorted(RECORDED.glob("*/console.log"))]
    out = []
    for path in paths:
        for no, raw in enumerate(path.read_text(errors="replace").splitlines(), start=1):
            out += [(ln.source, ln.text) for ln in split(no, raw)]
    return out


LINES = corpus_lines()
TABLES: dict[Source, Table[Any]] = {Source.XEN: xen.TABLE, Source.LINUX: linux.TABLE}


class _Seen:
    """A parser that only notes which message read the line; every ``when`` allows."""

    def __init__(self) -> None:
        self.read: str | None = None


def _noting(table: Table[Any]) -> Table[_Seen]:
    def reader(name: str) -> Callable[[_Seen, re.Match[str]], None]:
        def read(p: _Seen, m: re.Match[str]) -> None:
            p.read = name
        return read
    return Table(tuple(Message(m.hint, m.regex, reader(f"{i}"))
                       for i, m in enumerate(table.messages)))


@pytest.mark.parametrize("source", list(TABLES), ids=lambda s: s.value)
def test_the_table_reads_as_the_walk_in_order(source: Source) -> None:
    table = TABLES[source]
    noting = _noting(table)
    read = 0
    for src, text in LINES:
        if src is not source:
            continue
        walk = next((str(i) for i, m in enumerate(table.messages) if m.regex.match(text)), None)
        seen = _Seen()
        if (found := noting.find(text)) is not None:
            noting.read(seen, text, found)
        assert seen.read == walk, text
        read += walk is not None
    assert read > 200  # the corpus exercises the table


@pytest.mark.parametrize("source", list(TABLES), ids=lambda s: s.value)
def test_every_message_line_holds_its_hint(source: Source) -> None:
    """What the file scan and the table both rely on: a line a message reads holds its hint."""
    for src, text in LINES:
        for m in TABLES[source].messages:
            if src is source and m.regex.match(text):
                assert re.search(m.hint, text), (m.hint, text)


def test_a_line_with_two_hints_is_read_in_the_tables_order() -> None:
    """The first hint in a line need not be its message's: a message whose regex begins with
    .* ("Unable to find") may take a line that starts with another's hint."""
    table = TABLES[Source.LINUX]
    noting = _noting(table)
    for text in ("Memory: 1K/2K available, Unable to find available pfn range, not remapping "
                 "identity pages", "Released 5 pages of unused memory",
                 "Remapped 97 page(s) Memory: 1K/2K available (1K kernel code)"):
        walk = next((str(i) for i, m in enumerate(table.messages) if m.regex.match(text)), None)
        seen = _Seen()
        if (found := noting.find(text)) is not None:
            noting.read(seen, text, found)
        assert seen.read == walk, text


def test_a_full_e820_table_is_read_in_each_kernels_words() -> None:
    """__e820__range_add() on a full table: 7.x "E820 table full", 6.x "too many entries"; an
    empty add (the 4 KiB walk's) ends a byte before it starts and is only counted; printk's
    dropped lines are summed."""
    p = linux.LinuxParser()
    for text in ("E820 table full; ignoring [mem 0x418446000-0x418445fff]",
                 "too many entries; ignoring [mem 0x48000000-0x48000fff]",
                 "e820: too many entries; ignoring [mem 0x000a0000-0x000fffff]",
                 "** 93179 printk messages dropped **", "** 2 printk messages dropped **"):
        p.feed(text)
    info = p.finish()
    assert info.e820_full_lines == 3
    assert info.e820_ignored == [(0x48000000, 0x48001000), (0xA0000, 0x100000)]
    assert info.printk_dropped == 93181


def test_an_oops_names_the_release_when_the_banner_was_lost() -> None:
    """A log whose 'Linux version' line was dropped (the 12-06 campaign's E820 overflow:
    437030 printk lines lost) still names its kernel in an oops's CPU line; Debian's build
    string gives the upstream release, as in the banner."""
    p = linux.LinuxParser()
    p.feed("CPU: 0 UID: 0 PID: 1 Comm: swapper/0 Not tainted 7.2.13+deb14-amd64 #1 "
           "PREEMPT(lazy)  Debian 7.2.13-1 ")
    p.feed("CPU: 0 PID: 0 Comm: swapper Tainted: G        W 6.1.0-57-amd64 #1  Debian 6.1.192-3")
    info = p.finish()
    assert (info.oops_release, info.oops_upstream) == ("7.2.13+deb14-amd64", "7.2.13")
    q = linux.LinuxParser()
    q.feed("CPU: 0 PID: 0 Comm: swapper Tainted: G        W 6.1.0-57-amd64 #1  Debian 6.1.192-3")
    assert (q.finish().oops_release, q.info.oops_upstream) == ("6.1.0-57-amd64", "6.1.192")
