"""``rig report``: result documents into one self-contained HTML page."""

from __future__ import annotations

import argparse
from pathlib import Path

from rig.cli.options import Commands


def add(sub: Commands) -> None:
    rp = sub.add_parser("report", help="an HTML report of result documents")
    rp.add_argument("results", nargs="+", metavar="RESULT",
                    help="result.json files or folders holding them")
    rp.add_argument("-o", "--output", type=Path, required=True, metavar="FILE",
                    help="the HTML page to write")
    rp.add_argument("--title", default="rig report", help="the page's title (default: rig "
                    "report)")
    rp.set_defaults(func=main)


def main(a: argparse.Namespace) -> int:
    """result.json files, or folders holding them, into one page."""
    from rig.errors import UsageError
    from rig.judge.result import Result, load
    from rig.output.html import write_page
    from rig.output.paths import check_output

    check_output(a.output, "-o")
    runs: list[tuple[str, Result | None]] = []
    for name in a.results:
        path = Path(name)
        files = sorted(path.rglob("result.json")) if path.is_dir() else [path]
        if not files:
            raise UsageError(f"{name}: no result.json there")
        runs += [(f.parent.name, load(f)) for f in files]
    write_page(runs, a.output, a.title)
    return 0
