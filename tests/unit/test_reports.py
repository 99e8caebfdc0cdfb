"""rig's CI reports (issue 31), read back by the real clients: KCIDB by kcidb-io's own schema
validation, JUnit by junitparser. Recorded boots and saved logs give every status: pass, fail,
crash, incomplete, skip, error."""

from __future__ import annotations

import json
from pathlib import Path

import kcidb_io
import pytest
from junitparser import Error, Failure, JUnitXml, Skipped

from rig.cli import main
from rig.judge.check import REPORTED, Status
from rig.judge.result import Result, load
from rig.output import reports
from tests.conftest import RECORDED

#: recorded boots between them hold every status a check can have
NAMED = [(name, load(RECORDED / name / "result.json"))
         for name in ("pci-hole", "acpi-table-swapped-6.12", "extra-mem-unaligned-6.12",
                      "nvs-swap-target-unaligned-7.2", "typed-entries")]


def statuses(named: list[tuple[str, Result]]) -> set[Status]:
    return {c.status for _, doc in named for c in doc.checks}


def test_the_status_table_is_whole_and_says_what_ci_reads() -> None:
    assert set(REPORTED) == set(Status)
    assert [REPORTED[s].exit_code for s in Status] == [0, 0, 0, 1, 125, 1, 1]
    assert REPORTED[Status.ERROR].kcidb == "MISS" and REPORTED[Status.INCOMPLETE].kcidb == "ERROR"
    assert {r.lava for r in REPORTED.values()} <= {"pass", "fail", "skip", "unknown"}


def test_kcidb_passes_kcidbs_own_validation() -> None:
    assert {Status.PASS, Status.FAIL, Status.CRASH, Status.INCOMPLETE, Status.SKIP} \
        <= statuses(NAMED)
    data = reports.kcidb("rig_ci", NAMED)
    kcidb_io.schema.LATEST.validate(data)
    assert len(data["tests"]) == sum(len(doc.checks) for _, doc in NAMED)
    by_path = {t["path"]: t for t in data["tests"]}
    lost = by_path["rig.pci-hole.nothing_lost"]
    assert lost["status"] == "PASS" and lost["number"]["unit"] == "pages"
    assert lost["log_url"].startswith("file:///")
    swapped = by_path["rig.acpi-table-swapped-6_12.acpi_table"]
    assert swapped["status"] == "FAIL" and swapped["misc"]["rig_status"] == "fail"
    # the kernel is a checkout and a build, once per image
    assert len(data["builds"]) == len({doc.artifacts.kernel.sha256 for _, doc in NAMED
                                       if doc.artifacts is not None})


def test_junit_puts_each_status_where_junit_readers_look(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    reports.junit("rig", NAMED, path)
    xml = JUnitXml.fromfile(str(path))
    seen: dict[str, set[str]] = {}
    for suite in xml:
        doc = dict(NAMED)[suite.name]
        by_name = {c.name: c.status for c in doc.checks}
        props = {p.name: p.value for p in suite.properties()}  # type: ignore[no-untyped-call]
        assert props["console_log"] == doc.log and props["verdict"] == doc.verdict.value
        for case in suite:
            kinds = {type(r) for r in case.result}
            status = by_name[case.name]
            want = {None: set(), "failure": {Failure}, "error": {Error},
                    "skipped": {Skipped}}[status.reported.junit]
            assert kinds == want, (suite.name, case.name, status)
            seen.setdefault(status.value, set()).update(k.__name__ for k in kinds)
    assert seen["fail"] == seen["crash"] == {"Failure"}
    assert seen["incomplete"] == {"Error"} and seen["skip"] == {"Skipped"}


def test_rig_parse_writes_every_report_and_a_fixed_folder(tmp_path: Path) -> None:
    log = RECORDED / "acpi-table-swapped-6.12" / "console.log"
    out = tmp_path / "out"
    code = main(["parse", str(log), "--junit", str(tmp_path / "j.xml"), "--kcidb",
                 str(tmp_path / "k.json"), "--origin", "my_lab", "--json-out",
                 str(tmp_path / "r.json"), "--output", str(out)])
    assert code == 1  # a crash
    assert sorted(p.name for p in out.iterdir()) == ["console.log", "result.json"]
    data = json.loads((tmp_path / "k.json").read_text())
    kcidb_io.schema.LATEST.validate(data)
    assert {t["origin"] for t in data["tests"]} == {"my_lab"}
    assert json.loads((tmp_path / "r.json").read_text())["verdict"] == "crash"
    assert JUnitXml.fromfile(str(tmp_path / "j.xml"))


@pytest.mark.parametrize(("argv", "words"), [
    (["--kcidb", "k.json", "--origin", "My-Lab"], "--origin 'My-Lab'"),
    (["--output", "."], "is not empty"),
    (["--junit", "nowhere/j.xml"], "does not exist"),
])
def test_a_bad_report_option_is_a_usage_error(argv: list[str], words: str, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x").write_text("")
    log = RECORDED / "pci-hole" / "console.log"
    assert main(["parse", str(log), *argv]) == 2
    assert words in capsys.readouterr().err
