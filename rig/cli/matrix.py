"""``rig matrix``: the cross product of the --set values, N VMs at once."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from rig.cli import reporting
from rig.cli.options import (
    EPILOG,
    Commands,
    as_sets,
    image_option,
    machine,
    many_boots,
    scenario,
    sets,
)

if TYPE_CHECKING:
    from rig.runner.matrix import MatrixRequest


def add(sub: Commands) -> None:
    mx = sub.add_parser("matrix", help="run the cross product of --set values, N VMs at once",
                        epilog=EPILOG)
    scenario(mx)
    sets(mx, "repeat a key for several values; an empty value means not set")
    image_option(mx, "kernel", "dom0's kernel, a value of --set dom0.kernel=", many=True)
    image_option(mx, "xen", "Xen, a value of --set xen.version=", many=True)
    mx.add_argument("--shard", metavar="I/N", help="run only this share of the cells")
    many_boots(mx)
    machine(mx)
    reporting.add(mx, junit="cell")
    mx.set_defaults(func=main)


def request(a: argparse.Namespace, pairs: list[str]) -> MatrixRequest:
    """What ``rig matrix`` and ``rig compare`` were asked for: ``pairs`` (their --kernel and
    --xen as scenario fields) come after --set's."""
    from rig.runner.matrix import MatrixRequest

    return MatrixRequest(a.scenario, a.set + pairs, jobs=a.jobs, shard=getattr(a, "shard", None),
                         junit=getattr(a, "junit", None), html=a.html, results=a.results,
                         accel=a.accel, offline=a.offline, timeouts=a.timeout, quick=a.quick)


def main(a: argparse.Namespace) -> int:
    from rig.output import html, junit
    from rig.output.cells import CellResult
    from rig.output.tables import matrix_table
    from rig.runner.matrix import cells_named, plan, run_matrix, worst
    from rig.runner.run import results_folder

    req = request(a, as_sets("kernel", a.kernel) + as_sets("xen", a.xen))
    reporting.check(a)
    cells, name = plan(req)
    folder = reporting.output_folder(a) or results_folder(req.results, f"matrix-{name}")
    print(f"rig: {len(cells)} cell(s), {req.jobs} at a time, results in {folder}",
          file=sys.stderr)

    def deliver(results: list[CellResult]) -> None:
        """JUnit and HTML however the matrix ends (an interrupted one's too)."""
        if req.junit:
            junit.write(results, name, req.junit)
        reporting.write(a, f"rig matrix {name}", cells_named(results), junit=False)
        if req.html:
            html.write_page([(r.name, r.doc) for r in results], req.html, f"rig matrix {name}")

    results = run_matrix(req.scenario, cells, jobs=req.jobs, results=folder,
                         run_args=req.run_args(), on_end=deliver)
    print(worst(results).label.upper() if a.quiet else matrix_table(results))
    return worst(results).exit_code
