"""``parse_file``: a file read as ``parse_lines`` reads its lines, found faster.

A scan finds the lines that hold a hint (rig.parse.hints): Python's regex here, grep for a
large file (rig.parse.by_grep hands it in: the parse layer's one process, kept out of this
module). The
parsers then see, in order, only those lines and the lines of the blocks they open (an E820
map, a message that may go on); every other line is counted, never decoded. LAVA's logs and
results, and mails, are decoded first.

A log of several boots is judged by its last (rig.parse.collect). Once the last Xen banner that
begins a boot is found (from the file's end, at memory speed), the lines before it are the
boots before: of those only the lines they need (rig.parse.hints.EARLIER_BOOT: their markers
and crash lines) are fed, with the same result as feeding them all.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

from rig.errors import RigError, UsageError
from rig.parse import encoding, lava, mail
from rig.parse.collect import Collector, ParsedLog, parse_lines, tail_of, xen_banner
from rig.parse.hints import EARLIER_BOOT, HINT_BYTES, HINT_LITERALS
from rig.parse.lines import split

_SLICE = 1 << 24

#: a hinted line: its number (1-based), the offset it starts at, and its bytes without "\n"
Hinted = tuple[int, int, bytes]
#: finds a file's hinted lines, in order: (path, its bytes, their size) -> lines
Scanner = Callable[[Path, bytes, int], Iterator[Hinted]]


def parse_file(path: Path, tail: int = 20, scan: Scanner | None = None) -> ParsedLog:
    """Parse a file: the same result as ``parse_lines`` over its lines, found faster.
    ``scan`` finds the hinted lines of a plain file (default: ``python_scan``).

    The file is read into memory, never mapped: a log truncated while it is read (logrotate's
    copytruncate) would kill a mapping's reader with SIGBUS. A compressed or UTF-16 log is
    unpacked first (rig.parse.encoding)."""
    with open(path, "rb") as f:
        data = f.read()
    form = encoding.sniff(data[:8])
    if form is not encoding.Form.PLAIN:
        data = encoding.utf8(str(path), data, form)
        scan = None  # a scan of the file on disk would see the packed bytes
    log = parse_bytes(path, data, tail, scan)
    if scan is not None and (now := path.stat().st_size) < len(data):
        # the scan read the file again: what it found may be of other bytes than rig's
        raise RigError(f"{path} shrank from {len(data)} to {now} bytes while rig read it (a "
                       "log rotated with copytruncate?): judge a copy of it")
    if form is not encoding.Form.PLAIN:
        log.decoded = f"a {form} file, unpacked" if form in _PACKED else f"{form} text"
    return log


_PACKED = (encoding.Form.GZIP, encoding.Form.XZ, encoding.Form.BZIP2)


def parse_bytes(path: Path, data: bytes, tail: int = 20, scan: Scanner | None = None
                ) -> ParsedLog:
    """``parse_file`` of a file's bytes (``path`` names it in messages and for ``scan``)."""
    c = Collector()
    size = len(data)
    if size == 0:
        return c.result(0, [])
    head = data[:65536]
    if lava.looks_like_log(head):
        console, info = lava.read_log(data.decode("utf-8", errors="replace"))
        log = parse_lines(console, tail)
        log.decoded, log.lava = "a LAVA job log: its target (console) lines", info
        return log
    if size <= lava.MAX_RESULTS and lava.looks_like_results(head):
        try:
            results = lava.read_results(data.decode(errors="replace"))
        except lava.ResultsError as exc:
            raise UsageError(f"{path}: looks like LAVA's results.yaml, but {exc}") from None
        log = c.result(0, [])
        log.decoded, log.lava = "LAVA's results of a job (no console lines)", results
        return log
    if size <= mail.MAX_MAIL and mail.looks_like_mail(head) and \
            (text := mail.decode(data)) is not None:
        log = parse_lines(io.StringIO(text, newline="\n"), tail)
        log.decoded = "a mail: its text/plain parts, transfer-decoded"
        return log
    lines, rest = feed_hinted(c, data, (scan or python_scan)(path, data, size), size,
                               last_boot_start(data, size))
    if rest < size:  # the lines after the last one fed: only counted
        lines += _count_newlines(data, rest, size)
        if data[size - 1:size] != b"\n":
            lines += 1  # a last line without its newline
    end_text = data[max(0, size - 65536):].decode("utf-8", "replace").split("\n")
    if end_text and end_text[-1] == "":
        end_text.pop()
    return c.result(lines, tail_of(end_text[-tail:], tail))


