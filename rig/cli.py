"""``rig``: command-line interface.

Exit codes: 0 pass, 1 fail / crash / incomplete, 2 usage error, 125 infrastructure error (so
``git bisect run`` skips a commit that could not be tested).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import traceback
from pathlib import Path
from types import FrameType
from typing import Any

from rig import scenario as scenarios
from rig.console import Stage
from rig.errors import Interrupted, RigError, UsageError
from rig.model import parse_version
from rig.parse import parse_file
from rig.prediction import predict_scenario
from rig.render import DEFAULT_CPU
from rig.report import prediction_summary, summary, verdict, write
from rig.run import RunOptions, render_folder, run


def _on_signal(signum: int, frame: FrameType | None) -> None:
    # turn SIGTERM into an exception so that every finally (QEMU kill, log write) runs
    raise Interrupted(signum)


def _overrides(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise UsageError(f"--set {pair!r}: expected KEY=VALUE, e.g. xen.dom0_mem=3G")
        out[key.strip()] = value
    return out


def _timeouts(pairs: list[str]) -> dict[Stage, float]:
    out = {}
    names = {s.value: s for s in Stage}
    for pair in pairs:
        key, _, value = pair.partition("=")
        if key not in names:
            raise UsageError(f"--timeout {pair!r}: unknown stage (stages: {', '.join(names)})")
        try:
            out[names[key]] = float(value)
        except ValueError:
            raise UsageError(f"--timeout {pair!r}: {value!r} is not a number of seconds") from None
    return out


def cmd_run(args: argparse.Namespace) -> int:
    s = _load(args)
    opts = RunOptions(accel=args.accel, results=args.results, keep=args.keep,
                      offline=args.offline, timeouts=_timeouts(args.timeout), cpu=args.cpu)
    doc, out_dir = run(s, opts)
    print(summary(doc))
    if args.json_out:
        write(doc, args.json_out)
    if args.html:
        _write_html([(s.name, doc)], args.html, f"rig run {s.name}")
    if args.keep and doc.get("machine"):
        import shlex
        print(f"kept      {out_dir / 'run'}")
        print("rerun     " + shlex.join(doc["machine"]["rerun"]))
    return verdict(doc).exit_code


def cmd_parse(args: argparse.Namespace) -> int:
    from rig.checks import Status
    from rig.logs import judge_logs

    docs = judge_logs(args.logs, dom0_mem=args.dom0_mem, xen=args.xen)
    if args.json:
        print(json.dumps(docs[0] if len(docs) == 1 else docs, indent=2, default=str))
    else:
        print("\n\n".join(summary(d) for d in docs))
    return max(verdict(d) for d in docs).exit_code if docs else Status.INCOMPLETE.exit_code


def _load(args: argparse.Namespace) -> scenarios.Scenario:
    overrides = _overrides(args.set)
    # --kernel/--xen: the user's own builds, shorthand for --set dom0.kernel=/xen.version=
    for flag, key in (("kernel", "dom0.kernel"), ("xen", "xen.version")):
        value = getattr(args, flag, None)
        if value:
            path = Path(value).expanduser().absolute()
            if not path.is_file():
                raise UsageError(f"--{flag} {value!r}: no such file")
            overrides[key] = str(path)
    try:
        return scenarios.load(args.scenario, overrides)
    except scenarios.ScenarioError as exc:
        raise UsageError(str(exc)) from None


def cmd_predict(args: argparse.Namespace) -> int:
    sp = predict_scenario(_load(args))
    if args.json:
        print(json.dumps(sp.to_json(), indent=2))
        return 0
    print(prediction_summary(sp))
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    s = _load(args)
    written = render_folder(s, args.output, accel=args.accel)
    for path in written:
        print(path)
    return 0


def _run_args(args: argparse.Namespace) -> list[str]:
    out = ["--accel", args.accel]
    if args.offline:
        out.append("--offline")
    for t in args.timeout:
        out += ["--timeout", t]
    return out


def _matrix_dir(args: argparse.Namespace, what: str) -> Path:
    from datetime import datetime

    from rig.run import results_base

    base = args.results or results_base()
    return (base / f"{what}-{datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}").resolve()


def cmd_matrix(args: argparse.Namespace) -> int:
    from rig import junit, matrix

    _load(args)  # validate the scenario (and the first value of each key) before any boot
    cells = matrix.expand(args.set)
    if args.shard:
        cells = matrix.shard(cells, args.shard)
    folder = _matrix_dir(args, f"matrix-{Path(args.scenario).stem}")
    print(f"rig: {len(cells)} cell(s), {args.jobs} at a time, results in {folder}",
          file=sys.stderr)
    results = matrix.run_matrix(args.scenario, cells, jobs=args.jobs, results=folder,
                                run_args=_run_args(args))
    print(matrix.table(results))
    if args.junit:
        junit.write(results, Path(args.scenario).stem, args.junit)
    if args.html:
        _write_html([(r.cell.name, r.doc) for r in results if r.doc], args.html,
                    f"rig matrix {args.scenario}")
    return matrix.worst(results).exit_code


def cmd_compare(args: argparse.Namespace) -> int:
    from rig import compare, matrix

    _load(args)
    kernels = args.kernel or [_load(args).kernel]
    variants = args.dom0_mem if args.dom0_mem is not None else list(compare.DEFAULT_VARIANTS)
    pairs = [f"dom0.kernel={k}" for k in kernels] + [f"xen.dom0_mem={v}" for v in variants]
    cells = matrix.expand(pairs)
    folder = _matrix_dir(args, f"compare-{Path(args.scenario).stem}")
    results = matrix.run_matrix(args.scenario, cells, jobs=args.jobs, results=folder,
                                run_args=_run_args(args))
    print(compare.table(results, kernels, variants))
    if args.html:
        _write_html([(r.cell.name, r.doc) for r in results if r.doc], args.html,
                    f"rig compare {args.scenario}")
    return matrix.worst(results).exit_code


def _write_html(runs: list[tuple[str, dict[str, Any] | None]], path: Path, title: str) -> None:
    from rig import html

    docs = [(name, doc) for name, doc in runs if doc is not None]
    path.write_text(html.page(docs, title, base=path.resolve().parent))
    print(f"report    {path}", file=sys.stderr)


def cmd_report(args: argparse.Namespace) -> int:
    runs = []
    for name in args.results:
        path = Path(name)
        files = sorted(path.rglob("result.json")) if path.is_dir() else [path]
        if not files:
            raise UsageError(f"{name}: no result.json there")
        for f in files:
            try:
                runs.append((str(f.parent.name), json.loads(f.read_text())))
            except (OSError, ValueError) as exc:
                raise UsageError(f"{f}: not a rig result document ({exc})") from None
    _write_html(runs, args.output, args.title)
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from rig import replay

    path = Path(args.log)
    if not path.is_file():
        raise UsageError(f"{args.log}: no such file")
    original = parse_file(path)
    kernel = str(Path(args.kernel).absolute()) if args.kernel and Path(args.kernel).is_file() \
        else (args.kernel or "6.1")
    xen = str(Path(args.xen).absolute()) if args.xen and Path(args.xen).is_file() \
        else (args.xen or "4.17")
    try:
        rp = replay.derive(original, name=f"replay-{path.stem}"[:60], dom0_mem=args.dom0_mem,
                           kernel=kernel, xen=xen)
    except (replay.ReplayError, scenarios.ScenarioError) as exc:
        raise UsageError(f"cannot replay {args.log}: {exc}") from None
    s = rp.scenario
    print(f"replay    {s.name}: pc, {s.memory // 2**20} MiB, RAM below 4 GiB to "
          f"{s.below_4g:#x}, {len(s.holes)} hole(s), dom0 {rp.nr_pages} pages")
    for note in rp.notes:
        print(f"note      {note}")
    if args.emit_scenario:
        args.emit_scenario.write_text(rp.to_toml())
        print(f"scenario  {args.emit_scenario}")
    replayed = None
    code = 0
    if not args.no_boot:
        doc, out_dir = run(s, RunOptions(accel=args.accel, results=args.results,
                                         offline=args.offline))
        (out_dir / "scenario.toml").write_text(rp.to_toml())
        print(summary(doc))
        replayed = parse_file(Path(doc["log"]))
        code = verdict(doc).exit_code
    # the kernel the replay ran (or will run); a path or src: kernel counts as the default's era
    version = replayed.linux.version if replayed and replayed.linux.version else s.kernel
    try:
        parse_version(version)
    except ValueError:
        version = "6.1"
    print(replay.fidelity(rp, replayed, version).to_text())
    return code


def cmd_kernel(args: argparse.Namespace) -> int:
    from rig import build

    if args.kernel_command == "source":
        print(build.debian_source(args.name, offline=args.offline))
        return 0
    built = build.build(Path(args.src), fragment=args.fragment, patches=args.patch,
                        jobs=args.jobs)
    how = "reused (tree unchanged)" if built.reused else f"built in {built.seconds:.0f} s"
    print(f"{built.bzimage}\t{how}" + (f"\tlog {built.log}" if built.log else ""))
    return 0


def cmd_images(args: argparse.Namespace) -> int:
    from rig import images

    store = images.Store()
    if args.images_command == "list":
        cached = store.manifest()
        print(f"{'key':<14} {'package':<36} {'version':<34} {'size':>10}  {'sha256':<16} suite")
        for key in images.recipes():
            rec = cached.get(key)
            if rec is None:
                print(f"{key:<14} {'(not fetched)':<36}")
                continue
            print(f"{key:<14} {rec.package:<36} {rec.version:<34} {rec.size:>10}  "
                  f"{rec.sha256[:16]} {rec.suite}")
        print(f"cache: {store.root}")
        return 0
    if args.images_command == "fetch":
        for key in args.keys:
            kind, sep, name = key.partition("=")
            if not sep:
                raise UsageError(f"{key!r}: expected KIND=NAME, e.g. kernel=6.12")
            art = images.fetch(kind, name, refresh=args.refresh)
            print(f"{key:<14} {art.record.package} {art.record.version} {art.path}")
        return 0
    if args.images_command == "verify":
        bad = 0
        for rec, ok in images.verify(store):
            bad += not ok
            print(f"{'ok' if ok else 'CORRUPT (removed; the next use fetches it again)':<8} "
                  f"{rec.key:<14} {rec.sha256[:16]}")
        return 1 if bad else 0
    for path in images.gc(store):
        print(f"removed {path}")
    return 0


def cmd_scenarios(args: argparse.Namespace) -> int:
    for name, path in scenarios.presets().items():
        try:
            s = scenarios.load(str(path))
            print(f"{name:<16} {s.description}")
        except scenarios.ScenarioError as exc:
            print(f"{name:<16} INVALID: {exc}")
    return 0


def _many_boots(p: argparse.ArgumentParser) -> None:
    """Options of the commands that boot many cells (matrix, compare)."""
    p.add_argument("-j", "--jobs", type=int, default=1, metavar="N")
    p.add_argument("--html", type=Path, metavar="FILE")
    p.add_argument("--results", type=Path, metavar="DIR")
    p.add_argument("--accel", default="auto", choices=("auto", "kvm", "tcg"))
    p.add_argument("--offline", action="store_true")
    p.add_argument("--timeout", action="append", default=[], metavar="STAGE=SECONDS")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rig", description=__doc__.splitlines()[0] if __doc__ else "")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="boot a scenario under QEMU and judge dom0's memory setup")
    r.add_argument("scenario", help="preset name (see `rig scenarios`) or a TOML file")
    r.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a scenario field, e.g. xen.dom0_mem=3G")
    r.add_argument("--accel", default="auto", choices=("auto", "kvm", "tcg"))
    r.add_argument("--kernel", metavar="PATH", help="your own dom0 kernel (bzImage or vmlinux)")
    r.add_argument("--xen", metavar="PATH", help="your own Xen (xen.gz or ELF)")
    r.add_argument("--json-out", type=Path, metavar="FILE", help="write the result document")
    r.add_argument("--html", type=Path, metavar="FILE", help="write an HTML report")
    r.add_argument("--results", type=Path, metavar="DIR",
                   help="where to keep logs and results (default: $RIG_RESULTS or ./rig-results)")
    r.add_argument("--keep", action="store_true",
                   help="keep the rendered files and print the QEMU command to rerun by hand")
    r.add_argument("--cpu", default=DEFAULT_CPU, metavar="MODEL",
                   help=f"QEMU CPU model (default {DEFAULT_CPU}; plain 'max' crashes dom0 "
                        "under TCG, a handy fault to test)")
    r.add_argument("--offline", action="store_true", help="never fetch: use the cache only")
    r.add_argument("--timeout", action="append", default=[], metavar="STAGE=SECONDS",
                   help="seconds allowed to reach a stage, e.g. init=600")
    r.set_defaults(func=cmd_run)

    pa = sub.add_parser("parse", help="judge saved logs (serial, dmesg, xl dmesg, journal)")
    pa.add_argument("logs", nargs="+", metavar="LOG", help="log files, or - for stdin")
    pa.add_argument("--json", action="store_true", help="print the result document")
    pa.add_argument("--dom0-mem", metavar="X", help="dom0_mem= when the log lacks Xen's lines")
    pa.add_argument("--xen", metavar="XEN-LOG",
                    help="Xen's log of the same boot (xl dmesg, a hypervisor.log) when LOG is "
                         "dom0's kernel log alone")
    pa.set_defaults(func=cmd_parse)

    pr = sub.add_parser("predict", help="what a correct kernel must do with a scenario's layout")
    pr.add_argument("scenario")
    pr.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    pr.add_argument("--json", action="store_true")
    pr.set_defaults(func=cmd_predict)

    rd = sub.add_parser("render", help="write every generated file of a scenario to a folder")
    rd.add_argument("scenario")
    rd.add_argument("-o", "--output", type=Path, required=True, metavar="DIR")
    rd.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    rd.add_argument("--accel", default="tcg", choices=("kvm", "tcg"))
    rd.set_defaults(func=cmd_render)

    mx = sub.add_parser("matrix", help="run the cross product of --set values, N VMs at once")
    mx.add_argument("scenario")
    mx.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="repeat a key for several values; an empty value means not set")
    mx.add_argument("--shard", metavar="I/N", help="run only this share of the cells")
    mx.add_argument("--junit", type=Path, metavar="FILE")
    _many_boots(mx)
    mx.set_defaults(func=cmd_matrix)

    cp = sub.add_parser("compare", help="the seed's before/after table for a layout")
    cp.add_argument("scenario")
    cp.add_argument("--kernel", action="append", metavar="KEY|PATH",
                    help="dom0 kernel (give two to compare them side by side)")
    cp.add_argument("--dom0-mem", action="append", metavar="X",
                    help="dom0_mem variants (default: none, 3G, max:3G as in the seed)")
    cp.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    _many_boots(cp)
    cp.set_defaults(func=cmd_compare)

    rp = sub.add_parser("report", help="an HTML report of result documents")
    rp.add_argument("results", nargs="+", metavar="RESULT",
                    help="result.json files or folders holding them")
    rp.add_argument("-o", "--output", type=Path, required=True, metavar="FILE")
    rp.add_argument("--title", default="rig report")
    rp.set_defaults(func=cmd_report)

    rl = sub.add_parser("replay", help="rebuild a real machine's layout from its boot log")
    rl.add_argument("log", metavar="LOG")
    rl.add_argument("--kernel", metavar="KEY|PATH", help="dom0 kernel for the replay (6.1)")
    rl.add_argument("--xen", metavar="KEY|PATH", help="Xen for the replay (4.17)")
    rl.add_argument("--dom0-mem", metavar="X", help="dom0_mem when the log lacks Xen's lines")
    rl.add_argument("--emit-scenario", type=Path, metavar="FILE", help="write the TOML")
    rl.add_argument("--no-boot", action="store_true", help="derive and report, do not boot")
    rl.add_argument("--accel", default="auto", choices=("auto", "kvm", "tcg"))
    rl.add_argument("--results", type=Path, metavar="DIR")
    rl.add_argument("--offline", action="store_true")
    rl.set_defaults(func=cmd_replay)

    kn = sub.add_parser("kernel", help="build a minimal dom0 kernel from a source tree")
    kn_sub = kn.add_subparsers(dest="kernel_command", required=True)
    kb = kn_sub.add_parser("build", help="tinyconfig + fragment, out of tree, cached by state")
    kb.add_argument("src", metavar="SRC", help="a Linux source tree")
    kb.add_argument("--fragment", type=Path, metavar="FILE",
                    help="Kconfig fragment (default: images/dom0-minimal.config)")
    kb.add_argument("--patch", type=Path, action="append", default=[], metavar="FILE",
                    help="apply to a hard-linked copy of the tree first (repeatable)")
    kb.add_argument("-j", "--jobs", type=int, default=None, metavar="N")
    ks = kn_sub.add_parser("source", help="unpack Debian's linux-source-NAME, print its path")
    ks.add_argument("name", metavar="NAME", help="6.1 or 6.12")
    ks.add_argument("--offline", action="store_true")
    kn.set_defaults(func=cmd_kernel)

    im = sub.add_parser("images", help="the artifact cache: list, fetch, verify, gc")
    im_sub = im.add_subparsers(dest="images_command", required=True)
    im_sub.add_parser("list", help="every artifact key, and what the cache holds for it")
    fe = im_sub.add_parser("fetch", help="fetch artifacts, e.g. kernel=6.12 xen=4.20")
    fe.add_argument("keys", nargs="+", metavar="KIND=NAME")
    fe.add_argument("--refresh", action="store_true", help="resolve again even when cached")
    im_sub.add_parser("verify", help="re-hash every cached artifact; exit 1 on corruption")
    im_sub.add_parser("gc", help="remove cached files nothing refers to")
    im.set_defaults(func=cmd_images)

    sc = sub.add_parser("scenarios", help="list the preset scenarios")
    sc.set_defaults(func=cmd_scenarios)
    return p


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _on_signal)
    args: Any = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except RigError as exc:
        print(f"rig: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except Exception:
        # a bug in rig, not a verdict on the kernel: 125 so that `git bisect run` skips
        traceback.print_exc()
        print("rig: internal error (the traceback above is a bug in rig; logs are kept)",
              file=sys.stderr)
        return 125
    except (KeyboardInterrupt, Interrupted) as exc:
        print(f"rig: interrupted ({exc or 'SIGINT'}); QEMU stopped, logs kept", file=sys.stderr)
        return 128 + getattr(exc, "signum", signal.SIGINT)


if __name__ == "__main__":
    sys.exit(main())
