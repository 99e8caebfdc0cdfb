"""``rig completion SHELL`` and ``rig man``: rig's shell completion (shtab) and man page
(argparse-manpage), generated from the same parser that reads the command line, so they never
drift from it."""

from __future__ import annotations

import argparse

from rig.cli.options import Commands

SHELLS = ("bash", "zsh", "tcsh")


def add(sub: Commands) -> None:
    c = sub.add_parser("completion", help="print shell completion for rig (shtab)",
                       description="Print a completion script; e.g. for bash: "
                                   "rig completion bash > ~/.local/share/bash-completion/"
                                   "completions/rig")
    c.add_argument("shell", choices=SHELLS, help="the shell to complete in")
    c.set_defaults(func=main_completion)
    m = sub.add_parser("man", help="print rig's man page (roff, from the parser)",
                       description="Print the man page; e.g. rig man > rig.1 && man ./rig.1")
    m.set_defaults(func=main_man)


def main_completion(a: argparse.Namespace) -> int:
    import shtab

    # the parser that read this command line (rig.cli.parser puts itself in the namespace:
    # importing it here would make a circle)
    print(shtab.complete(a.root_parser, a.shell))
    return 0


def main_man(a: argparse.Namespace) -> int:
    from argparse_manpage.manpage import Manpage

    from rig import __version__

    root: argparse.ArgumentParser = a.root_parser
    print(Manpage(root, _data={"project_name": "rig", "version": __version__,
                               "description": root.description or "rig",
                               "url": "the rig repository's README.md"}))
    return 0
