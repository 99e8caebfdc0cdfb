"""The log corpus (tests/corpus.py reads it): every header's expected values hold, and the
file scans find the lines the line reader finds."""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

import pytest

from rig.judge.check import CheckName, Status
from rig.judge.expect import Expect
from rig.judge.judge import judge
from rig.judge.result import Result
from rig.parse import by_grep, mail, scan
from rig.parse.collect import parse_lines
from rig.parse.hints import HINT
from tests.conftest import LOGS
from tests.corpus import CASES, judged, load_case


def _value(text: str) -> object:
    if text == "null":
        return None
    if text == "[]":
        return []
    if text in ("true", "false"):
        return text == "true"
    try:
        return int(text)
    except ValueError:
        return text


def _lookup(doc: dict[str, Any], dotted: str) -> object:
    node: Any = doc
    for part in dotted.split("."):
        node = node[int(part)] if part.isdigit() else node[part]
    return node


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_corpus(path: Path) -> None:
    expected, result = judged(path)
    doc = result.to_json()
    assert expected, f"{path.name} has no header"
    checks = {c["name"]: c for c in doc["checks"]}
    for key, text in expected.items():
        if key.startswith("option."):
            continue
        if key.startswith("check."):
            name = key.removeprefix("check.")
            assert name in checks, f"no check {name}: {list(checks)}"
            assert checks[name]["status"] == text, checks[name]
        else:
            assert _lookup(doc, key) == _value(text), (key, doc["checks"])


def test_truncated_log_is_incomplete_not_an_error() -> None:
    _, body = load_case(LOGS / "rig-pci-hole-6.1.log")
    cut = body[: body.index("Remapped 97")]
    log = parse_lines(io.StringIO(cut, newline="\n"))
    doc = Result.of(log, judge(log, expect=Expect.FULL))
    assert doc.verdict is Status.INCOMPLETE
    assert doc.linux.remapped_pages is None
    assert doc.xen.dom0_nr_pages == 262144


def test_crash_log_names_the_line() -> None:
    _, doc = judged(LOGS / "rig-pci-hole-cpu-max-crash.log")
    crash = doc.check(CheckName.CRASH)
    assert crash is not None
    assert "Domain 0 (vcpu#0) crashed" in crash.message or "Dom0 crashed" in crash.message


def test_every_line_counts_once() -> None:
    _expected, body = load_case(LOGS / "rig-pci-hole-6.1.log")
    log = parse_lines(io.StringIO(body, newline="\n"))
    assert log.lines == body.count("\n")


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_file_reader_sees_what_the_line_reader_sees(path: Path, tmp_path: Path) -> None:
    """parse_file gives the same document as the plain line iterator, whichever scan finds
    the hinted lines: Python's regex or grep's (which rig uses for large files)."""
    _, body = load_case(path)
    raw = tmp_path / "raw.log"
    raw.write_bytes(body.encode())
    text = mail.decode(body.encode())  # a mail is read as its decoded text parts
    slow = parse_lines(io.StringIO(body if text is None else text, newline="\n"))
    if text is not None:
        slow.decoded = "a mail: its text/plain parts, transfer-decoded"
    grep = shutil.which("grep")
    assert grep is not None
    for how in (scan.python_scan, lambda p, _mm, _size: by_grep.grep_scan(grep, p)):
        fast = scan.parse_file(raw, scan=how)
        assert Result.of(fast, judge(fast)) == Result.of(slow, judge(slow))


def test_the_file_scan_finds_every_hint_the_line_reader_does(tmp_path: Path) -> None:
    """The file scan splits the hints between a regex and bytes.find: together they must find
    exactly the lines the line reader's one regex finds."""
    samples = ["(XEN) 'q' pressed -> dumping domain info", "base_addr = 0x0, length = 0x9fc00",
               "error: file `/xen' not found.", "xen_release_chunk: looking at area pfn",
               "    max_pages=262144 tot_pages=262144", "Freeing  9f-100 pfn range: 97 pages",
               "Xen hypervisor allocated kernel memory conflicts with E820 map",
               "[    0.1] Released 0 page(s)", "unused memory here", "nothing to see here",
               "just error:without the space", "Xen version 4.17.7", "plain tail"]
    raw = tmp_path / "raw.log"
    raw.write_bytes(("\n".join(samples)).encode())  # the last line without its line end
    data = raw.read_bytes()
    found = scan._scan_range(data, 0, len(data))
    starts = [0] + [i + 1 for i, b in enumerate(data) if b == 0x0A]
    expected = [s for s, line in zip(starts, samples, strict=True) if HINT.search(line)]
    assert found == expected and len(expected) == len(samples) - 3


def test_grep_finds_the_lines_python_finds(tmp_path: Path) -> None:
    """grep -E reads the hints as Python does, also in lines of serial noise: CRs, NULs, bytes
    that are no UTF-8, ANSI sequences, a hint at a line's very end and a last line without
    its line end; numbers and offsets are the lines' own."""
    noise = [b"(XEN) Xen version 4.17.7 \x00\xff\xfe", b"\x1b[1;1H\x1b[J  Booting `rig'",
             b"[    0.000000] Released 0 page(s)\r\r", b"\xc3\x28 Memory: 1K/2K available",
             b"Freeing  9f-100 pfn range: 97 pages", b"Freeing 9f-100", b"Init. r", b"Init r",
             b"(XEN) (total: 5)", b"***", b"**", b"end with a hint: Oops", b"", b"\r",
             b"Xen version x", b"ramdisk_pages=1 and _pages=2", b"BIOS-e820: [mem 0x0-0x1] usable"]
    corpus = b"".join(p.read_bytes() for p in sorted(LOGS.glob("*.log")))
    data = corpus + b"\n".join(noise) + b"\nlast line with RIG: no end"
    raw = tmp_path / "noise.log"
    raw.write_bytes(data)
    grep = shutil.which("grep")
    assert grep is not None
    python = list(scan.python_scan(raw, data, len(data)))
    grep_lines = list(by_grep.grep_scan(grep, raw))
    assert grep_lines == python
    assert len(python) > 100 and python[-1][2] == b"last line with RIG: no end"
    assert all(data[start:start + len(body)] == body for _no, start, body in python)
