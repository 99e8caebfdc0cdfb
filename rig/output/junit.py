"""JUnit XML for matrices (CI systems show one test case per cell)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from rig.judge.document import Result
from rig.judge.result import Status
from rig.output.cells import Cell


def failing_checks(doc: Result | None) -> str:
    if doc is None:
        return "no result document (see stdout.txt)"
    return "; ".join(f"{c.name}: {c.message}"
                     + (f" (expected {c.expected}, observed {c.observed})"
                        if c.expected is not None or c.observed is not None else "")
                     for c in doc.problems)


def write(results: Sequence[Cell], scenario: str, path: Path) -> None:
    suite = ET.Element("testsuite", name=f"rig matrix {scenario}", tests=str(len(results)))
    counts = {"failures": 0, "errors": 0, "skipped": 0}
    for r in results:
        case = ET.SubElement(suite, "testcase", classname=f"rig.{scenario}", name=r.name,
                             time=f"{r.seconds:.3f}")
        message = failing_checks(r.doc)
        if r.status in (Status.FAIL, Status.CRASH, Status.INCOMPLETE):
            counts["failures"] += 1
            el = ET.SubElement(case, "failure", message=message[:1000], type=r.status.label)
            el.text = message
        elif r.status is Status.ERROR:
            counts["errors"] += 1
            el = ET.SubElement(case, "error", message=message[:1000], type="error")
            el.text = message
        log = (r.doc.log if r.doc else None) or str(r.folder / "stdout.txt")
        ET.SubElement(case, "system-out").text = f"console log: {log}\nresults: {r.folder}\n"
    for key, value in counts.items():
        suite.set(key, str(value))
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def write_cases(suite_name: str, cases: Sequence[tuple[str, float, str | None, str]],
                path: Path) -> None:
    """A suite of named cases, each (name, seconds, None | "failure" | "error", message)."""
    suite = ET.Element("testsuite", name=suite_name, tests=str(len(cases)))
    counts = {"failures": 0, "errors": 0}
    for name, seconds, kind, message in cases:
        case = ET.SubElement(suite, "testcase", classname=suite_name.replace(" ", "."),
                             name=name, time=f"{seconds:.3f}")
        if kind is not None:
            counts["failures" if kind == "failure" else "errors"] += 1
            el = ET.SubElement(case, kind, message=message[:1000], type=kind)
            el.text = message
    for key, value in counts.items():
        suite.set(key, str(value))
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
