"""One grammar for --kernel and --xen in every command (issue 35): each form a user may give
reaches each command's runner as the same normalised value, or fails with the same usage error
(exit 2). Nothing boots: the runner each command hands its request to is replaced by a stand-in
that keeps what it was given and stops the command there."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from rig.cli import main
from rig.errors import RigError
from tests.gitrepo import repo

#: the stand-in's exit code: the command got as far as its runner
REACHED = 99


class Reached(RigError):
    exit_code = REACHED


def _scenario(args: tuple[Any, ...], field: str) -> set[str]:
    s = args[0]
    return {s.kernel if field == "dom0.kernel" else s.xen_version}


def _request(args: tuple[Any, ...], field: str) -> set[str]:
    return {getattr(args[0], "kernel" if field == "dom0.kernel" else "xen")}


def _cells(args: tuple[Any, ...], field: str) -> set[str]:
    return {dict(cell.overrides)[field] for cell in args[1]}


def _bisect(args: tuple[Any, ...], field: str) -> set[str]:
    return {args[0].overrides[field]}


@dataclass(frozen=True)
class Command:
    argv: list[str]
    #: "module:function": where the command hands over its request
    runner: str
    #: the value(s) of dom0.kernel / xen.version in what the runner was given
    read: Callable[[tuple[Any, ...], str], set[str]]
    #: RUN-ARGS (rig bisect) cannot name a kernel: it builds one at each step
    takes_kernel: bool = True


COMMANDS = {
    "run": Command(["run", "pci-hole"], "rig.runner.run:run", _scenario),
    "matrix": Command(["matrix", "pci-hole"], "rig.runner.matrix:run_matrix", _cells),
    "compare": Command(["compare", "pci-hole"], "rig.runner.matrix:run_matrix", _cells),
    "regressions": Command(["regressions"], "rig.runner.regressions:regressions", _request),
    "fuzz": Command(["fuzz", "1", "--seed", "1"], "rig.runner.fuzz:prepare", _request),
    "replay": Command(["replay", "/dev/null", "--no-boot"], "rig.runner.replay:derive_replay",
                      _request),
    "lava job": Command(["lava", "job", "pci-hole", "-o", "lava"],
                        "rig.runner.lava_job:write_job", _scenario),
    "bisect": Command(["bisect", "HEAD", "HEAD", "--", "pci-hole"], "rig.runner.bisect:bisect",
                      _bisect, takes_kernel=False),
}

# (what the user types, what the runner gets or the error's text); {here} is the folder the
# command runs in, which holds the files
KERNELS = [
    ("6.12", "6.12"),
    ("bzImage", "{here}/bzImage"),
    ("{here}/bzImage", "{here}/bzImage"),
    ("src:linux", "src:{here}/linux"),
    ("src:tree@HEAD", "src:{here}/tree@HEAD"),
    ("nope/bzImage", "rig: error: --kernel 'nope/bzImage': no such file"),
    ("linux", "rig: error: --kernel 'linux': a folder; src:linux builds the kernel tree in it"),
    ("src:tree@nope", "rig: error: --kernel 'src:tree@nope': 'nope' is no commit of "
     "{here}/tree"),
]
XENS = [
    ("4.20", "4.20"),
    ("xen.gz", "{here}/xen.gz"),
    ("src:linux", "rig: error: --xen 'src:linux': only a kernel is built from a source tree; "
                  "give --xen a key or a path"),
    ("nope/xen.gz", "rig: error: --xen 'nope/xen.gz': no such file"),
]
CASES = [(name, "kernel", given, want) for name, c in COMMANDS.items() if c.takes_kernel
         for given, want in KERNELS] + \
    [(name, "xen", given, want) for name in COMMANDS for given, want in XENS]


@pytest.fixture(scope="module")
def here(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a bzImage, a xen.gz, a kernel tree and a kernel tree in git."""
    folder = tmp_path_factory.mktemp("forms")
    (folder / "bzImage").write_bytes((b"\0" * 0x202 + b"HdrS").ljust(4096, b"\0"))
    (folder / "xen.gz").write_bytes(gzip.compress(b"\x7fELF"))
    (folder / "linux").mkdir()
    for tree in (folder / "linux", repo(folder)):  # repo(): folder/tree, three commits
        (tree / "Makefile").write_text("")
        (tree / "arch" / "x86").mkdir(parents=True)
    return folder


@pytest.mark.parametrize(("command", "kind", "given", "want"), CASES,
                         ids=[f"{c}-{k}-{g}" for c, k, g, _ in CASES])
def test_every_command_reads_kernel_and_xen_alike(
        command: str, kind: str, given: str, want: str, here: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(here)
    monkeypatch.setenv("RIG_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("RIG_RESULTS", str(tmp_path / "results"))
    c = COMMANDS[command]
    got: list[tuple[Any, ...]] = []

    def stand_in(*args: Any, **kwargs: Any) -> None:
        got.append(args)
        raise Reached("the runner was reached")

    module, function = c.runner.split(":")
    monkeypatch.setattr(f"{module}.{function}", stand_in)
    argv = [*c.argv, f"--{kind}", given.format(here=here)]
    if command == "lava job":
        argv[4] = str(tmp_path / "lava")
    code = main(argv)
    err = capsys.readouterr().err
    want = want.format(here=here)
    if want.startswith("rig: error:"):
        assert code == 2 and not got, err
        assert want + "\n" in err and "Traceback" not in err
        return
    assert code == REACHED, err
    assert c.read(got[0], "dom0.kernel" if kind == "kernel" else "xen.version") == {want}


def test_the_help_names_every_key() -> None:
    """The forms in --help name the keys rig has (images/recipes.toml), so a new one must be
    said there too."""
    from rig.cli.options import FORMS
    from rig.machine.images import recipes

    for kind in FORMS:
        names = [r.name for r in recipes().values() if r.kind == kind]
        assert names and all(f"{name}," in FORMS[kind][1] or f"{name}:" in FORMS[kind][1]
                             for name in names), (kind, names)
