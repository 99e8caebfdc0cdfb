"""Golden result documents: what rig says of every corpus log and every preset, byte for byte
(regenerate with ``pytest --regen``; a difference is a change of behaviour, never drift).

Recorded before the house was rebuilt in packages (DEVELOPERS.md); every later change to what
rig prints or writes shows up here first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rig.prediction import predict_scenario
from rig.report import prediction_summary, summary
from rig.scenario import load, presets
from tests.conftest import GOLDEN
from tests.unit.test_corpus import CASES, judged

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
    _compare(RESULTS / f"{path.stem}.json", json.dumps(doc, indent=2, default=str) + "\n", regen)
    _compare(RESULTS / f"{path.stem}.txt", summary(doc) + "\n", regen)


@pytest.mark.parametrize("name", sorted(presets()))
def test_preset_prediction(name: str, regen: bool) -> None:
    sp = predict_scenario(load(name))
    _compare(PREDICT / f"{name}.json", json.dumps(sp.to_json(), indent=2) + "\n", regen)
    _compare(PREDICT / f"{name}.txt", prediction_summary(sp) + "\n", regen)


def test_rig_parse_documents(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                             regen: bool) -> None:
    """``rig parse``'s own documents (its log names and notes): two halves of one boot paired,
    and a log alone with --dom0-mem."""
    from rig.logs import judge_logs
    from tests.unit.test_corpus import LOGS, load_case

    for name in ("fmt-dmesg-T.log", "fmt-xl-dmesg.log", "era-a-3.0-dmesg.log"):
        (tmp_path / name).write_text(load_case(LOGS / name)[1])
    monkeypatch.chdir(tmp_path)
    docs = judge_logs(["fmt-dmesg-T.log", "fmt-xl-dmesg.log"])
    docs += judge_logs(["era-a-3.0-dmesg.log"], dom0_mem="1G")
    _compare(RESULTS / "rig-parse.json", json.dumps(docs, indent=2, default=str) + "\n", regen)
