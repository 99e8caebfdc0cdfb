"""``rig kernel build`` / ``rig kernel source``: minimal dom0 kernels from source trees."""

from __future__ import annotations

import argparse
from pathlib import Path

from rig.cli.options import Commands, Parser, count, offline


def add(sub: Commands) -> None:
    kn = sub.add_parser("kernel", help="build a minimal dom0 kernel from a source tree")
    kn_sub = kn.add_subparsers(dest="kernel_command", required=True, parser_class=Parser)
    kb = kn_sub.add_parser("build", help="tinyconfig + fragment, out of tree, cached by state")
    kb.add_argument("src", metavar="SRC", help="a Linux source tree")
    kb.add_argument("--fragment", type=Path, metavar="FILE",
                    help="Kconfig fragment (default: images/dom0-minimal.config)")
    kb.add_argument("--patch", type=Path, action="append", default=[], metavar="FILE",
                    help="apply to a hard-linked copy of the tree first (repeatable)")
    kb.add_argument("--kconfig-add", action="append", default=[], metavar="CONFIG_X=y|FILE",
                    help="an option or a fragment merged after --fragment (repeatable; "
                         "tuxmake's flag)")
    kb.add_argument("-j", "--jobs", type=count, default=None, metavar="N",
                    help="make's jobs (default: the host's cores)")
    # make variables come after "--" (rig build SRC -- LLVM=1): rig.cli.main takes them off
    # before argparse, whose positionals would swallow the options around them
    kb.set_defaults(func=main_build, make_vars=[])
    kb.epilog = ("After --, make variables given to every make (LLVM=1, CC=clang, "
                 "KCFLAGS=...); ccache compiles when installed and no compiler is named.")
    ks = kn_sub.add_parser("source", help="unpack Debian's linux-source-NAME, print its path")
    ks.add_argument("name", metavar="NAME", help="6.1 or 6.12")
    offline(ks)
    ks.set_defaults(func=main_source)


def main_build(a: argparse.Namespace) -> int:
    """Print the image's path, and whether it was built or reused."""
    from rig.errors import UsageError
    from rig.machine.build import BuildRecipe, build, kconfig_adds

    if a.jobs is not None and a.jobs < 1:
        raise UsageError(f"-j {a.jobs}: build with at least 1 job")
    files, options = kconfig_adds(a.kconfig_add)
    recipe = BuildRecipe(fragment=a.fragment, extra_config=tuple(files),
                         patches=tuple(a.patch), options=tuple(options),
                         make_vars=tuple(a.make_vars))
    built = build(Path(a.src), recipe, jobs=a.jobs)
    how = "reused (tree unchanged)" if built.reused else f"built in {built.seconds:.0f} s"
    print(f"{built.bzimage}\t{how}" + (f"\tlog {built.log}" if built.log else ""))
    return 0


def main_source(a: argparse.Namespace) -> int:
    """Unpack Debian's linux-source-NAME, print its path."""
    from rig.machine import images
    from rig.machine.build import debian_source

    images.recipe("source", a.name)
    print(debian_source(a.name, offline=a.offline))
    return 0
