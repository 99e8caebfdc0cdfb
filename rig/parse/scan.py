"""``parse_file``: a file read as ``parse_lines`` reads its lines, found faster.

The regex scan for hints (rig.parse.hints; the costly part) runs over the mapped file, in
parallel slices for large files; the parsers then see, in order, only the hinted lines and the
E820 blocks they open. LAVA's logs and results, and mails, are decoded first.
"""

from __future__ import annotations

import io
import itertools
import mmap
import multiprocessing
import os
from pathlib import Path

from rig.errors import UsageError
from rig.parse import lava, mail
from rig.parse.collect import Collector, ParsedLog, parse_lines, tail_of
from rig.parse.hints import HINT_BYTES, HINT_LITERALS

#: files from this size on are scanned by several processes
PARALLEL_MIN = 32 << 20
_WORKERS = 4
_SLICE = 1 << 24


def parse_file(path: Path, tail: int = 20) -> ParsedLog:
    """Parse a file: the same result as ``parse_lines`` over its lines, found faster. The regex
    scan for hints (the costly part) runs over the mapped file in parallel slices; the parsers
    then see, in order, only the hinted lines and the E820 blocks they open."""
    c = Collector()
    size = path.stat().st_size
    if size == 0:
        return c.result(0, [])
    with open(path, "rb") as f:
        head = f.read(65536)
    if lava.looks_like_log(head):
        console, info = lava.read_log(path.read_text(encoding="utf-8", errors="replace"))
        log = parse_lines(console, tail)
        log.decoded, log.lava = "a LAVA job log: its target (console) lines", info
        return log
    if size <= lava.MAX_RESULTS and lava.looks_like_results(head):
        try:
            results = lava.read_results(path.read_text(errors="replace"))
        except lava.ResultsError as exc:
            raise UsageError(f"{path}: looks like LAVA's results.yaml, but {exc}") from None
        log = c.result(0, [])
        log.decoded, log.lava = "LAVA's results of a job (no console lines)", results
        return log
    if size <= mail.MAX_MAIL and mail.looks_like_mail(head) and \
            (text := mail.decode(path.read_bytes())) is not None:
        log = parse_lines(io.StringIO(text, newline="\n"), tail)
        log.decoded = "a mail: its text/plain parts, transfer-decoded"
        return log
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        offsets = _hinted_lines(path, mm, size)
        pos = 0  # everything before pos has been fed or skipped
        counted_to = count = 0  # newlines in mm[:counted_to]

        def feed_from(start: int) -> int:
            nonlocal counted_to, count
            count += _count_newlines(mm, counted_to, start)
            counted_to = start
            end = mm.find(b"\n", start)
            end = size if end < 0 else end + 1
            c.feed(count + 1, mm[start:end].decode("utf-8", "replace"),
                   unterminated=end == size and mm[size - 1:size] != b"\n" and start > 0)
            return end

        for start in offsets:
            if start < pos:
                continue
            pos = feed_from(start)
            while c.in_block and pos < size:
                pos = feed_from(pos)
        lines = count + _count_newlines(mm, counted_to, size)
        if mm[size - 1:size] != b"\n":
            lines += 1  # a last line without its newline
        end_text = mm[max(0, size - 65536):].decode("utf-8", "replace").split("\n")
    if end_text and end_text[-1] == "":
        end_text.pop()
    return c.result(lines, tail_of(end_text[-tail:], tail))


def _count_newlines(mm: mmap.mmap, start: int, end: int) -> int:
    count = 0
    while start < end:  # in slices, so that a long stretch never copies much at once
        stop = min(end, start + _SLICE)
        count += mm[start:stop].count(b"\n")
        start = stop
    return count


def _hinted_lines(path: Path, mm: mmap.mmap, size: int) -> list[int]:
    """Start offsets of the lines holding a hint, in order; large files in parallel slices."""
    workers = min(os.cpu_count() or 1, _WORKERS)
    if size < PARALLEL_MIN or workers < 2:
        return _scan_range(mm, 0, size)
    cuts = [0]
    for i in range(1, workers):
        nl = mm.find(b"\n", size * i // workers)
        cuts.append(size if nl < 0 else nl + 1)
    cuts.append(size)
    ranges = [(a, b) for a, b in itertools.pairwise(cuts) if b > a]
    # spawn, not fork: forking a process that may hold threads (pytest, a caller) can deadlock
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(len(ranges)) as pool:
        parts = pool.starmap(_scan_file_range, [(str(path), a, b) for a, b in ranges])
    return [off for part in parts for off in part]


def _scan_file_range(path: str, start: int, end: int) -> list[int]:
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        return _scan_range(mm, start, end)


def _scan_range(mm: mmap.mmap, start: int, end: int) -> list[int]:
    """Start offsets of the lines in [start, end) that hold a hint, in order."""
    found = [m.start() for m in HINT_BYTES.finditer(mm, start, end)]
    for literal in HINT_LITERALS:
        at = mm.find(literal, start, end)
        while at >= 0:
            found.append(at)
            at = mm.find(literal, at + 1, end)
    if len(found) > 1:
        found.sort()
    out: list[int] = []
    last = -1
    for at in found:
        nl = mm.rfind(b"\n", start, at)
        line = nl + 1 if nl >= 0 else start
        if line != last:
            out.append(line)
            last = line
    return out
