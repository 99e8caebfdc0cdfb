"""README's commands are the contract users copy: every example parses with today's CLI, the
command table lists every command rig has (and nothing else), and the examples that need no boot
run and exit as README says."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from rig.cli import main, parser
from tests.conftest import LOGS
from tests.corpus import load_case

TOP = Path(__file__).resolve().parents[2]
README = TOP / "README.md"
#: README and the guides its longer sections moved to (issue 33): their examples are the same
#: contract
GUIDES = (README, *(TOP / "docs" / name for name in ("guide.md", "pvh.md")))
_RIG = re.compile(r"^ {4}.*?scripts/rig (.*)$")


def examples() -> list[list[str]]:
    """The ``scripts/rig ...`` lines of the code blocks of README and its guides (continuations
    joined)."""
    out: list[list[str]] = []
    for guide in GUIDES:
        out += _examples(guide)
    return out


def _examples(path: Path) -> list[list[str]]:
    out: list[list[str]] = []
    lines = path.read_text().splitlines()
    i = 0
    while i < len(lines):
        m = _RIG.match(lines[i])
        i += 1
        if not m:
            continue
        text = m.group(1)
        while text.endswith("\\") and i < len(lines):
            text = text[:-1] + " " + lines[i].strip()
            i += 1
        words = shlex.split(text.split("  #", 1)[0].split(" # ", 1)[0])
        out.append([w.replace("$PWD", "/src").replace("$HOME", "/home/u") for w in words])
    return out


def table_commands() -> set[str]:
    return {m.group(1) for m in re.finditer(r"^\| `rig (\w+)", README.read_text(), re.M)}


def test_readme_has_examples() -> None:
    # the finder itself must find something, or every test below passes on nothing
    assert len(examples()) >= 8
    assert all(_examples(guide) for guide in GUIDES)


# README's file names, given real logs of the kinds README says they are (corpus cases, or
# fixtures copied as they are)
FILES = {"serial.log": "rig-pci-hole-6.1.log", "dmesg.txt": "fmt-dmesg-T.log",
         "xl-dmesg.txt": "fmt-xl-dmesg.log"}
LAVA = Path(__file__).resolve().parents[1] / "fixtures" / "lava"
FIXTURES = {"lava.log": LAVA / "pci-hole-lava-run.log", "results.yaml": LAVA / "results-pass.yaml"}


def boots(argv: list[str]) -> bool:
    """Examples that boot QEMU or reach the network; the boot tests run those paths."""
    return argv[0] in ("run", "matrix", "compare", "kernel", "lava", "bisect") or (
        argv[0] == "replay" and "--no-boot" not in argv) or (
        argv[0] == "regressions" and "--list" not in argv)


@pytest.mark.parametrize("argv", examples(), ids=lambda a: " ".join(a))
def test_example_runs(argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                      capsys: pytest.CaptureFixture[str]) -> None:
    try:
        parser().parse_args(argv)
    except SystemExit as exc:  # the failure message is the point
        pytest.fail(f"documented example {' '.join(argv)!r} no longer parses (exit {exc.code})")
    if boots(argv):
        # its help must still work: the command and its options exist as README shows them
        with pytest.raises(SystemExit) as helped:
            main([*argv[:2 if argv[0] in ("kernel", "lava") else 1], "--help"])
        assert helped.value.code == 0
        return
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RIG_RESULTS", str(tmp_path / "results"))
    for name, case in FILES.items():
        (tmp_path / name).write_text(load_case(LOGS / case)[1])
    for name, path in FIXTURES.items():
        (tmp_path / name).write_bytes(path.read_bytes())
    assert main(argv) == 0, capsys.readouterr()
    assert capsys.readouterr().out.strip()
    if "--emit-scenario" in argv:  # and what it wrote is a scenario rig loads
        assert main(["predict", argv[argv.index("--emit-scenario") + 1]]) == 0


def test_command_table_is_complete() -> None:
    sub = next(a for a in parser()._actions if a.dest == "command")
    assert set(sub.choices) == table_commands()  # type: ignore[arg-type]


@pytest.mark.parametrize(("argv", "code"), [
    (["scenarios"], 0),
    (["predict", "seed-8g"], 0),
    (["predict", "pci-hole", "--json"], 0),
])
def test_offline_commands_run(argv: list[str], code: int,
                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == code
    assert capsys.readouterr().out.strip()


def test_the_status_table_is_the_codes() -> None:
    """README's table of what each status is to JUnit, KCIDB, LAVA and the shell is
    rig.judge.check.REPORTED, row for row: written once, shown as it is."""
    from rig.judge.check import REPORTED, Status

    text = README.read_text()
    rows = re.findall(r"^\| (\w+) \| ([^|]+) \| (\w+) \| (\w+) \| (\d+) \|$", text, re.M)
    junit = {None: "passed", "skipped": "`<skipped>`", "error": "`<error>`",
             "failure": "`<failure>`"}
    assert rows == [(s.value, junit[REPORTED[s].junit], REPORTED[s].kcidb, REPORTED[s].lava,
                     str(REPORTED[s].exit_code)) for s in Status]
