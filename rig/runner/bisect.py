"""``rig bisect GOOD BAD -- RUN-ARGS``: git bisect driven by rig, in a worktree of its own.

The user's checkout is never touched: the bisect runs in the worktree rig keeps for the tree
in its cache (rig.machine.build.worktree: one path per tree, so rig's kernel build folder for
it is reused and each step rebuilds only what changed; ``src:TREE@REF`` builds there too).
Each step is built with rig's minimal config (rig.machine.build), booted with the scenario
and judged:

- the verdict passes: ``git bisect good``; it fails or crashes: ``bad``;
- the build fails, or rig's machine fails (exit 125): ``skip``; on the very first step that
  ends the bisect, since no step could be told apart;
- a usage error (a misspelt scenario) is found before the first build and blames no commit.

The steps and their table are rig.output.bisection's.
"""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from rig.domain import scenario_file
from rig.errors import ArtifactError, RigError, UsageError
from rig.judge.check import Status
from rig.machine import build
from rig.machine.images.store import Store
from rig.output.bisection import Bisection, Step
from rig.runner.run import RunOptions, run

_FIRST_BAD = re.compile(r"^([0-9a-f]{40}) is the first bad commit", re.M)


@dataclass(frozen=True)
class BisectRequest:
    tree: Path
    good: str
    bad: str
    scenario: str
    overrides: dict[str, str] = field(default_factory=dict)
    options: RunOptions = field(default_factory=RunOptions)


def git(repo: Path, *args: str, check: bool = True) -> str:
    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)
    if check and proc.returncode != 0:
        raise RigError(f"git {args[0]} failed (exit {proc.returncode})",
                       command=["git", "-C", str(repo), *args], output=proc.stderr)
    return proc.stdout + proc.stderr


def check(req: BisectRequest) -> tuple[str, str]:
    """Everything a bisect needs, before any checkout or build: a git tree, the two commits,
    and a scenario that loads (the user's to fix, exit 2). The two commits' full ids."""
    if "dom0.kernel" in req.overrides:
        raise UsageError("rig bisect builds dom0's kernel at each step: RUN-ARGS must not "
                         "name one (--kernel or --set dom0.kernel)")
    scenario_file.load(req.scenario, {**req.overrides, "dom0.kernel": "6.1"})
    if not req.tree.is_dir():
        raise UsageError(f"--tree {str(req.tree)!r}: no such folder")
    ids = []
    for name, ref in (("GOOD", req.good), ("BAD", req.bad)):
        out = subprocess.run(["git", "-C", str(req.tree), "rev-parse", "--verify", "--quiet",
                              f"{ref}^{{commit}}"], capture_output=True, text=True)
        if out.returncode != 0:
            raise UsageError(f"{name} {ref!r}: no such commit in {req.tree}")
        ids.append(out.stdout.strip())
    return ids[0], ids[1]


def bisect(req: BisectRequest, store: Store | None = None) -> Bisection:
    good, bad = check(req)
    store = store or Store()
    top, wt = build.worktree(req.tree, store)
    _remove(top, wt)  # a killed bisect's worktree
    wt.parent.mkdir(parents=True, exist_ok=True)
    git(top, "worktree", "add", "--detach", str(wt), bad)
    result = Bisection()
    try:
        said = git(wt, "bisect", "start", bad, good)
        while (m := _FIRST_BAD.search(said)) is None:
            step = _step(req, wt, first=not result.steps)
            result.steps.append(step)
            said = git(wt, "bisect", step.mark)
            if "only 'skip'ped commits left" in said:
                break
        if m is not None:
            result.first_bad = m.group(1)
            result.subject = git(wt, "log", "-1", "--format=%s", m.group(1)).strip()
        result.said = said.strip()
    finally:
        git(wt, "bisect", "reset", check=False)
        _remove(top, wt)
    return result


def _step(req: BisectRequest, wt: Path, first: bool) -> Step:
    commit = git(wt, "rev-parse", "HEAD").strip()
    subject = git(wt, "log", "-1", "--format=%s").strip()
    t0 = time.monotonic()
    try:
        built = build.build(wt)
    except ArtifactError as exc:
        if first:
            raise RigError(f"the first step ({commit[:12]}) did not build, so no step can be "
                           f"told apart: {exc}") from None
        return Step(commit, subject, "skip", None, time.monotonic() - t0, "build failed")
    s = scenario_file.load(req.scenario, {**req.overrides, "dom0.kernel": str(built.bzimage)})
    doc, folder = run(s, req.options)
    seconds = time.monotonic() - t0
    if doc.verdict is Status.ERROR:
        if first:
            raise RigError(f"the first step ({commit[:12]}) could not be booted, so no step "
                           f"can be told apart; see {folder}")
        return Step(commit, subject, "skip", doc.verdict, seconds, str(folder))
    mark = "good" if doc.verdict.exit_code == 0 else "bad"
    return Step(commit, subject, mark, doc.verdict, seconds, str(folder))


def _remove(top: Path, wt: Path) -> None:
    if wt.exists():
        git(top, "worktree", "remove", "--force", str(wt), check=False)
    git(top, "worktree", "prune", check=False)
