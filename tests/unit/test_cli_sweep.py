"""The CLI contract, swept: every command and option with bad values. Each row is
(argv, exit code, words the message must contain); every usage error names the field and the
value, and no row prints a traceback. Nothing here boots or fetches: rig must refuse first.

Placeholders in argv: {tmp} a scratch folder, {bin} a binary file, {bad_toml} a file that is not
TOML, {escape} a scenario whose name tries to leave the results folder, {dir} a folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rig.cli import main

ROWS: list[tuple[str, int, list[str]]] = [
    # rig run: the scenario
    ("run no-such-preset", 2, ["scenario", "no-such-preset", "presets:"]),
    ("run {tmp}/missing.toml", 2, ["missing.toml", "file not found"]),
    ("run {dir}", 2, ["is a directory"]),
    ("run {bin}", 2, ["not a text file"]),
    ("run {bad_toml}", 2, ["not valid TOML"]),
    ("run {escape}", 2, ["name", "../../../../../../rig-escape-run", "letters, digits"]),
    # rig run: --set values
    ("run pci-hole --set machine.memory", 2, ["--set", "machine.memory", "KEY=VALUE"]),
    ("run pci-hole --set =4G", 2, ["--set", "=4G", "KEY=VALUE"]),
    ("run pci-hole --set machine.memry=4G", 2, ["machine.memry", "unknown field"]),
    ("run pci-hole --set machine.memory=lots", 2, ["machine.memory", "lots", "not a size"]),
    ("run pci-hole --set machine.memory=0", 2, ["machine.memory", "at least 256M"]),
    ("run pci-hole --set machine.memory=-4G", 2, ["machine.memory", "at least 256M"]),
    ("run pci-hole --set machine.memory=99T", 2, ["machine.memory", "beyond what rig"]),
    ("run pci-hole --set machine.cpus=0", 2, ["machine.cpus", "0", "1 to 64"]),
    ("run pci-hole --set machine.cpus=x", 2, ["machine.cpus", "'x'", "whole number"]),
    ("run pci-hole --set machine.type=vax", 2, ["machine.type", "vax"]),
    ("run pci-hole --set machine.firmware=coreboot", 2, ["machine.firmware", "coreboot"]),
    ("run pci-hole --set machine.below_4g=0x123", 2, ["machine.below_4g", "0x123", "aligned"]),
    ("run pci-hole --set xen.dom0_mem=lots", 2, ["xen.dom0_mem", "lots"]),
    ("run pci-hole --set xen.dom0_mem=1.5G", 2, ["xen.dom0_mem", "1.5G"]),
    ("run pci-hole --set xen.dom0_mem=max:", 2, ["xen.dom0_mem", "max:"]),
    ("run pci-hole --set xen.version=9.99", 2, ["xen.version", "9.99", "no such artifact"]),
    ("run pci-hole --set xen.version=", 2, ["xen.version", "empty"]),
    ("run pci-hole --set dom0.kernel=0.0", 2, ["dom0.kernel", "0.0", "no such artifact"]),
    ("run pci-hole --set dom0.kernel=/nonexistent/bzImage", 2,
     ["dom0.kernel", "/nonexistent/bzImage", "no such file"]),
    ("run pci-hole --set dom0.kernel=src:/nonexistent", 2,
     ["dom0.kernel", "src:/nonexistent", "not a Linux source tree"]),
    ("run pci-hole --set name=../x", 2, ["name", "../x", "letters, digits"]),
    ("run pci-hole --set name=a/b", 2, ["name", "a/b"]),
    ("run pci-hole --set name=.hidden", 2, ["name", ".hidden"]),
    ("run seed-8g --set machine.loader=grub --set xen.cmdline=a'b", 2, ["xen.cmdline",
                                                                      "GRUB"]),
    ("run seed-8g --set machine.loader=lilo", 2, ["machine.loader", "lilo"]),
    ("run pci-hole --set holes=x", 2, ["holes"]),
    ("run q35-uefi --set xen.version={bin}", 2, ["xen.version", "artifact key"]),
    # rig run: other options
    ("run pci-hole --kernel {tmp}/nope", 2, ["--kernel", "nope", "no such file"]),
    ("run pci-hole --xen {tmp}/nope", 2, ["--xen", "nope", "no such file"]),
    ("run pci-hole --kernel {bin}", 2, ["--kernel", "not a bzImage"]),
    ("run pci-hole --kernel 0.0", 2, ["--kernel", "'0.0'", "no such artifact key", "6.12"]),
    ("run pci-hole --kernel {dir}", 2, ["--kernel", "a folder", "src:"]),
    ("run pci-hole --kernel src:{dir}", 2, ["--kernel", "not a Linux source tree"]),
    ("run pci-hole --xen src:{dir}", 2, ["--xen", "only a kernel", "source tree"]),
    ("run pci-hole --xen 9.99", 2, ["--xen", "'9.99'", "no such artifact key", "4.20"]),
    ("run pci-hole --timeout firmware=5", 2, ["--timeout", "firmware", "stages:"]),
    ("run pci-hole --timeout exit=5", 2, ["--timeout", "exit"]),
    ("run pci-hole --timeout init=soon", 2, ["--timeout", "soon", "number of seconds"]),
    ("run pci-hole --timeout init=0", 2, ["--timeout", "init=0", "more than 0"]),
    ("run pci-hole --timeout init=-5", 2, ["--timeout", "init=-5", "more than 0"]),
    ("run pci-hole --timeout init", 2, ["--timeout", "STAGE=SECONDS"]),
    ("run pci-hole --accel quantum", 2, ["--accel", "quantum"]),
    ("run pci-hole --json-out {dir}", 2, ["--json-out", "is a directory"]),
    ("run pci-hole --json-out {tmp}/no/such/r.json", 2, ["--json-out", "does not exist"]),
    ("run pci-hole --html {dir}", 2, ["--html", "is a directory"]),
    # where nothing can be written (root passes every permission check, /proc still refuses)
    ("run pci-hole --html /proc/rig.html", 2, ["--html", "/proc/rig.html", "cannot write"]),
    ("run pci-hole --json-out /proc/r.json", 2, ["--json-out", "cannot write"]),
    ("run pci-hole --results /proc/rig-results", 2, ["--results", "cannot write"]),
    ("render pci-hole -o /proc/rig-render", 2, ["-o", "/proc/rig-render", "cannot write"]),
    ("lava job pci-hole -o /proc/rig-lava", 2, ["-o", "/proc/rig-lava", "cannot write"]),
    ("lava job pci-hole -o {tmp}/l --kernel {tmp}/nope", 2, ["--kernel", "no such file"]),
    ("matrix pci-hole --set dom0.kernel=6.1 --junit /proc/j.xml", 2, ["--junit",
                                                                      "cannot write"]),
    ("parse {bad_results}", 2, ["results.yaml", "looks like LAVA's results.yaml",
                                "not valid YAML", "line"]),
    ("run pci-hole --results {bin}", 2, ["--results", "is a file"]),
    # rig parse
    ("parse {tmp}/missing.log", 2, ["missing.log", "no such file"]),
    ("parse {dir}", 2, ["is a directory"]),
    ("parse {bin}", 1, ["INCOMPLETE"]),
    ("parse /dev/null", 1, ["INCOMPLETE"]),
    ("parse /dev/null --dom0-mem lots", 2, ["--dom0-mem", "lots"]),
    ("parse /dev/null --xen {tmp}/missing.log", 2, ["missing.log", "no such file"]),
    ("parse /dev/null /dev/null --xen /dev/null", 2, ["--xen-log", "exactly one"]),
    # rig predict, render
    ("predict nope", 2, ["scenario", "nope"]),
    ("predict pci-hole --set machine.memory=1", 2, ["machine.memory"]),
    ("render pci-hole -o {bin}", 2, ["-o", "is a file"]),
    ("render pci-hole", 2, ["-o"]),
    # rig matrix, compare
    ("matrix pci-hole -j 0 --set xen.dom0_mem=1G", 2, ["-j", "'0'", "at least 1"]),
    ("matrix pci-hole -j -2", 2, ["-j", "-2"]),
    ("matrix pci-hole -j many", 2, ["-j", "many", "whole number"]),
    ("matrix pci-hole --set xen.dom0_mem", 2, ["--set", "KEY=VALUE"]),
    ("matrix pci-hole --set machine.memry=4G", 2, ["machine.memry", "unknown field"]),
    ("matrix pci-hole --set xen.dom0_mem=1G --set xen.dom0_mem=lots", 2,
     ["xen.dom0_mem", "lots"]),
    ("matrix pci-hole --set dom0.kernel=6.1 --set dom0.kernel=0.0", 2,
     ["dom0.kernel", "0.0"]),
    ("matrix pci-hole --shard 0/3", 2, ["--shard", "0/3"]),
    ("matrix pci-hole --shard 4/3", 2, ["--shard", "4/3"]),
    ("matrix pci-hole --shard x", 2, ["--shard", "'x'", "I/N"]),
    ("matrix pci-hole --junit {dir}", 2, ["--junit", "is a directory"]),
    ("matrix pci-hole --timeout exit=3", 2, ["--timeout", "exit"]),
    ("matrix pci-hole --kernel 6.1 --kernel 0.0", 2, ["--kernel", "'0.0'", "no such artifact"]),
    ("matrix pci-hole --xen {tmp}/nope", 2, ["--xen", "nope", "no such file"]),
    ("compare seed-8g --xen src:{dir}", 2, ["--xen", "only a kernel"]),
    ("compare seed-8g --kernel 0.0", 2, ["--kernel", "0.0", "no such artifact key"]),
    ("compare seed-8g --dom0-mem lots", 2, ["xen.dom0_mem", "lots"]),
    ("compare seed-8g --set dom0.kernel=6.1", 2, ["--set", "--kernel"]),
    ("compare seed-8g --set machine.memry=1G", 2, ["machine.memry", "unknown field"]),
    ("compare seed-8g -j 0", 2, ["-j", "at least 1"]),
    # rig regressions, fuzz, bisect: the one grammar of --kernel and --xen
    ("regressions --kernel {tmp}/nope", 2, ["--kernel", "nope", "no such file"]),
    ("regressions --xen src:{dir}", 2, ["--xen", "only a kernel"]),
    ("fuzz 1 --seed 1 --kernel 0.0", 2, ["--kernel", "'0.0'", "no such artifact key"]),
    ("fuzz 1 --seed 1 --xen {bin}", 2, ["--xen", "not a Xen image"]),
    ("bisect HEAD HEAD -- pci-hole --kernel 6.12", 2, ["RUN-ARGS must not", "--kernel"]),
    # rig report
    ("report {tmp}/missing.json -o {tmp}/r.html", 2, ["missing.json", "no such file"]),
    ("report {dir} -o {tmp}/r.html", 2, ["no result.json there"]),
    ("report {bin} -o {tmp}/r.html", 2, ["not a rig result document"]),
    ("report {bad_toml} -o {tmp}/r.html", 2, ["not a rig result document"]),
    ("report {bad_toml} -o {dir}", 2, ["-o", "is a directory"]),
    # rig replay
    ("replay {tmp}/missing.log", 2, ["missing.log", "no such file"]),
    ("replay {dir}", 2, ["is a directory"]),
    ("replay /dev/null --no-boot", 2, ["no E820 map"]),
    ("replay {bin} --no-boot", 2, ["no E820 map"]),
    ("replay {bin} --no-boot --kernel src:{dir}@HEAD", 2, ["--kernel",
                                                         "not a Linux source tree"]),
    # rig kernel
    ("kernel build {tmp}", 2, ["not a Linux source tree"]),
    ("kernel build {tmp}/missing", 2, ["not a Linux source tree"]),
    ("kernel build {tmp} -j 0", 2, ["-j", "at least 1"]),
    ("kernel source 2.4", 2, ["'2.4'", "no such artifact"]),
    # rig images
    ("images fetch kernel=0.0", 2, ["dom0.kernel", "0.0", "no such artifact"]),
    ("images fetch kernel", 2, ["'kernel'", "KIND=NAME"]),
    ("images fetch gpu=1", 2, ["gpu", "unknown kind"]),
    ("images frobnicate", 2, ["frobnicate"]),
    # the command itself
    ("", 2, ["required"]),
    ("frobnicate", 2, ["frobnicate", "invalid choice"]),
]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "bin").write_bytes(bytes(range(256)) * 64)
    (tmp_path / "bad.toml").write_text("name = [unclosed\n")
    # LAVA's results.yaml with a line mangled in transit
    (tmp_path / "results.yaml").write_text("- name: job\n  suite: lava\n  result: pass\n"
                                           "- name: [xen-query\n  result: fail\n")
    (tmp_path / "d").mkdir()
    escape = tmp_path / "escape.toml"
    escape.write_text('name = "../../../../../../rig-escape-run"\n[machine]\nmemory = "4G"\n')
    return {"tmp": str(tmp_path), "bin": str(tmp_path / "bin"),
            "bad_toml": str(tmp_path / "bad.toml"), "escape": str(escape),
            "dir": str(tmp_path / "d"), "bad_results": str(tmp_path / "results.yaml")}


@pytest.mark.parametrize(("argv", "code", "words"), ROWS, ids=[r[0] or "(none)" for r in ROWS])
def test_bad_input(argv: str, code: int, words: list[str], files: dict[str, str],
                   capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                   tmp_path: Path) -> None:
    # nothing may reach the network or a machine: an empty cache, offline by construction
    monkeypatch.setenv("RIG_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("RIG_RESULTS", str(tmp_path / "results"))
    args = [a.format(**files) for a in argv.split()]
    try:
        got = main(args)
    except SystemExit as exc:  # argparse
        got = int(exc.code or 0)
    out = capsys.readouterr()
    text = out.out + out.err
    assert got == code, text
    assert "Traceback" not in text, text
    for word in words:
        assert word in text, (word, text)
    # a refused run leaves nothing behind: no results folder was needed
    if code == 2 and argv.startswith("run "):
        assert not (tmp_path / "results").exists() or not any((tmp_path / "results").iterdir())


def test_a_name_can_never_leave_the_results_folder(tmp_path: Path) -> None:
    """Whatever reaches results_folder(), the folder lands inside the base (the name rule is
    the first guard, this the second)."""
    from rig.errors import UsageError
    from rig.runner.run import results_folder

    base = tmp_path / "a" / "b" / "c"
    for label in ("../../../../escape", "/abs", "x/../../y"):
        with pytest.raises(UsageError, match="would leave"):
            results_folder(base, label)
    made = results_folder(base, "fine")
    assert made.parent == base.resolve()
    assert not (tmp_path / "escape").exists() and not Path("/abs").exists()
    assert os.listdir(tmp_path) == ["a"]


def test_replay_names_are_made_valid() -> None:
    from rig.domain.scenario import NAME
    from rig.runner.replay import scenario_name

    for log in ("../../etc/passwd", "weird name;rm -rf.log", "..", "x" * 200, ".hidden.log"):
        assert NAME.match(scenario_name(log)), scenario_name(log)
