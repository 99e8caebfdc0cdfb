"""JUnit XML for matrices (CI systems show one test case per cell)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rig.judge.check import Status
from rig.judge.result import Result
from rig.output.cells import CellResult


def failing_checks(doc: Result | None) -> str:
    if doc is None:
        return "no result document (see stdout.txt)"
    return "; ".join(f"{c.name}: {c.message}"
                     + (f" (expected {c.expected}, observed {c.observed})"
                        if c.expected is not None or c.observed is not None else "")
                     for c in doc.problems)


@dataclass(frozen=True)
class Case:
    name: str
    seconds: float
    #: None (it passed), "failure" or "error"
    kind: str | None = None
    #: the failure's type attribute (the status's word)
    label: str = ""
    message: str = ""
    system_out: str | None = None


def write(results: Sequence[CellResult], scenario: str, path: Path) -> None:
    """A matrix: one case per cell, its console log and results folder as its output."""
    cases = []
    for r in results:
        message = failing_checks(r.doc)
        kind = ("failure" if r.status in (Status.FAIL, Status.CRASH, Status.INCOMPLETE) else
                "error" if r.status is Status.ERROR else None)
        log = (r.doc.log if r.doc else None) or str(r.folder / "stdout.txt")
        cases.append(Case(r.name, r.seconds, kind,
                          r.status.label if kind == "failure" else "error", message,
                          f"console log: {log}\nresults: {r.folder}\n"))
    _write(f"rig matrix {scenario}", f"rig.{scenario}", cases, path,
           ("failures", "errors", "skipped"))


def write_cases(suite_name: str, cases: Sequence[tuple[str, float, str | None, str]],
                path: Path) -> None:
    """A suite of named cases, each (name, seconds, None | "failure" | "error", message)."""
    _write(suite_name, suite_name.replace(" ", "."),
           [Case(name, seconds, kind, kind or "", message)
            for name, seconds, kind, message in cases], path, ("failures", "errors"))


def _write(suite_name: str, classname: str, cases: Sequence[Case], path: Path,
           counted: tuple[str, ...]) -> None:
    suite = ET.Element("testsuite", name=suite_name, tests=str(len(cases)))
    counts = dict.fromkeys(counted, 0)
    for c in cases:
        case = ET.SubElement(suite, "testcase", classname=classname, name=c.name,
                             time=f"{c.seconds:.3f}")
        if c.kind is not None:
            counts[c.kind + "s"] += 1
            el = ET.SubElement(case, c.kind, message=c.message[:1000], type=c.label)
            el.text = c.message
        if c.system_out is not None:
            ET.SubElement(case, "system-out").text = c.system_out
    for key, value in counts.items():
        suite.set(key, str(value))
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
