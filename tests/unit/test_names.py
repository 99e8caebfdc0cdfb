"""One name per concept: a public name defined at the top of two modules of rig/ means the same
thing in each, and is listed here with that meaning; any other is a second meaning waiting to
confuse (``worst`` once returned a Status in one module and an int in another)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

RIG = Path(__file__).resolve().parents[2] / "rig"

#: name -> (the modules that define it, relative to rig/, and the one meaning they share)
SHARED: dict[str, tuple[frozenset[str], str]] = {
    "add": (frozenset({"cli/bisect.py", "cli/compare.py", "cli/fuzz.py", "cli/images.py",
                       "cli/kernel.py", "cli/lava.py", "cli/matrix.py", "cli/parse.py",
                       "cli/predict.py", "cli/regressions.py", "cli/render.py", "cli/replay.py",
                       "cli/report.py", "cli/reporting.py", "cli/run.py", "cli/scenarios.py",
                       "cli/shell.py"}),
            "add this module's command or options to the argument parser"),
    "main": (frozenset({"cli/__init__.py", "cli/bisect.py", "cli/compare.py", "cli/fuzz.py",
                        "cli/images.py", "cli/lava.py", "cli/matrix.py", "cli/parse.py",
                        "cli/predict.py", "cli/regressions.py", "cli/render.py",
                        "cli/replay.py", "cli/report.py", "cli/run.py", "cli/scenarios.py"}),
             "run this command (parsed arguments in, exit code out)"),
    "HINTS": (frozenset({"parse/crash.py", "parse/grub.py", "parse/hints.py", "parse/init.py",
                         "parse/linux.py", "parse/xen.py"}),
              "the regexes that find this parser's lines (hints.py: their union)"),
    "MESSAGES": (frozenset({"parse/linux.py", "parse/xen.py"}), "this parser's message table"),
    "TABLE": (frozenset({"parse/linux.py", "parse/xen.py"}), "this parser's messages, indexed"),
    "VERSION": (frozenset({"parse/linux.py", "parse/xen.py"}), "this program's version line"),
    "predict": (frozenset({"model/pv.py", "model/pvh.py"}), "this dom0 mode's prediction"),
    "gc": (frozenset({"machine/images/initramfs.py", "machine/images/maintenance.py",
                      "machine/images/vmlinux.py"}),
           "remove what this part of the cache keeps and no longer needs"),
    "load": (frozenset({"domain/scenario_file.py", "judge/result.py", "machine/history.py"}),
             "read this module's document"),
    "write": (frozenset({"cli/reporting.py", "judge/result.py", "output/junit.py"}),
              "write this module's document"),
    "boot": (frozenset({"runner/fuzz.py", "runner/regressions.py", "runner/replay.py"}),
             "boot this command's planned machines"),
    "plan": (frozenset({"runner/matrix.py", "runner/regressions.py"}),
             "this command's boots, every value checked before the first"),
    "build": (frozenset({"machine/build.py", "machine/images/initramfs.py"}),
              "make this module's artifact (a kernel, an initramfs)"),
    "check": (frozenset({"cli/reporting.py", "machine/build.py", "machine/images/user.py",
                         "runner/bisect.py"}),
              "fail fast on what the user gave, before any work (exit 2)"),
    "validate": (frozenset({"domain/scenario.py", "runner/run.py"}),
                 "fail fast on what the user gave, before any work (exit 2)"),
    "resolve": (frozenset({"machine/build.py", "machine/images/user.py"}),
                "a scenario's xen.version / dom0.kernel to an artifact (build.py adds src:)"),
}


def _public_names(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.append(node.target.id)
    return [n for n in names if not n.startswith("_")]


def defined() -> dict[str, set[str]]:
    where: dict[str, set[str]] = defaultdict(set)
    for path in sorted(RIG.rglob("*.py")):
        for name in _public_names(path):
            where[name].add(str(path.relative_to(RIG)))
    return where


def test_a_public_name_in_two_modules_means_one_thing() -> None:
    twice = {name: mods for name, mods in defined().items() if len(mods) > 1}
    unexplained = {name: sorted(mods) for name, mods in twice.items()
                   if name not in SHARED or mods != SHARED[name][0]}
    assert not unexplained, ("public names defined in several modules: rename the one that "
                             f"means something else, or say here what they share: {unexplained}")


def test_every_shared_name_listed_is_still_shared() -> None:
    """The list stays true: a name renamed away leaves it."""
    where = defined()
    stale = sorted(name for name, (mods, _) in SHARED.items()
                   if where.get(name, set()) != set(mods))
    assert not stale, stale
