"""``rig parse``: judge saved logs; print the documents or their summaries."""

from __future__ import annotations

import argparse
import json

from rig.cli.options import EPILOG, Commands


def add(sub: Commands) -> None:
    pa = sub.add_parser("parse", help="judge saved logs (serial, dmesg, xl dmesg, journal, mail)",
                        epilog=EPILOG)
    pa.add_argument("logs", nargs="+", metavar="LOG", help="log files, or - for stdin")
    pa.add_argument("--json", action="store_true", help="print the result document")
    pa.add_argument("--dom0-mem", metavar="X", help="dom0_mem= when the log lacks Xen's lines")
    pa.add_argument("--xen", metavar="XEN-LOG",
                    help="Xen's log of the same boot (xl dmesg, a hypervisor.log) when LOG is "
                         "dom0's kernel log alone")
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
    docs = judge_logs(a.logs, dom0_mem=a.dom0_mem, xen=a.xen)
    if a.json:
        out = docs[0].to_json() if len(docs) == 1 else [d.to_json() for d in docs]
        print(json.dumps(out, indent=2))
    else:
        print("\n\n".join(summary(d) for d in docs))
    return max(d.verdict for d in docs).exit_code
