"""Golden result documents: what rig says of every corpus log and every preset, byte for byte
(regenerate with ``pytest --regen``; a difference is a change of behaviour, never drift).

Recorded before the house was rebuilt in packages (DEVELOPERS.md) and checked after every move;
every later change to what rig prints or writes shows up here first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rig.domain.scenario_file import load, presets
from rig.errors import UsageError
from rig.judge.check import CheckName
from rig.judge.records import ScenarioPredictionRecord
from rig.judge.result import Result
from rig.judge.result import load as load_result
from rig.layouts import replayed
from rig.model.prediction import predict_scenario
from rig.output import html, junit, reports
from rig.output.cells import Cell, CellResult
from rig.output.summary import prediction_summary, summary
from rig.output.tables import compare_table, matrix_table
from rig.runner import fuzz
from rig.runner.saved_logs import judge_logs
from tests.conftest import GOLDEN, LOGS, TESTS
from tests.corpus import CASES, judged, load_case, parsed_body

RESULTS = GOLDEN / "results"
PREDICT = GOLDEN / "predict"


def _compare(path: Path, text: str, regen: bool) -> None:
    if regen:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.read_text() == text, f"{path.name} differs; rerun with --regen if intended"


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_corpus_document(path: Path, regen: bool) -> None:
    _, doc = judged(path)
    _compare(RESULTS / f"{path.stem}.json", doc.to_text(), regen)
    _compare(RESULTS / f"{path.stem}.txt", summary(doc) + "\n", regen)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_corpus_document_reads_back(path: Path) -> None:
    """A document read back is the same document (what matrices and ``rig report`` read)."""
    _, doc = judged(path)
    again = Result.from_json(json.loads(doc.to_text()))
    assert again.to_text() == doc.to_text()
    assert summary(again) == summary(doc)


def test_a_check_this_rig_does_not_make_reads_back(tmp_path: Path) -> None:
    """A document another rig wrote may name a check this one does not make (CheckRecord.name
    is a string, not a CheckName): it loads, writes back byte for byte, and its outputs name
    it; rig fuzz counts its disagreement as rig's, KCIDB gives it no unit."""
    _, doc = judged(LOGS / "rig-pci-hole-6.1.log")
    data = doc.to_json()
    data["checks"][0].update(name="a_later_check", status="fail", observed=7)
    text = json.dumps(data, indent=2) + "\n"
    (tmp_path / "result.json").write_text(text)
    again = load_result(tmp_path / "result.json")
    assert again.to_text() == text
    [other] = [c for c in again.checks if CheckName.of(c.name) is None]
    assert other.name == "a_later_check" and CheckName.of(doc.checks[1].name) is not None
    assert "a_later_check" in summary(again)
    assert ("a_later_check", "fail", "rig", other.message) in fuzz.disagreements(again)
    [test] = [t for t in reports.kcidb("rig", [("x", again)])["tests"]
              if t["path"].endswith(".a_later_check")]
    assert "number" not in test


@pytest.mark.parametrize("name", sorted(presets()))
def test_preset_prediction(name: str, regen: bool) -> None:
    sp = predict_scenario(load(name))
    _compare(PREDICT / f"{name}.json",
             json.dumps(ScenarioPredictionRecord.of(sp).to_builtins(), indent=2) + "\n", regen)
    _compare(PREDICT / f"{name}.txt", prediction_summary(sp) + "\n", regen)


def test_rig_parse_documents(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                             regen: bool) -> None:
    """``rig parse``'s own documents (its log names and notes): two halves of one boot paired,
    and a log alone with --dom0-mem."""
    for name in ("fmt-dmesg-T.log", "fmt-xl-dmesg.log", "era-a-3.0-dmesg.log"):
        (tmp_path / name).write_text(load_case(LOGS / name)[1])
    monkeypatch.chdir(tmp_path)
    docs = judge_logs(["fmt-dmesg-T.log", "fmt-xl-dmesg.log"])
    docs += judge_logs(["era-a-3.0-dmesg.log"], dom0_mem="1G")
    _compare(RESULTS / "rig-parse.json",
             json.dumps([d.to_json() for d in docs], indent=2) + "\n", regen)


def _cells() -> list[CellResult]:
    """Three corpus results as the cells of a matrix (a seed compare's shape)."""
    out = []
    for i, (name, kernel, mem) in enumerate((("rig-pci-hole-6.1.log", "6.1", ""),
                                             ("rig-many-holes-6.1.log", "6.1", "3G"),
                                             ("rig-pci-hole-cpu-max-crash.log", "6.1", "max:3G"))):
        _, doc = judged(LOGS / name)
        doc.log = f"/results/{name}"
        cell = Cell(i, (("dom0.kernel", kernel), ("xen.dom0_mem", mem)))
        out.append(CellResult(cell, Path(f"/results/{i:03d}"), 0, 10.0 + i, doc))
    return out


def test_outputs_of_results(tmp_path: Path, regen: bool) -> None:
    """The HTML report, JUnit, and the matrix and compare tables of the same results."""
    cells = _cells()
    _compare(RESULTS / "report.html", html.page([(r.name, r.doc) for r in cells if r.doc],
                                                "golden", base=Path("/results")), regen)
    junit.write(cells, "golden", tmp_path / "junit.xml")
    _compare(RESULTS / "junit.xml", (tmp_path / "junit.xml").read_text(), regen)
    _compare(RESULTS / "matrix.txt", matrix_table(cells) + "\n", regen)
    _compare(RESULTS / "compare.txt",
             compare_table(cells, ["6.1"], ["", "3G", "max:3G"]) + "\n", regen)


REAL = sorted(p for p in CASES if p.name.startswith("real-"))


@pytest.mark.parametrize("path", REAL, ids=[p.stem for p in REAL])
def test_replay_of_real_machines(path: Path, regen: bool) -> None:
    """``rig replay --no-boot``'s scenario and fidelity table for every real machine."""
    try:
        rp = replayed.derive(parsed_body(path), name="golden", budget=None)
    except UsageError as exc:
        text = f"refused: {exc}\n"
    else:
        fid = replayed.fidelity(rp, None, "6.1")
        text = rp.to_toml() + "\n" + "\n".join(rp.notes) + "\n\n" + fid.to_text() + "\n" + \
            json.dumps(fid.to_json(), indent=2) + "\n"
    _compare(GOLDEN / "replay" / f"{path.stem}.txt", text, regen)


LAVA = ("pci-hole-lava-run.log", "results-pass.yaml", "results-infrastructure.yaml")


@pytest.mark.parametrize("name", LAVA)
def test_lava_documents(name: str, monkeypatch: pytest.MonkeyPatch, regen: bool) -> None:
    """``rig parse --json`` of LAVA's job log and results (tests/fixtures/lava)."""
    monkeypatch.chdir(TESTS.parent)
    (doc,) = judge_logs([f"tests/fixtures/lava/{name}"])
    _compare(GOLDEN / "lava" / f"{name}.json", doc.to_text(), regen)
