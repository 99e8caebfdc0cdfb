"""``rig compare``: the seed's before/after table for a layout."""

from __future__ import annotations

import argparse
import sys

from rig.cli import matrix, reporting
from rig.cli.options import (
    EPILOG,
    Commands,
    all_given,
    as_sets,
    image_option,
    machine,
    many_boots,
    scenario,
    sets,
)


def add(sub: Commands) -> None:
    cp = sub.add_parser("compare", help="the seed's before/after table for a layout",
                        epilog=EPILOG)
    scenario(cp)
    image_option(cp, "kernel", "dom0's kernel (give two to compare them side by side; "
                 "default: the scenario's)", many=True)
    image_option(cp, "xen", "Xen of every cell (default: the scenario's)")
    cp.add_argument("--dom0-mem", action="append", metavar="X",
                    help="dom0_mem variants (default: none, 3G, max:3G as in the seed)")
    sets(cp, "override a scenario field in every cell")
    many_boots(cp)
    machine(cp)
    reporting.add(cp, junit="cell")
    cp.set_defaults(func=main)


def main(a: argparse.Namespace) -> int:
    from rig.output import html, junit
    from rig.output.cells import CellResult
    from rig.output.tables import compare_table
    from rig.runner.compare import plan_comparison
    from rig.runner.matrix import cells_named, run_matrix, worst
    from rig.runner.run import results_folder

    req = matrix.request(a, as_sets("xen", a.xen))
    reporting.check(a)
    comparison = plan_comparison(req, all_given("kernel", a.kernel), a.dom0_mem)
    name = comparison.name
    folder = reporting.output_folder(a) or results_folder(req.results, f"compare-{name}")
    print(f"rig: {len(comparison.cells)} cell(s), {req.jobs} at a time, results in {folder}",
          file=sys.stderr)

    def deliver(results: list[CellResult]) -> None:
        if a.junit:
            junit.write(results, name, a.junit)
        reporting.write(a, f"rig compare {name}", cells_named(results), junit=False)
        if req.html:  # however the comparison ends
            html.write_page([(r.name, r.doc) for r in results], req.html, f"rig compare {name}")

    results = run_matrix(req.scenario, comparison.cells, jobs=req.jobs, results=folder,
                         run_args=req.run_args(), on_end=deliver)
    print(worst(results).label.upper() if a.quiet else
          compare_table(results, comparison.kernels, comparison.variants))
    return worst(results).exit_code
