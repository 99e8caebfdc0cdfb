"""``rig parse``: judge saved logs; print the documents or their summaries."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from rig.cli import reporting
from rig.cli.options import EPILOG, Commands

if TYPE_CHECKING:
    from rig.judge.result import Result


def add(sub: Commands) -> None:
    pa = sub.add_parser("parse", help="judge saved logs (serial, dmesg, xl dmesg, journal, mail)",
                        epilog=EPILOG)
    pa.add_argument("logs", nargs="+", metavar="LOG", help="log files, or - for stdin")
    pa.add_argument("--json", action="store_true", help="print the result document")
    pa.add_argument("--dom0-mem", metavar="X", help="dom0_mem= when the log lacks Xen's lines")
    pa.add_argument("--xen-log", "--xen", dest="xen", metavar="XEN-LOG",
                    help="Xen's log of the same boot (xl dmesg, a hypervisor.log) when LOG is "
                         "dom0's kernel log alone (--xen, its old name, names an image "
                         "elsewhere)")
    reporting.add(pa)
    pa.set_defaults(func=main)


def main(a: argparse.Namespace) -> int:
    """The worst verdict's exit code."""
    from rig.domain.dom0mem import Dom0Mem
    from rig.errors import UsageError
    from rig.output.summary import summary
    from rig.runner.saved_logs import judge_logs

    if a.dom0_mem is not None:
        try:
            Dom0Mem.parse(a.dom0_mem)
        except ValueError as exc:
            raise UsageError(f"--dom0-mem {a.dom0_mem!r}: {exc}") from None
    reporting.check(a)
    out = reporting.output_folder(a)
    docs = judge_logs(a.logs, dom0_mem=a.dom0_mem, xen=a.xen)
    named = _named(a.logs, docs)
    reporting.write(a, "rig parse", named)
    if out is not None:
        _keep(out, a.logs, named)
    if a.json:
        shown = docs[0].to_json() if len(docs) == 1 else [d.to_json() for d in docs]
        print(json.dumps(shown, indent=2))
    else:
        print("\n\n".join(summary(d) for d in docs))
    return max(d.verdict for d in docs).exit_code


def _named(logs: list[str], docs: list[Result]) -> list[tuple[str, Result]]:
    """Each result under its log's file name (numbered where two names are the same); logs
    judged as one (a console log and LAVA's results of its job) under the first's name."""
    names = [Path(log).name if log != "-" else "stdin" for log in logs]
    if len(docs) != len(names):
        names = [names[0]] if len(docs) == 1 else [f"log-{i}" for i in range(1, len(docs) + 1)]
    return [(n if names.count(n) == 1 else f"{i}-{n}", d)
            for i, (n, d) in enumerate(zip(names, docs, strict=True), 1)]


def _keep(out: Path, logs: list[str], named: list[tuple[str, Result]]) -> None:
    """``--output DIR``: the log and its result under fixed names (one log: in DIR; several:
    a folder per log; logs judged as one: each log by its own name beside one result)."""
    from rig.judge.result import write

    if len(logs) != len(named):
        for log in logs:
            if log != "-":
                shutil.copyfile(log, out / Path(log).name)
        for name, doc in named:
            write(doc, out / ("result.json" if len(named) == 1 else f"{name}.json"))
        return
    for log, (name, doc) in zip(logs, named, strict=True):
        where = out if len(logs) == 1 else out / name
        where.mkdir(exist_ok=True)
        if log != "-":
            shutil.copyfile(log, where / "console.log")
        write(doc, where / "result.json")
