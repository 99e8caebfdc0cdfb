"""A boot's result (a JSON document, schema 1): one type for ``rig parse``, ``rig run``, matrices
and the pytest plugin, written and read in one place; its sections are rig.judge.records.

``Result`` is what every output reads; ``Result.of`` makes one of a judged log, ``to_json``
gives the document's builtins (key order as written since schema 1) and ``from_json`` checks a
document and names the field that is wrong.
"""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
from msgspec import UNSET, UnsetType

from rig import __version__
from rig.errors import UsageError
from rig.files import write_atomic
from rig.judge.check import Check, CheckName, Status, verdict_of
from rig.judge.judgement import Judgement
from rig.judge.records import (
    AcceleratorRecord,
    ArtifactsRecord,
    Builtins,
    CheckRecord,
    ConsoleRecord,
    CutRecord,
    HitRecord,
    InitRecord,
    LinuxRecord,
    Live,
    ModelInputs,
    PredictionRecord,
    PvhPredictionRecord,
    PvPredictionRecord,
    QemuCommand,
    ResultRecord,
    ScenarioPredictionRecord,
    ScenarioRecord,
    TimingsRecord,
    XenRecord,
    prediction_record,
)
from rig.parse.collect import ParsedLog
from rig.parse.lava import LavaInfo

SCHEMA = 1


class Result(ResultRecord, kw_only=True):
    """One boot's result: the checks and verdict, what Xen, Linux and /init printed, the
    prediction and the model's inputs, what the log looked like, and (live runs) the machine.
    ``notes`` only in ``rig parse``'s documents (how the files were read)."""

    schema: int = SCHEMA
    #: the rig that wrote the document (absent in documents before 2026-12-01)
    rig_version: str | UnsetType = UNSET
    verdict: Status
    checks: list[CheckRecord]
    xen: XenRecord
    linux: LinuxRecord
    init: InitRecord
    prediction: PredictionRecord | None
    model_inputs: ModelInputs
    crashes: list[HitRecord]
    log_lines: int
    log_rejoined: int
    log_decoded: str | None
    lava: LavaInfo | None
    log_cut: list[CutRecord]
    log_tail: list[str]
    scenario: ScenarioRecord | None = None
    scenario_prediction: ScenarioPredictionRecord | None = None
    accelerator: AcceleratorRecord | None = None
    artifacts: ArtifactsRecord | None = None
    timings: TimingsRecord | None = None
    console: ConsoleRecord | None = None
    log: str | None = None
    machine: QemuCommand | None = None
    firmware_log: str | UnsetType = UNSET
    mode: str | UnsetType = UNSET
    notes: list[str] | UnsetType = UNSET
    #: a log of several boots (the last is judged): where each after the first begins, and the
    #: crash lines of the boots before the judged one
    log_boot_starts: list[int] | UnsetType = UNSET
    earlier_crashes: list[HitRecord] | UnsetType = UNSET

    @property
    def pv_prediction(self) -> PvPredictionRecord | None:
        return self.prediction if isinstance(self.prediction, PvPredictionRecord) else None

    @property
    def pvh_prediction(self) -> PvhPredictionRecord | None:
        return self.prediction if isinstance(self.prediction, PvhPredictionRecord) else None

    @property
    def problems(self) -> list[CheckRecord]:
        """The checks that did not pass or skip."""
        return [c for c in self.checks if c.status not in (Status.PASS, Status.SKIP)]

    def check(self, name: CheckName) -> CheckRecord | None:
        return next((c for c in self.checks if c.name == name), None)

    def to_json(self) -> Builtins:
        """The document as JSON builtins."""
        return self.to_builtins()

    def to_text(self) -> str:
        """The document as rig writes it (result.json, --json-out)."""
        return json.dumps(self.to_json(), indent=2) + "\n"

    @staticmethod
    def from_json(data: object) -> Result:
        """A document's builtins as a Result; ValueError names the field that is wrong."""
        try:
            return msgspec.convert(data, Result, dec_hook=_decode)
        except msgspec.ValidationError as exc:
            raise ValueError(str(exc)) from None

    @staticmethod
    def of(parsed: ParsedLog, judgement: Judgement, extra_checks: list[Check] | None = None,
           live: Live | None = None) -> Result:
        """The result of a judged log; ``live``: what a live run adds (the machine, its timings)."""
        checks = list(judgement.checks) + list(extra_checks or [])
        live = live or Live()
        return Result(
            rig_version=__version__,
            verdict=verdict_of(checks),
            checks=[CheckRecord(name=c.name, status=c.status, expected=c.expected,
                                observed=c.observed, message=c.message) for c in checks],
            xen=XenRecord.of(parsed.xen),
            linux=LinuxRecord.of(parsed.linux, parsed.init),
            init=InitRecord.of(parsed.init),
            prediction=prediction_record(judgement.prediction, judgement.pvh),
            model_inputs=judgement.inputs,
            crashes=[HitRecord.of(h) for h in parsed.crashes],
            log_lines=parsed.lines,
            log_rejoined=parsed.rejoined,
            log_decoded=parsed.decoded,
            lava=parsed.lava,
            log_cut=[CutRecord(line=no, message=what, text=text) for no, what, text in parsed.cut],
            log_tail=list(parsed.tail),
            scenario=live.scenario,
            scenario_prediction=live.scenario_prediction,
            accelerator=live.accelerator,
            artifacts=live.artifacts,
            timings=live.timings,
            console=live.console,
            log=live.log,
            machine=live.machine,
            firmware_log=live.firmware_log,
            mode=live.mode,
            log_boot_starts=list(parsed.boot_starts) if parsed.boot_starts else UNSET,
            earlier_crashes=[HitRecord.of(h) for h in parsed.earlier_crashes]
            if parsed.boot_starts else UNSET,
        )


def _decode(kind: type, value: object) -> object:
    """The one field msgspec cannot tell by its type: a prediction is PVH's when it has a
    ``mode`` (schema 1 gives the PV form no tag)."""
    if kind is PredictionRecord:
        form = PvhPredictionRecord if isinstance(value, dict) and "mode" in value \
            else PvPredictionRecord
        try:
            return msgspec.convert(value, form)
        except msgspec.ValidationError as exc:
            raise ValueError(f"{exc} (in the prediction)") from None
    raise NotImplementedError(kind)


def load(path: Path) -> Result:
    """A result document written by rig (result.json); anything else is a usage error."""
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a directory") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: not a rig result document ({exc})") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA or "checks" not in data:
        raise UsageError(f"{path}: not a rig result document (no schema {SCHEMA} and checks)")
    try:
        return Result.from_json(data)
    except ValueError as exc:
        raise UsageError(f"{path}: not a rig result document of schema {SCHEMA}: {exc}") \
            from None


def write(result: Result, path: Path) -> None:
    """Atomically: a reader never sees half a document."""
    write_atomic(path, result.to_text())
