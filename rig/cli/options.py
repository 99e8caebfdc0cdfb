"""Options several commands share, and argparse's types for rig's values."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Literal, NoReturn, TypeAlias

from rig.domain.units import parse_size
from rig.errors import USAGE_EXIT, UsageError

ACCELS = ("auto", "kvm", "tcg")
EPILOG = ("exit codes: 0 pass, 1 fail / crash / incomplete, 2 usage error, 125 infrastructure "
          "error (git bisect run skips the commit). environment: RIG_CACHE (artifacts, builds; "
          "default ~/.cache/rig), RIG_RESULTS (logs and results; default ./rig-results), "
          "RIG_QEMU (the QEMU to run; default qemu-system-x86_64 on PATH), RIG_APT_SOURCES (a "
          "deb822 file of apt sources, on hosts without Debian's archive)")


#: a usage error while ``git bisect run`` drives rig: any code above 127 aborts the bisect,
#: where 2 would mark the commit bad (a misspelt scenario "finding" the first commit)
BISECT_ABORT_EXIT = 128


def bisecting(start: Path | None = None) -> bool:
    """A git bisect is in progress in the repository (or worktree) holding the current
    folder: its git dir holds BISECT_START."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        dot = folder / ".git"
        if dot.is_dir():
            return (dot / "BISECT_START").exists()
        if dot.is_file():
            text = dot.read_text(errors="replace").strip()
            if text.startswith("gitdir:"):
                gitdir = (folder / text.removeprefix("gitdir:").strip()).resolve()
                return (gitdir / "BISECT_START").exists()
            return False
    return False


def usage_exit() -> int:
    """2, or BISECT_ABORT_EXIT while a git bisect is in progress here: `git bisect run`
    must stop on the user's mistake, not blame a commit for it."""
    try:
        return BISECT_ABORT_EXIT if bisecting() else USAGE_EXIT
    except OSError:
        return USAGE_EXIT


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """argparse's own errors: the usage line and the message, exit 2 (the contract; 128
        under git bisect run, which aborts on it)."""
        self.print_usage(sys.stderr)
        self.exit(usage_exit(), f"rig: error: {message}\n")


#: what each command module's ``add`` gets: the subparsers of ``rig`` or of a command group
Commands: TypeAlias = "argparse._SubParsersAction[Parser]"


