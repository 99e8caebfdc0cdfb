"""rig's results as CI systems read them: JUnit XML (a case per check) and KCIDB JSON (the
kernel as checkout and build, a test per check), from result documents. Pure.

Each status is said as rig.judge.check.REPORTED says; nothing here decides one. A named result
is one boot or one log: ``(name, result)``, the name unique within the report (a matrix cell, a
log file, a scenario). KCIDB's schema is kcidb-io's (v5); the suite validates with it.
"""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeAlias

from rig.judge.check import CheckName
from rig.judge.records import CheckRecord
from rig.judge.result import Result

Named = tuple[str, Result]
#: a KCIDB object (checkout, build, test or the report): JSON as kcidb-io's schema has it
Kcidb: TypeAlias = "dict[str, Any]"

#: checks whose figures are dom0's pages, and the balloon's (kB, as Linux prints it)
_UNITS = {CheckName.REMAPPED: "pages", CheckName.RELEASED: "pages",
          CheckName.NONRAM_REMAPPED: "pages", CheckName.NOTHING_LOST: "pages",
          CheckName.XEN_ACCOUNTING: "pages", CheckName.NR_PAGES: "pages",
          CheckName.PREDICTED_REMAP: "pages", CheckName.BALLOON_TARGET: "KiB"}
KCIDB_VERSION = {"major": 5, "minor": 3}
_ORIGIN = re.compile(r"^[a-z0-9_]+$")
_PART = re.compile(r"[^a-zA-Z0-9_-]+")


def origin_ok(origin: str) -> bool:
    """KCIDB's origin: lowercase letters, digits and underscores."""
    return bool(_ORIGIN.match(origin))


# -- JUnit ------------------------------------------------------------------------------------

def junit(suite: str, results: Sequence[Named], path: Path) -> None:
    """One <testsuite> per result, a <testcase> per check: <failure> for fail and crash,
    <error> for incomplete and rig's own errors, <skipped> for skip; the console log's path
    as a property of the suite."""
    top = ET.Element("testsuites", name=suite)
    for name, doc in results:
        ts = ET.SubElement(top, "testsuite", name=name, tests=str(len(doc.checks)))
        props = ET.SubElement(ts, "properties")
        ET.SubElement(props, "property", name="verdict", value=doc.verdict.value)
        if doc.log:
            ET.SubElement(props, "property", name="console_log", value=doc.log)
        counts = {"failure": 0, "error": 0, "skipped": 0}
        seconds = _seconds(doc)
        for c in doc.checks:  # a check takes no time of its own: the boot's is the suite's
            case = ET.SubElement(ts, "testcase", classname=f"rig.{_part(name)}", name=c.name)
            kind = c.status.reported.junit
            if kind is None:
                continue
            counts[kind] += 1
            el = ET.SubElement(case, kind, message=_words(c)[:1000], type=c.status.value)
            if kind != "skipped":
                el.text = _words(c)
        ts.set("failures", str(counts["failure"]))
        ts.set("errors", str(counts["error"]))
        ts.set("skipped", str(counts["skipped"]))
        ts.set("time", f"{seconds:.3f}")
    ET.indent(top)
    ET.ElementTree(top).write(path, encoding="utf-8", xml_declaration=True)


def _words(c: CheckRecord) -> str:
    extra = (f" (expected {c.expected}, observed {c.observed})"
             if c.expected is not None or c.observed is not None else "")
    return f"{c.status.value}: {c.message}{extra}"


def _seconds(doc: Result) -> float:
    t = doc.timings
    total = getattr(t, "total_s", None) if t is not None else None
    return float(total) if isinstance(total, (int, float)) else 0.0


# -- KCIDB ------------------------------------------------------------------------------------

def kcidb(origin: str, results: Sequence[Named], *, when: datetime | None = None
          ) -> Kcidb:
    """A KCIDB report: each distinct dom0 kernel as a checkout and a build (its image's
    sha256, or the version the log names), each check of each result as a test under
    ``rig.NAME.CHECK``; the console log as the test's log_url, Xen as its environment."""
    stamp = (when or datetime.now(UTC)).isoformat(timespec="seconds")
    checkouts: dict[str, Kcidb] = {}
    builds: dict[str, Kcidb] = {}
    tests: list[Kcidb] = []
    for name, doc in results:
        key, comment = _kernel(doc)
        checkout_id, build_id = f"{origin}:{key}", f"{origin}:{key}"
        checkouts.setdefault(checkout_id, {"id": checkout_id, "origin": origin,
                                           "comment": comment, "start_time": stamp})
        builds.setdefault(build_id, {"id": build_id, "checkout_id": checkout_id,
                                     "origin": origin, "architecture": "x86_64",
                                     "comment": comment, "start_time": stamp,
                                     "status": "PASS"})
        run = _run_id(name, doc)
        for c in doc.checks:
            tests.append(_test(origin, build_id, run, name, doc, c, stamp))
    return {"version": KCIDB_VERSION, "checkouts": list(checkouts.values()),
            "builds": list(builds.values()), "tests": tests}


def _test(origin: str, build_id: str, run: str, name: str, doc: Result, c: CheckRecord,
          stamp: str) -> Kcidb:
    test: Kcidb = {
        "id": f"{origin}:{run}.{c.name}", "build_id": build_id, "origin": origin,
        "path": f"rig.{_part(name)}.{_part(c.name)}", "status": c.status.reported.kcidb,
        "comment": c.message[:1000] or c.name, "start_time": stamp,
        "misc": {"rig_status": c.status.value, "expected": _plain(c.expected),
                 "observed": _plain(c.observed), "verdict": doc.verdict.value}}
    unit = _UNITS.get(known) if (known := CheckName.of(c.name)) is not None else None
    if isinstance(c.observed, int) and not isinstance(c.observed, bool) and unit is not None \
            and c.status.reported.kcidb in ("PASS", "FAIL", "ERROR"):
        test["number"] = {"value": c.observed, "unit": unit}
    if doc.log:
        test["log_url"] = Path(doc.log).resolve().as_uri()
    if (seconds := _seconds(doc)) > 0:
        test["duration"] = seconds
    if doc.xen.version:
        test["environment"] = {"comment": f"Xen {doc.xen.version} under QEMU"
                               if doc.scenario is not None else f"Xen {doc.xen.version}"}
    return test


def _kernel(doc: Result) -> tuple[str, str]:
    """The kernel a result judged: (an id part, words for it)."""
    if doc.artifacts is not None:
        k = doc.artifacts.kernel
        words = (f"{k.package} {k.version}" if k.package != "(user file)" else k.path)
        return f"kernel-{k.sha256[:16]}", words
    version = doc.linux.version or "unknown"
    return f"linux-{_part(version)}", f"Linux {version}"


def _run_id(name: str, doc: Result) -> str:
    """A test run's id: the results folder or log it came from, hashed with the name so that
    two reports of the same run agree and two runs never collide."""
    where = doc.log or name
    return f"{_part(name)}-{hashlib.sha256(where.encode()).hexdigest()[:12]}"


def _part(text: str) -> str:
    """A KCIDB path component: letters, digits, '_' and '-' ("6.12" becomes "6_12")."""
    return _PART.sub("_", text).strip("_") or "_"


def _plain(value: object) -> object:
    return value if isinstance(value, (int, float, str, bool)) or value is None else str(value)
