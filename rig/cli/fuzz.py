"""``rig fuzz N --seed S``: boot N random valid layouts; print every disagreement between rig's
model, the kernel and Xen, kept as a reproducer."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rig.cli import reporting
from rig.cli.options import (
    EPILOG,
    Commands,
    accel,
    count,
    given,
    image_option,
    jobs,
    machine,
    offline,
    results,
    size,
)


def add(sub: Commands) -> None:
    fz = sub.add_parser("fuzz", help="boot N random valid layouts; keep every disagreement "
                        "between rig's model, the kernel and Xen as a reproducer", epilog=EPILOG)
    fz.add_argument("count", type=count, nargs="?", metavar="N", help="how many scenarios")
    fz.add_argument("--seed", type=int, metavar="S",
                    help="the same seed gives the same scenarios (required with N)")
    fz.add_argument("--aim", action="store_true",
                    help="also draw what the plain draw misses: page-sharing neighbours, "
                         "entries across nr_pages, RAM above nr_pages starting inside a page "
                         "under max:, relative dom0_mem (the same seed without --aim draws "
                         "the same layouts as before)")
    fz.add_argument("--shard", metavar="I/N",
                    help="boot only every Nth of the N scenarios from the Ith on: N CI jobs "
                         "with the same seed boot one campaign between them")
    fz.add_argument("--replay", type=Path, metavar="DIR",
                    help="boot a kept reproducer (a folder under disagreements/) again, -n "
                         "times, and say how often it disagrees the same way")
    fz.add_argument("-n", "--times", type=count, default=3, metavar="N",
                    help="--replay: how many boots (default 3)")
    fz.add_argument("--minimise", type=Path, metavar="DIR",
                    help="shrink a kept reproducer to the smallest layout that still disagrees "
                         "the same way (one boot per try); writes DIR/minimal.toml")
    fz.add_argument("--budget", type=count, default=30, metavar="N",
                    help="--minimise: at most N boots (default 30)")
    image_option(fz, "kernel", "dom0's kernel of every layout (default 6.1; --mode pvh: 6.12)")
    image_option(fz, "xen", "Xen of every layout (default 4.17; --mode pvh: 4.20)")
    fz.add_argument("--mode", default="pv", choices=("pv", "pvh"),
                    help="how Xen builds dom0 (pvh: q35 layouts only)")
    fz.add_argument("--max-memory", type=size, default=64 << 30, metavar="SIZE",
                    help="largest guest RAM drawn (default 64G; at least 1G)")
    jobs(fz, "layouts booted")
    results(fz)
    accel(fz)
    offline(fz)
    fz.add_argument("--full", action="store_true",
                    help="boot each layout to its end (/init, the balloon); by default a fuzz "
                         "boot stops once Linux's memory setup is over (rig run --quick)")
    machine(fz)
    reporting.add(fz, junit="layout")
    fz.set_defaults(func=main)


def main(a: argparse.Namespace) -> int:
    """Exit 0 when every boot agreed with the model or disagreed only in ways rig knows and
    names, 1 otherwise."""
    from rig.errors import UsageError
    from rig.output import junit
    from rig.output.tables import matrix_table
    from rig.runner import fuzz
    from rig.runner.matrix import cells_named

    args = (["--accel", a.accel] + (["--offline"] if a.offline else [])
            + ([] if a.full else ["--quick"]))
    if a.replay is not None:
        replayed = fuzz.replay(a.replay, a.times, jobs=a.jobs, results=a.results, run_args=args)
        print(replayed.to_text())
        return 0 if replayed.same == len(replayed.runs) else 1
    if a.minimise is not None:
        return _minimise(a)
    if a.count is None or a.seed is None:
        raise UsageError("rig fuzz N --seed S (or --replay DIR): give both N and --seed")

    kernel, xen = given("kernel", a.kernel), given("xen", a.xen)
    if a.mode == "pvh":  # a PVH dom0 needs Xen 4.20 and a kernel that boots as one here
        kernel, xen = kernel or "6.12", xen or "4.20"
    reporting.check(a)
    req = fuzz.FuzzRequest(a.count, a.seed, kernel or "6.1", xen or "4.17", a.max_memory,
                           a.jobs, a.results, a.accel, a.offline, a.mode, quick=not a.full,
                           folder=reporting.output_folder(a), aim=a.aim, shard=a.shard)
    plan = fuzz.prepare(req)
    print(f"rig: fuzz seed {req.seed}: {len(plan.cells)} scenario(s), {req.jobs} at a time, "
          f"results in {plan.folder}", file=sys.stderr)
    done = fuzz.boot(plan)
    results, found = done.results or [], done.found or []
    if a.junit:
        junit.write(results, f"fuzz-{req.seed}", a.junit)
    reporting.write(a, f"rig fuzz {req.seed}", cells_named(results), junit=False)
    open_ones = [d for d in found if not d.explained]
    if a.quiet:
        print("FAIL" if open_ones else "PASS")
        return 1 if open_ones else 0
    print(matrix_table(results))
    for d in found:
        known = " (explained)" if d.explained else ""
        print(f"disagreement {d.scenario} ({d.verdict}){known}: reproduce with "
              f"`rig run {d.folder}/scenario.toml`")
        for name, status, who, message in d.checks:
            print(f"  {status.upper():<10} {name:<15} {who}: {message}")
    for sig in fuzz.signatures(found):
        known = " (explained)" if sig["explained"] else ""
        checks = sig["checks"]
        assert isinstance(checks, list)
        print(f"signature {sig['signature']}{known}: {sig['count']} layout(s), checks "
              f"{', '.join(str(c) for c in checks)}; reproducer {sig['reproducer']}")
    counts = fuzz.campaign_coverage(plan.scenarios, results)
    missing = [rule for rule, n in counts.items() if n == 0]
    print(f"coverage  {len(counts) - len(missing)} of {len(counts)} rules exercised"
          + (f"; not yet: {'; '.join(missing)}" if missing else "") + " (fuzz.json: counts)")
    print(f"fuzz      {len(results)} boot(s), {len(found)} disagreement(s), {len(open_ones)} "
          f"not explained; {plan.folder}/fuzz.json")
    return 1 if open_ones else 0


def _minimise(a: argparse.Namespace) -> int:
    """0 when the layout shrank (DIR/minimal.toml written), 1 when nothing could go."""
    from rig.runner.minimise import minimise
    from rig.runner.run import RunOptions

    def said(what: str, same: bool) -> None:
        print(f"try       {what}: {'same signature, kept' if same else 'other outcome'}",
              flush=True)

    options = RunOptions(accel=a.accel, results=a.results, offline=a.offline, quick=not a.full)
    m = minimise(a.minimise, options=options, budget=a.budget, on_try=said)
    (a.minimise / "minimal.toml").write_text(m.scenario.to_toml())
    print(f"minimised signature {m.signature} in {m.boots} boot(s): "
          + ("; ".join(m.kept) if m.kept else "nothing could go")
          + f"; {a.minimise / 'minimal.toml'}")
    return 0 if m.kept else 1
