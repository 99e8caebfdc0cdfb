"""LAVA's own files: a job's log (``log.yaml`` from the server, or ``lava-run``'s output) and its
results (``results.yaml``). Pure.

The log is one YAML flow mapping per line (lava_common/log.py ``dump``), on the server with a
leading ``- ``::

    - {"dt": "2026-11-30T10:41:02.531221", "lvl": "target", "msg": "(XEN) Xen version 4.17.7"}

``lvl: target`` lines are the serial console, verbatim; ``lvl: results`` lines carry LAVA's own
verdicts ({definition, case, result, error_type, ...}). Scalars are YAML double-quoted strings,
so escapes like ``\\e`` or ``\\x01`` are YAML's, not JSON's: JSON is tried first (fast), YAML
when it fails.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, TypeAlias

#: one record of LAVA's log or results, as YAML gives it (LAVA's format, not rig's)
LavaRecord: TypeAlias = dict[str, Any]

_LINE = re.compile(r'^(?:- )?\{"dt": ')
#: a results.yaml larger than this is not read as one (it is a log of some other kind)
MAX_RESULTS = 16 << 20
#: LAVA's error types that say the lab failed, not the device under test (lava_common
#: exceptions: InfrastructureError, ConfigurationError, LAVABug; a cancel is nobody's verdict)
INFRASTRUCTURE = {"Infrastructure", "Configuration", "Bug", "Canceled"}


@dataclass
class LavaResult:
    definition: str
    case: str
    result: str
    error_type: str | None = None
    error_msg: str | None = None


@dataclass
class LavaInfo:
    #: where they came from: "log" (results lines of a job log) or "results.yaml"
    source: str = "log"
    results: list[LavaResult] = field(default_factory=list)

    @property
    def job(self) -> LavaResult | None:
        return next((r for r in self.results if r.definition == "lava" and r.case == "job"),
                    None)


def looks_like_log(head: bytes) -> bool:
    """The first non-empty line of ``head`` is a LAVA log record."""
    for raw in head.splitlines():
        text = raw.decode("utf-8", "replace").strip()
        if text:
            return bool(_LINE.match(text))
    return False


def _yaml() -> ModuleType:
    """PyYAML, imported when a LAVA file is read: 23 ms of every start otherwise."""
    import yaml

    return yaml


def _record(line: str) -> LavaRecord | None:
    text = line.strip()
    if text.startswith("- "):
        text = text[2:]
    if not text.startswith("{"):
        return None
    try:
        data = json.loads(text)
    except ValueError:
        yaml = _yaml()
        try:
            data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except yaml.YAMLError:
            return None
    return data if isinstance(data, dict) else None


def _result(msg: LavaRecord) -> LavaResult:
    extra = msg.get("extra") if isinstance(msg.get("extra"), dict) else {}
    return LavaResult(str(msg.get("definition", "")), str(msg.get("case", "")),
                      str(msg.get("result", "")),
                      (extra or {}).get("error_type") or msg.get("error_type"),
                      (extra or {}).get("error_msg") or msg.get("error_msg"))


def read_log(text: str) -> tuple[Iterator[str], LavaInfo]:
    """The console lines (each with its line end) and LAVA's results of a job log."""
    info = LavaInfo(source="log")

    def lines() -> Iterator[str]:
        for line in text.splitlines():
            rec = _record(line)
            if rec is None:
                continue
            lvl, msg = rec.get("lvl"), rec.get("msg")
            if lvl == "target" and isinstance(msg, str):
                yield msg + "\n"
            elif lvl == "results" and isinstance(msg, dict):
                info.results.append(_result(msg))

    return lines(), info


def looks_like_results(head: bytes) -> bool:
    """A YAML list of mappings: ``- key: value`` or ``- {...}`` first."""
    text = re.sub(r"\A(?:\s*#[^\n]*\n)*", "", head.decode("utf-8", "replace")).lstrip()
    return bool(re.match(r"-\s+(?:\w+:|\{)", text))


class ResultsError(ValueError):
    """A file that starts like LAVA's results.yaml is not one: the message says why."""


def read_results(text: str) -> LavaInfo:
    """A ``results.yaml`` (lavacli's or the server's results of a job): a YAML list of
    results, each with suite/definition, name/case, result and metadata. ResultsError says
    what is wrong with one that is not (the YAML error, with its line)."""
    yaml = _yaml()
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise ResultsError(f"it is not valid YAML: {' '.join(str(exc).split())}") from None
    if not isinstance(data, list) or not data or not all(isinstance(d, dict) for d in data):
        raise ResultsError("it is not a YAML list of results (mappings)")
    bad = next((i for i, d in enumerate(data)
                if not ("result" in d and ("name" in d or "case" in d))), None)
    if bad is not None:
        raise ResultsError(f"its result {bad + 1} has no 'result' and 'name' (or 'case')")
    out = LavaInfo(source="results.yaml")
    for d in data:
        meta = d.get("metadata")
        if isinstance(meta, str):  # some server versions keep it as YAML text
            try:
                meta = yaml.safe_load(meta)
            except yaml.YAMLError:
                meta = {}
        meta = meta if isinstance(meta, dict) else {}
        if isinstance(meta.get("extra"), dict):
            meta = {**meta["extra"], **meta}
        out.results.append(LavaResult(
            str(d.get("suite") or d.get("definition") or ""),
            str(d.get("name") or d.get("case") or ""), str(d.get("result", "")),
            (meta or {}).get("error_type") or d.get("error_type"),
            (meta or {}).get("error_msg") or d.get("error_msg")))
    return out


__all__ = ["INFRASTRUCTURE", "MAX_RESULTS", "LavaInfo", "LavaResult", "looks_like_log",
           "looks_like_results", "read_log", "read_results"]
