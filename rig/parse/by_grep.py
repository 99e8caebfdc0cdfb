"""``parse_with_grep``: rig.parse.scan's ``parse_file`` with grep as the hint scan of a large
file.

rig.parse.scan's own scan is Python's regex: ~20 MB/s, most of a large file's parse. grep -E
runs the same hints at memory speed, and as a process of its own it scans on the other core
while the parsers read what it found. This is the parse layer's one process, and the one
import of subprocess the purity contract allows in the pure layers (pyproject.toml names it):
grep reads a file and writes lines, no machine is driven, and tests/unit/test_corpus.py holds
its lines to the Python scan's.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from rig.errors import RigError
from rig.parse import scan
from rig.parse.collect import ParsedLog
from rig.parse.hints import HINTS

#: from this size on a file is scanned by grep: below it, starting grep costs more than the
#: scan (~50 ms per MB in Python)
GREP_MIN = 1 << 20


def parse_with_grep(path: Path, tail: int = 20) -> ParsedLog:
    """``scan.parse_file``, its hint scan grep's from GREP_MIN on (when GNU grep is here)."""
    return scan.parse_file(path, tail, hinted)


def hinted(path: Path, data: bytes, size: int) -> Iterator[scan.Hinted]:
    grep = gnu_grep() if size >= GREP_MIN else None
    return grep_scan(grep, path) if grep else scan.python_scan(path, data, size)


@functools.cache
def gnu_grep() -> str | None:
    """GNU grep, whose -b and -a rig relies on (busybox's grep has no -b): else the Python
    scan is used."""
    grep = shutil.which("grep")
    if grep is None:
        return None
    try:
        version = subprocess.run([grep, "--version"], capture_output=True, text=True,
                                 timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    return grep if "GNU grep" in version else None


def grep_scan(grep: str, path: Path) -> Iterator[scan.Hinted]:
    """grep's ``-n -b`` lines ("number:offset:text") as they come. Bytes in the C locale: no
    encoding error can hide a line. The hints are ERE as they are Python regex
    (tests/unit/test_corpus.py holds both scans to the same lines)."""
    argv = [grep, "-a", "-n", "-b", "-E", "-e", "|".join(HINTS), "--", str(path)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, env={**os.environ, "LC_ALL": "C"},
                            bufsize=1 << 20)
    assert proc.stdout is not None and proc.stderr is not None
    try:
        for line in proc.stdout:
            i = line.index(b":")
            j = line.index(b":", i + 1)
            yield int(line[:i]), int(line[i + 1:j]), line[j + 1:].removesuffix(b"\n")
        err = proc.stderr.read()
        code = proc.wait()
        if code not in (0, 1):  # 1: no line matched; a signal (OOM, kill) is negative
            raise RigError(f"{path}: grep could not scan it (exit {code}): "
                           f"{err.decode(errors='replace').strip()}", command=argv)
    finally:
        if proc.poll() is None:  # the reader stopped early
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
