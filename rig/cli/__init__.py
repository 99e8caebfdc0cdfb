"""rig's command line: argparse, then one call into the module that does the work.

Exit codes (rig.errors): 0 pass, 1 fail / crash / incomplete, 2 usage error, 125 infrastructure
error (``git bisect run`` skips the commit).
"""

from __future__ import annotations

import argparse
import signal
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

from rig.errors import USAGE_EXIT, Interrupted, RigError
from rig.machine.render import DEFAULT_CPU

DESCRIPTION = ("rig: reproduce Xen dom0 memory layouts under QEMU and judge what the Linux "
               "kernel does with them")
EPILOG = ("exit codes: 0 pass, 1 fail / crash / incomplete, 2 usage error, 125 infrastructure "
          "error (git bisect run skips the commit)")


def _on_signal(signum: int, frame: FrameType | None) -> None:
    # turn SIGTERM into an exception so that every finally (QEMU kill, log write) runs
    raise Interrupted(signum)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """argparse's own errors: the usage line and the message, exit 2 (the contract)."""
        self.print_usage(sys.stderr)
        self.exit(USAGE_EXIT, f"rig: error: {message}\n")


def _count(text: str) -> int:
    """A positive whole number (-j): 0 or a negative count is refused by argparse."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: must be at least 1")
    return value


def _size(text: str) -> int:
    """A size of at least 1 GiB (--max-memory)."""
    from rig.domain.e820 import parse_size

    try:
        value = parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: {exc}") from None
    if value < 1 << 30:
        raise argparse.ArgumentTypeError(f"{text!r}: at least 1G")
    return value


# -- the commands: each one call --------------------------------------------------------------

def cmd_run(a: Any) -> int:
    from rig.machine.console import parse_timeouts
    from rig.runner.run import RunOptions, RunRequest, main_run

    options = RunOptions(accel=a.accel, results=a.results, keep=a.keep, offline=a.offline,
                         timeouts=parse_timeouts(a.timeout), cpu=a.cpu)
    return main_run(RunRequest(a.scenario, a.set, options, a.kernel, a.xen, a.json_out, a.html))


def cmd_parse(a: Any) -> int:
    from rig.runner.saved_logs import main_parse

    return main_parse(a.logs, dom0_mem=a.dom0_mem, xen=a.xen, as_json=a.json)


def cmd_predict(a: Any) -> int:
    from rig.model.prediction import main_predict

    return main_predict(a.scenario, a.set, a.json)


def cmd_render(a: Any) -> int:
    from rig.runner.run import main_render

    return main_render(a.scenario, a.set, a.output, a.accel)


def _matrix_request(a: Any) -> Any:
    from rig.runner.matrix import MatrixRequest

    return MatrixRequest(a.scenario, a.set, jobs=a.jobs, shard=getattr(a, "shard", None),
                         junit=getattr(a, "junit", None), html=a.html, results=a.results,
                         accel=a.accel, offline=a.offline, timeouts=a.timeout)


def cmd_matrix(a: Any) -> int:
    from rig.runner.matrix import main_matrix

    return main_matrix(_matrix_request(a))


def cmd_compare(a: Any) -> int:
    from rig.runner.compare import main_compare

    return main_compare(_matrix_request(a), a.kernel or [], a.dom0_mem)


def cmd_report(a: Any) -> int:
    from rig.output.html import main_report

    return main_report(a.results, a.output, a.title)


def cmd_replay(a: Any) -> int:
    from rig.runner.replay import ReplayRequest, main_replay

    return main_replay(ReplayRequest(a.log, a.kernel, a.xen, a.dom0_mem, a.emit_scenario,
                                     a.no_boot, a.accel, a.results, a.offline, a.json_out))


def cmd_fuzz(a: Any) -> int:
    from rig.runner.fuzz import FuzzRequest, main_fuzz

    kernel, xen = a.kernel, a.xen
    if a.mode == "pvh":  # a PVH dom0 needs Xen 4.20 and a kernel that boots as one here
        kernel, xen = kernel or "6.12", xen or "4.20"
    return main_fuzz(FuzzRequest(a.count, a.seed, kernel or "6.1", xen or "4.17", a.max_memory,
                                 a.jobs, a.results, a.accel, a.offline, a.mode))


def cmd_lava_job(a: Any) -> int:
    from rig.runner.lava_job import main_lava_job

    return main_lava_job(a.scenario, a.set, a.output, a.artifact_url, a.kvm, a.offline)


def cmd_kernel_build(a: Any) -> int:
    from rig.machine.build import main_build

    return main_build(a.src, fragment=a.fragment, patches=a.patch, jobs=a.jobs)


def cmd_kernel_source(a: Any) -> int:
    from rig.machine.build import main_source

    return main_source(a.name, a.offline)


def cmd_images(a: Any) -> int:
    from rig.machine.images import commands

    actions: dict[str, Callable[[], int]] = {
        "list": commands.main_list,
        "fetch": lambda: commands.main_fetch(a.keys, a.refresh),
        "verify": commands.main_verify,
        "gc": commands.main_gc,
    }
    return actions[a.images_command]()


def cmd_scenarios(a: Any) -> int:
    from rig.domain.scenario import main_scenarios

    return main_scenarios()


# -- the parser ---------------------------------------------------------------------------------

def _sets(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help=what)


def _many_boots(p: argparse.ArgumentParser) -> None:
    """Options of the commands that boot many cells (matrix, compare)."""
    p.add_argument("-j", "--jobs", type=_count, default=1, metavar="N",
                   help="cells at once (at least 1)")
    p.add_argument("--html", type=Path, metavar="FILE")
    p.add_argument("--results", type=Path, metavar="DIR")
    p.add_argument("--accel", default="auto", choices=("auto", "kvm", "tcg"))
    p.add_argument("--offline", action="store_true")
    p.add_argument("--timeout", action="append", default=[], metavar="STAGE=SECONDS")


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="rig", description=DESCRIPTION, epilog=EPILOG)
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    r = sub.add_parser("run", help="boot a scenario under QEMU and judge dom0's memory setup",
                       epilog=EPILOG)
    r.add_argument("scenario", help="preset name (see `rig scenarios`) or a TOML file")
    _sets(r, "override a scenario field, e.g. xen.dom0_mem=3G")
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
                   help="seconds allowed to reach a stage: xen, dom0-build, linux, init, done, "
                        "xen-query (e.g. init=600)")
    r.set_defaults(func=cmd_run)

    pa = sub.add_parser("parse", help="judge saved logs (serial, dmesg, xl dmesg, journal, mail)",
                        epilog=EPILOG)
    pa.add_argument("logs", nargs="+", metavar="LOG", help="log files, or - for stdin")
    pa.add_argument("--json", action="store_true", help="print the result document")
    pa.add_argument("--dom0-mem", metavar="X", help="dom0_mem= when the log lacks Xen's lines")
    pa.add_argument("--xen", metavar="XEN-LOG",
                    help="Xen's log of the same boot (xl dmesg, a hypervisor.log) when LOG is "
                         "dom0's kernel log alone")
    pa.set_defaults(func=cmd_parse)

    pr = sub.add_parser("predict", help="what a correct kernel must do with a scenario's layout")
    pr.add_argument("scenario")
    _sets(pr, "override a scenario field")
    pr.add_argument("--json", action="store_true")
    pr.set_defaults(func=cmd_predict)

    rd = sub.add_parser("render", help="write every generated file of a scenario to a folder")
    rd.add_argument("scenario")
    rd.add_argument("-o", "--output", type=Path, required=True, metavar="DIR")
    _sets(rd, "override a scenario field")
    rd.add_argument("--accel", default="tcg", choices=("kvm", "tcg"))
    rd.set_defaults(func=cmd_render)

    mx = sub.add_parser("matrix", help="run the cross product of --set values, N VMs at once",
                        epilog=EPILOG)
    mx.add_argument("scenario")
    _sets(mx, "repeat a key for several values; an empty value means not set")
    mx.add_argument("--shard", metavar="I/N", help="run only this share of the cells")
    mx.add_argument("--junit", type=Path, metavar="FILE")
    _many_boots(mx)
    mx.set_defaults(func=cmd_matrix)

    cp = sub.add_parser("compare", help="the seed's before/after table for a layout",
                        epilog=EPILOG)
    cp.add_argument("scenario")
    cp.add_argument("--kernel", action="append", metavar="KEY|PATH",
                    help="dom0 kernel (give two to compare them side by side)")
    cp.add_argument("--dom0-mem", action="append", metavar="X",
                    help="dom0_mem variants (default: none, 3G, max:3G as in the seed)")
    _sets(cp, "override a scenario field in every cell")
    _many_boots(cp)
    cp.set_defaults(func=cmd_compare)

    rp = sub.add_parser("report", help="an HTML report of result documents")
    rp.add_argument("results", nargs="+", metavar="RESULT",
                    help="result.json files or folders holding them")
    rp.add_argument("-o", "--output", type=Path, required=True, metavar="FILE")
    rp.add_argument("--title", default="rig report")
    rp.set_defaults(func=cmd_report)

    rl = sub.add_parser("replay", help="rebuild a real machine's layout from its boot log",
                        epilog=EPILOG)
    rl.add_argument("log", metavar="LOG")
    rl.add_argument("--kernel", metavar="KEY|PATH", help="dom0 kernel for the replay (6.1)")
    rl.add_argument("--xen", metavar="KEY|PATH", help="Xen for the replay (4.17)")
    rl.add_argument("--dom0-mem", metavar="X", help="dom0_mem when the log lacks Xen's lines")
    rl.add_argument("--emit-scenario", type=Path, metavar="FILE", help="write the TOML")
    rl.add_argument("--no-boot", action="store_true", help="derive and report, do not boot")
    rl.add_argument("--json-out", type=Path, metavar="FILE",
                    help="write the replay document (scenario, notes, fidelity, the boot's result)")
    rl.add_argument("--accel", default="auto", choices=("auto", "kvm", "tcg"))
    rl.add_argument("--results", type=Path, metavar="DIR")
    rl.add_argument("--offline", action="store_true")
    rl.set_defaults(func=cmd_replay)

    fz = sub.add_parser("fuzz", help="boot N random valid layouts; keep every disagreement "
                        "between rig's model, the kernel and Xen as a reproducer", epilog=EPILOG)
    fz.add_argument("count", type=_count, metavar="N", help="how many scenarios")
    fz.add_argument("--seed", type=int, required=True, metavar="S",
                    help="the same seed gives the same scenarios")
    fz.add_argument("--kernel", metavar="KEY|PATH|src:TREE", help="default 6.1 (PV), 6.12 (PVH)")
    fz.add_argument("--xen", metavar="KEY|PATH", help="default 4.17 (PV), 4.20 (PVH)")
    fz.add_argument("--mode", default="pv", choices=("pv", "pvh"),
                    help="how Xen builds dom0 (pvh: q35 layouts only)")
    fz.add_argument("--max-memory", type=_size, default=64 << 30, metavar="SIZE",
                    help="largest guest RAM drawn (default 64G; at least 1G)")
    fz.add_argument("-j", "--jobs", type=_count, default=1, metavar="N")
    fz.add_argument("--results", type=Path, metavar="DIR")
    fz.add_argument("--accel", default="auto", choices=("auto", "kvm", "tcg"))
    fz.add_argument("--offline", action="store_true")
    fz.set_defaults(func=cmd_fuzz)

    lv = sub.add_parser("lava", help="LAVA (KernelCI's labs): a job that boots a scenario")
    lv_sub = lv.add_subparsers(dest="lava_command", required=True, parser_class=_Parser)
    lj = lv_sub.add_parser("job", help="render a scenario's files and write a LAVA job for a "
                           "qemu device (and a device dictionary to run it here with lava-run)",
                           epilog=EPILOG)
    lj.add_argument("scenario")
    _sets(lj, "override a scenario field")
    lj.add_argument("-o", "--output", type=Path, required=True, metavar="DIR",
                    help="the folder for the files, job.yaml and device.yaml")
    lj.add_argument("--artifact-url", metavar="BASE",
                    help="where the lab will download the files from (default: file:// DIR)")
    lj.add_argument("--kvm", action="store_true", help="for a lab whose devices have KVM")
    lj.add_argument("--offline", action="store_true")
    lj.set_defaults(func=cmd_lava_job)

    kn = sub.add_parser("kernel", help="build a minimal dom0 kernel from a source tree")
    kn_sub = kn.add_subparsers(dest="kernel_command", required=True, parser_class=_Parser)
    kb = kn_sub.add_parser("build", help="tinyconfig + fragment, out of tree, cached by state")
    kb.add_argument("src", metavar="SRC", help="a Linux source tree")
    kb.add_argument("--fragment", type=Path, metavar="FILE",
                    help="Kconfig fragment (default: images/dom0-minimal.config)")
    kb.add_argument("--patch", type=Path, action="append", default=[], metavar="FILE",
                    help="apply to a hard-linked copy of the tree first (repeatable)")
    kb.add_argument("-j", "--jobs", type=_count, default=None, metavar="N")
    kb.set_defaults(func=cmd_kernel_build)
    ks = kn_sub.add_parser("source", help="unpack Debian's linux-source-NAME, print its path")
    ks.add_argument("name", metavar="NAME", help="6.1 or 6.12")
    ks.add_argument("--offline", action="store_true")
    ks.set_defaults(func=cmd_kernel_source)

    im = sub.add_parser("images", help="the artifact cache: list, fetch, verify, gc")
    im_sub = im.add_subparsers(dest="images_command", required=True, parser_class=_Parser)
    im_sub.add_parser("list", help="every artifact key, and what the cache holds for it")
    fe = im_sub.add_parser("fetch", help="fetch artifacts, e.g. kernel=6.12 xen=4.20")
    fe.add_argument("keys", nargs="+", metavar="KIND=NAME")
    fe.add_argument("--refresh", action="store_true", help="resolve again even when cached")
    im_sub.add_parser("verify", help="re-hash every cached artifact; exit 125 on corruption")
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
