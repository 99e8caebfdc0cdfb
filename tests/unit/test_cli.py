from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from rig.cli import main, parser
from tests.conftest import LOGS
from tests.corpus import load_case


def _raw(tmp_path: Path, name: str) -> Path:
    out = tmp_path / name
    out.write_text(load_case(LOGS / name)[1])
    return out


@pytest.mark.parametrize(("name", "code"), [
    ("rig-pci-hole-6.1.log", 0),
    ("seed-era-b-3.2.log", 1),
    ("rig-pci-hole-cpu-max-crash.log", 1),
])
def test_parse_exit_codes(tmp_path: Path, name: str, code: int,
                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", str(_raw(tmp_path, name))]) == code
    assert "verdict" in capsys.readouterr().out


def test_parse_json_from_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    text = load_case(LOGS / "era-a-3.0-dmesg.log")[1]
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    assert main(["parse", "-", "--json", "--dom0-mem", "1G"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema"] == 1 and doc["verdict"] == "fail"
    assert doc["linux"]["released_pages"] == 512


def test_truncated_log_exits_1_as_incomplete(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    body = load_case(LOGS / "rig-pci-hole-6.1.log")[1]
    p = tmp_path / "cut.log"
    p.write_text(body[: body.index("Released 0")])
    assert main(["parse", str(p)]) == 1
    assert "INCOMPLETE" in capsys.readouterr().out


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", str(tmp_path / "missing.log")]) == 2
    assert main(["run", "pci-hole", "--set", "machine.memory=lots"]) == 2
    err = capsys.readouterr().err
    assert "machine.memory" in err and "lots" in err and "Traceback" not in err


def test_predict_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["predict", "pci-hole", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["prediction"]["remapped_pages"] == 97  # by hand: pfn 0x9f-0x100


def _commands(p: argparse.ArgumentParser,
              prog: str) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """Every command and subcommand of the parser (``rig lava job``, ``rig kernel build``)."""
    yield prog, p
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, f"{prog} {name}")


def test_every_option_says_what_it_does() -> None:
    """`rig COMMAND --help` is the reference a user reads: no option or argument without a
    line of help."""
    silent = [f"{prog} {'/'.join(action.option_strings) or action.dest}"
              for prog, p in _commands(parser(), "rig") for action in p._actions
              if not isinstance(action, argparse._SubParsersAction | argparse._HelpAction)
              and not action.help]
    assert silent == []
    assert len(list(_commands(parser(), "rig"))) > 15  # the walk reached the subcommands


def test_completion_and_man_page_come_from_the_parser(
        capsys: pytest.CaptureFixture[str]) -> None:
    """`rig completion bash` (shtab) and `rig man` (argparse-manpage) are generated from the
    parser that reads the command line: every command and every option of `run` is in both."""
    from rig.cli.parser import COMMANDS, parser

    assert main(["completion", "bash"]) == 0
    bash = capsys.readouterr().out
    assert main(["man"]) == 0
    man = capsys.readouterr().out
    names = [name for name in parser()._subparsers._group_actions[0].choices]  # type: ignore[union-attr]
    assert len(names) == len(COMMANDS) + 1  # completion and man share a module
    for name in names:
        assert name in bash and name in man, name
    for option in ("--kernel", "--quick", "--json-out"):
        assert option in bash and option.replace("-", "\\-") in man, option
    assert "RIG_QEMU" in man  # the environment, from --help's epilog