def last_boot_start(data: bytes, size: int) -> int:
    """Where the line of the log's last Xen banner begins, when a banner comes before it (so
    that it begins a boot of its own); else 0."""
    last = _banner_before(data, size)
    if last is None or _banner_before(data, last) is None:
        return 0
    return last


def _banner_before(data: bytes, end: int) -> int | None:
    """The start of the last line before ``end`` that holds Xen's banner (Linux prints "Xen
    version: " too, and a line may quote it: each is read as the parsers read it)."""
    while (at := data.rfind(b"Xen version ", 0, end)) >= 0:
        start = data.rfind(b"\n", 0, at) + 1
        stop = data.find(b"\n", at)
        text = data[start:stop if stop >= 0 else len(data)].decode("utf-8", "replace")
        if any(xen_banner(ln) for ln in split(0, text)):
            return start
        end = start
    return None


def feed_hinted(c: Collector, data: bytes, hinted: Iterator[Hinted], size: int,
                 last_boot: int = 0) -> tuple[int, int]:
    """Feed the hinted lines, and after each the lines of the block it opens (an E820 map, a
    message that may go on); before ``last_boot`` (the offset where the log's last boot
    begins) only those an earlier boot needs. The number of the last line fed and the offset
    after it (past the file's end when that line had no line end). Public: scripts/bench_scan.py
    times it."""
    pos = 0  # everything before pos has been fed or skipped
    no = 0  # the number of the line that ends at pos (0: none yet)
    terminated = data[size - 1:size] == b"\n"

    def feed(line_no: int, start: int, body: bytes) -> int:
        end = start + len(body)  # where its "\n" is (or the file's end)
        last = end >= size
        # without its line end: the collector reads a line without it (its rstrip("\r\n"))
        c.feed(line_no, body.decode("utf-8", "replace"),
               unterminated=last and not terminated and start > 0)
        return end + 1

    for line_no, start, body in hinted:
        if start >= size:
            break  # the file grew after it was mapped: its end then is the log's
        if start < pos:
            continue  # fed already, inside a block
        if start < last_boot and EARLIER_BOOT.search(body) is None:
            continue  # of a boot before the last: read only for its start and crash lines
        pos, no = feed(line_no, start, body), line_no
        while c.in_block and pos < size:
            nl = data.find(b"\n", pos)
            end = size if nl < 0 else nl
            pos, no = feed(no + 1, pos, data[pos:end]), no + 1
    return no, pos


def _count_newlines(data: bytes, start: int, end: int) -> int:
    count = 0
    while start < end:  # in slices, so that a long stretch never copies much at once
        stop = min(end, start + _SLICE)
        count += data[start:stop].count(b"\n")
        start = stop
    return count


def python_scan(path: Path, data: bytes, size: int) -> Iterator[Hinted]:
    """The lines holding a hint, in order, found by Python's regex (rig.parse.hints). For a
    large file rig.parse.by_grep hands grep's scan in instead: same lines, at grep's speed."""
    no = counted_to = 0  # newlines in data[:counted_to]
    for start in _scan_range(data, 0, size):
        no += _count_newlines(data, counted_to, start)
        counted_to = start
        end = data.find(b"\n", start)
        yield no + 1, start, data[start:size if end < 0 else end]


def _scan_range(data: bytes, start: int, end: int) -> list[int]:
    """Start offsets of the lines in [start, end) that hold a hint, in order."""
    found = [m.start() for m in HINT_BYTES.finditer(data, start, end)]
    for literal in HINT_LITERALS:
        at = data.find(literal, start, end)
        while at >= 0:
            found.append(at)
            at = data.find(literal, at + 1, end)
    if len(found) > 1:
        found.sort()
    out: list[int] = []
    last = -1
    for at in found:
        nl = data.rfind(b"\n", start, at)
        line = nl + 1 if nl >= 0 else start
        if line != last:
            out.append(line)
            last = line
    return out