def count(text: str) -> int:
    """A positive whole number (-j): 0 or a negative count is refused by argparse."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: must be at least 1")
    return value


def size(text: str) -> int:
    """A size of at least 1 GiB (--max-memory)."""
    try:
        value = parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: {exc}") from None
    if value < 1 << 30:
        raise argparse.ArgumentTypeError(f"{text!r}: at least 1G")
    return value


#: what --kernel and --xen name
ImageKind: TypeAlias = Literal["kernel", "xen"]
#: their one grammar (image()) in every command, and how its help says it
KERNEL_METAVAR = "KEY|PATH|src:TREE[@REF]"
XEN_METAVAR = "KEY|PATH"
FORMS: dict[ImageKind, tuple[str, str]] = {
    "kernel": (KERNEL_METAVAR, "a key (6.1, 6.12, 7.2, sid: rig images list), a bzImage or "
                               "vmlinux whose config is found beside it, src:TREE (the tree as "
                               "it is, built here) or src:TREE@REF (that commit built in a "
                               "worktree of rig's, the tree untouched)"),
    "xen": (XEN_METAVAR, "a key (4.17, 4.20: rig images list) or your own xen.gz or ELF"),
}


def image(kind: ImageKind, value: str, flag: str) -> str:
    """A --kernel or --xen value, checked (exit 2 naming the flag and the value) and made to
    mean the same from any folder, since a matrix's and a fuzz campaign's cells are child
    processes handed the value: an existing file is its absolute path; ``src:TREE`` and
    ``src:TREE@REF`` (kernels only) name the tree absolute, REF kept (a kernel tree, REF a
    commit of it); anything else is an artifact key, or a path that names no file."""
    from rig.machine import build  # not at import: every command's start would pay for it

    said = f"{flag} {value!r}"
    if value.startswith("src:"):
        if kind != "kernel":
            raise UsageError(f"{said}: only a kernel is built from a source tree; give {flag} "
                             "a key or a path")
        tree, ref = build.source_ref(value)
        value = f"src:{tree.absolute()}" + ("" if ref is None else f"@{ref}")
    else:
        path = Path(value).expanduser()
        if path.is_file():
            value = str(path.absolute())
        elif kind == "kernel" and path.is_dir():
            raise UsageError(f"{said}: a folder; src:{value} builds the kernel tree in it")
    build.check(kind, value, said)
    return value


def given(kind: ImageKind, value: str | None) -> str | None:
    """``--kernel`` / ``--xen`` of a command that takes one, by image() (None: not given)."""
    return None if value is None else image(kind, value, f"--{kind}")


def all_given(kind: ImageKind, values: list[str] | None) -> list[str]:
    """A repeatable ``--kernel`` / ``--xen``, each by image()."""
    return [image(kind, value, f"--{kind}") for value in values or ()]


def as_sets(kind: ImageKind, values: str | list[str] | None) -> list[str]:
    """``--kernel`` / ``--xen``, once or repeated, as the ``--set`` pairs they stand for (a
    matrix's values of dom0.kernel / xen.version), each by image()."""
    field = {"kernel": "dom0.kernel", "xen": "xen.version"}[kind]
    return [f"{field}={value}"
            for value in all_given(kind, [values] if isinstance(values, str) else values)]


def overrides(a: argparse.Namespace) -> dict[str, str]:
    """The scenario overrides of a command that boots one scenario: --set, --kernel, --xen."""
    from rig.domain import scenario_file

    return scenario_file.overrides_from(a.set, kernel=given("kernel", a.kernel),
                                        xen=given("xen", a.xen))


def image_option(p: argparse.ArgumentParser, kind: ImageKind, what: str, *,
                 many: bool = False) -> None:
    """``--kernel`` or ``--xen`` with the one metavar and the forms it takes; ``what``: what
    it does in this command."""
    metavar, forms = FORMS[kind]
    p.add_argument(f"--{kind}", action="append" if many else "store", metavar=metavar,
                   help=f"{what}{' (repeatable)' if many else ''}: {forms}")


def sets(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help=what)


# options several commands share, each said once

def scenario(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", help="preset name (see `rig scenarios`) or a TOML file")


def accel(p: argparse.ArgumentParser) -> None:
    p.add_argument("--accel", default="auto", choices=ACCELS,
                   help="QEMU's accelerator (default auto: KVM once a probe boots Xen under it, "
                        "else TCG, which emulates and is slower)")


def results(p: argparse.ArgumentParser) -> None:
    p.add_argument("--results", type=Path, metavar="DIR",
                   help="where to keep logs and results (default: $RIG_RESULTS or ./rig-results)")


def offline(p: argparse.ArgumentParser) -> None:
    p.add_argument("--offline", action="store_true", help="never fetch: use the cache only")


def timeout(p: argparse.ArgumentParser) -> None:
    p.add_argument("--timeout", action="append", default=[], metavar="STAGE=SECONDS",
                   help="seconds allowed to reach a stage: xen, dom0-build, linux, init, done, "
                        "xen-query (e.g. init=600)")


def html(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--html", type=Path, metavar="FILE", help=what)


def jobs(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("-j", "--jobs", type=count, default=1, metavar="N",
                   help=f"{what} at once (at least 1)")


def many_boots(p: argparse.ArgumentParser) -> None:
    """Options of the commands that boot many cells (matrix, compare, regressions)."""
    jobs(p, "cells")
    html(p, "write an HTML report of every cell")
    results(p)
    accel(p)
    offline(p)
    timeout(p)
    p.add_argument("--quick", action="store_true",
                   help="each boot stops once Linux's memory setup is over (rig run --quick)")


def machine(p: argparse.ArgumentParser) -> None:
    """Options of every command that boots: the QEMU and how much of the boot is shown."""
    p.add_argument("--qemu", metavar="PATH",
                   help="the QEMU to run (default: $RIG_QEMU, else qemu-system-x86_64 on PATH)")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="stream the serial console as it arrives (a matrix prefixes each line "
                        "with its cell)")
    p.add_argument("-q", "--quiet", action="store_true", help="print the verdict alone")
