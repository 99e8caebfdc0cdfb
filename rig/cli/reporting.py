"""The reports every judging command writes for CI (``--junit``, ``--kcidb``, ``--json-out``,
``--output``): one set of options, checked before any work starts, written however the command
ends. What each status is to JUnit, KCIDB and the shell is rig.judge.check.REPORTED."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rig.errors import UsageError
from rig.files import write_atomic

if TYPE_CHECKING:
    from rig.judge.result import Result


def add(p: argparse.ArgumentParser, *, junit: str | None = None, json_out: bool = True) -> None:
    """``junit``: what a JUnit case is for this command (default: a check); ``json_out``:
    False where the command writes a document of its own under that name."""
    g = p.add_argument_group("reports for CI")
    g.add_argument("--junit", type=Path, metavar="FILE",
                   help=f"JUnit XML, a case per {junit or 'check'}: <failure> for fail and "
                        "crash, <error> for incomplete and rig's own errors, <skipped> for skip")
    g.add_argument("--kcidb", type=Path, metavar="FILE",
                   help="KCIDB JSON (schema v5): the kernel as checkout and build, a test per "
                        "check, for KernelCI's and CKI's dashboards")
    g.add_argument("--origin", default="rig", metavar="NAME",
                   help="KCIDB origin of the report's ids (lowercase letters, digits, '_'; "
                        "default rig)")
    if json_out:
        g.add_argument("--json-out", type=Path, metavar="FILE",
                       help="write the result document (several: a JSON list)")
    g.add_argument("--output", type=Path, metavar="DIR",
                   help="keep the results in DIR under fixed names (console.log, result.json, "
                        "firmware.log) instead of a dated folder in --results")


def check(a: argparse.Namespace) -> None:
    """Every report file writable and the origin valid, before any work starts."""
    from rig.output.paths import check_output, check_output_dir
    from rig.output.reports import origin_ok

    for flag in ("junit", "kcidb", "json_out"):
        check_output(getattr(a, flag, None), "--" + flag.replace("_", "-"))
    check_output_dir(getattr(a, "output", None), "--output")
    if getattr(a, "kcidb", None) and not origin_ok(a.origin):
        raise UsageError(f"--origin {a.origin!r}: KCIDB takes lowercase letters, digits and "
                         "'_' only")


def output_folder(a: argparse.Namespace) -> Path | None:
    """``--output DIR``, made (it must be new or empty)."""
    from rig.output.paths import fixed_folder

    out: Path | None = getattr(a, "output", None)
    return fixed_folder(out, "--output") if out is not None else None


def write(a: argparse.Namespace, suite: str, named: Sequence[tuple[str, Result]], *,
          junit: bool = True) -> None:
    """The reports asked for, from the named results (``junit``: False where the command
    writes its own JUnit, a case per cell or per entry)."""
    from rig.output import reports

    if junit and getattr(a, "junit", None):
        reports.junit(suite, named, a.junit)
    if getattr(a, "kcidb", None):
        write_atomic(a.kcidb, json.dumps(reports.kcidb(a.origin, named), indent=2) + "\n")
    if getattr(a, "json_out", None):
        if len(named) == 1:
            from rig.judge.result import write as write_result

            write_result(named[0][1], a.json_out)
        else:
            write_atomic(a.json_out, json.dumps([doc.to_json() for _, doc in named], indent=2)
                         + "\n")
