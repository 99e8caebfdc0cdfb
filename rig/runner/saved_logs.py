"""``rig parse``: judge logs saved elsewhere (a serial capture, dmesg, ``xl dmesg``, a
journal, a mail), one document per boot.

Two files may be the two halves of one boot: dom0's kernel log and Xen's log (``--xen-log``, or
two files given together where one holds only Xen's lines and the other only the kernel's).
"""

from __future__ import annotations

import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from rig.errors import UsageError
from rig.judge.judge import judge
from rig.judge.records import Live
from rig.judge.result import Result
from rig.parse.by_grep import parse_with_grep
from rig.parse.collect import ParsedLog, combine, one_boot, parse_lines


@dataclass
class SavedLog:
    """A log given to ``rig parse``, by the name it was given as, and what it holds."""

    name: str
    log: ParsedLog


def read(name: str) -> SavedLog:
    """``-`` is standard input; a regular file is read and scanned fast; a device or pipe
    (``/dev/stdin``, ``<(xl dmesg)``) is read as a stream."""
    if name == "-":
        return SavedLog("-", parse_lines(sys.stdin))
    path = Path(name)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise UsageError(f"log {name!r}: no such file") from None
    except OSError as exc:
        raise UsageError(f"log {name!r}: cannot read it ({exc.strerror})") from None
    if stat.S_ISDIR(mode):
        raise UsageError(f"log {name!r} is a directory: give the log files in it")
    try:
        if stat.S_ISREG(mode):
            return SavedLog(name, parse_with_grep(path))
        with open(path, encoding="utf-8", errors="replace", newline="") as f:
            return SavedLog(name, parse_lines(f))
    except PermissionError:
        raise UsageError(f"log {name!r}: permission denied") from None


def judge_logs(names: list[str], *, dom0_mem: str | None = None,
               xen: str | None = None) -> list[Result]:
    """One result document per boot."""
    saved = [read(n) for n in names]
    notes: list[str] = []
    if xen is not None:
        if len(saved) != 1:
            raise UsageError(f"--xen-log {xen!r}: give exactly one dom0 log with it "
                             f"({len(saved)} given)")
        x = read(xen)
        boots = [(f"{saved[0].name} + {x.name}", combine(saved[0].log, x.log))]
        notes.append(f"Xen's lines from {x.name}, the kernel's from {saved[0].name} (--xen-log)")
    elif len(saved) == 2 and (pair := one_boot(saved[0].log, saved[1].log)) is not None:
        dom0, xen_log = pair
        by = {id(s.log): s.name for s in saved}
        boots = [(f"{by[id(dom0)]} + {by[id(xen_log)]}", combine(dom0, xen_log))]
        notes.append(f"{by[id(xen_log)]} holds only Xen's lines and {by[id(dom0)]} only the "
                     "kernel's: judged as one boot")
    else:
        boots = [(s.name, s.log) for s in saved]
    # LAVA's results.yaml beside the job's log: its results are that boot's (lavacli's are
    # complete where the log's own may end before the job did)
    results = [(n, lg) for n, lg in boots
               if lg.lava is not None and lg.lava.source == "results.yaml" and not lg.lines]
    logs = [(n, lg) for n, lg in boots if (n, lg) not in results]
    if len(results) == 1 and len(logs) == 1:
        (rname, rlog), (lname, llog) = results[0], logs[0]
        llog.lava = rlog.lava
        boots = [(f"{lname} + {rname}", llog)]
        notes.append(f"LAVA's results from {rname}, the console from {lname}")
    docs = []
    for name, log in boots:
        doc = Result.of(log, judge(log, dom0_mem=dom0_mem), live=Live(log=name))
        doc.notes = notes
        docs.append(doc)
    return docs
