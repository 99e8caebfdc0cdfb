"""A CI job's view of one boot (issue 31): the serial console streamed (-v), the QEMU chosen
(--qemu, $RIG_QEMU) and recorded, the results in a folder of fixed names (--output), JUnit and
KCIDB read back by their real clients, and -q's verdict alone."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import kcidb_io
import pytest
from junitparser import JUnitXml

pytestmark = [pytest.mark.boot, pytest.mark.usefixtures("no_leaked_qemu")]
RIG = [sys.executable, "-m", "rig.cli"]


def test_one_boot_as_a_ci_job_sees_it(tmp_path: Path) -> None:
    qemu = shutil.which("qemu-system-x86_64")
    assert qemu is not None
    link = tmp_path / "my-qemu"  # a QEMU of the job's own, as Xen's CI gives QEMU_PREFIX
    link.symlink_to(qemu)
    out = tmp_path / "out"
    proc = subprocess.run([*RIG, "run", "pci-hole", "--quick", "--accel", "tcg", "-v",
                           "--qemu", str(link), "--output", str(out),
                           "--junit", str(tmp_path / "junit.xml"),
                           "--kcidb", str(tmp_path / "kcidb.json"), "--origin", "xen_ci"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "(XEN) Xen version" in proc.stdout and "Linux version" in proc.stdout  # streamed
    assert "rig: booting pci-hole (tcg)" in proc.stderr  # off a terminal: the step is said
    assert {p.name for p in out.iterdir()} >= {"console.log", "result.json"}
    doc = json.loads((out / "result.json").read_text())
    assert doc["accelerator"]["qemu"] == str(link)
    kcidb = json.loads((tmp_path / "kcidb.json").read_text())
    kcidb_io.schema.LATEST.validate(kcidb)
    assert {t["path"].split(".")[-1] for t in kcidb["tests"]} == {c["name"] for c in doc["checks"]}
    (suite,) = list(JUnitXml.fromfile(str(tmp_path / "junit.xml")))
    props = {p.name: p.value for p in suite.properties()}  # type: ignore[no-untyped-call]
    assert props["console_log"] == str(out / "console.log")
    # $RIG_QEMU, and -q: the verdict alone
    quiet = subprocess.run([*RIG, "run", "pci-hole", "--quick", "--accel", "tcg", "-q",
                            "--results", str(tmp_path / "r")], capture_output=True, text=True,
                           env={**os.environ, "RIG_QEMU": str(link)}, timeout=600)
    assert (quiet.returncode, quiet.stdout) == (0, "PASS\n"), quiet.stderr


def test_a_qemu_that_is_not_there_is_the_users_to_fix(tmp_path: Path) -> None:
    proc = subprocess.run([*RIG, "run", "pci-hole", "--qemu", str(tmp_path / "nope")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "--qemu" in proc.stderr and "no such executable" in proc.stderr
    env = {**os.environ, "RIG_QEMU": str(tmp_path / "nope")}
    proc = subprocess.run([*RIG, "run", "pci-hole"], capture_output=True, text=True, env=env,
                          timeout=60)
    assert proc.returncode == 2 and "RIG_QEMU" in proc.stderr
