"""The log corpus, read for the tests: each tests/logs/*.log is a header of expected values
(``dotted.key: value``, ``check.NAME: status``, ``option.NAME: value``), a blank line, then the
raw log. tests/unit/test_corpus.py holds the judge to the headers; other tests borrow the logs
(``load_case``) and their judged documents (``judged``)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from rig.judge.judge import judge
from rig.judge.result import Result
from rig.parse.collect import ParsedLog, combine
from rig.parse.scan import parse_file
from tests.conftest import LOGS

CASES = sorted(LOGS.glob("*.log"))


def load_case(path: Path) -> tuple[dict[str, str], str]:
    """(the header's expected values by key, the raw log after it)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    head, _, body = text.partition("\n\n")
    expected = {}
    for line in head.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        key, _, value = line.partition(":")
        expected[key.strip()] = value.strip()
    return expected, body


def parsed_body(path: Path) -> ParsedLog:
    """The log after its header, read as `rig parse` reads a file (mails are decoded)."""
    _, body = load_case(path)
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / path.name
        raw.write_bytes(body.encode())
        return parse_file(raw)


def judged(path: Path) -> tuple[dict[str, str], Result]:
    """``option.xen: FILE`` names the corpus file with Xen's log of the same boot."""
    expected, _ = load_case(path)
    log = parsed_body(path)
    if "option.xen" in expected:
        log = combine(log, parsed_body(path.parent / expected["option.xen"]))
    doc = Result.of(log, judge(log, dom0_mem=expected.get("option.dom0_mem")))
    return expected, doc
