"""DEVELOPERS.md's rule, enforced: pure code never imports the machine layer."""

from __future__ import annotations

import subprocess
import sys

PURE = ["rig.layout", "rig.dom0mem", "rig.scenario", "rig.model", "rig.firmware",
        "rig.prediction", "rig.kconfig", "rig.parse", "rig.checks",
        "rig.report", "rig.replay", "rig.html", "rig.cost", "rig.fuzz"]
MACHINE = {"rig.machine", "rig.console", "rig.images", "rig.run", "rig.build", "rig.matrix",
           "pexpect", "qemu.qmp"}


def test_pure_modules_do_not_pull_in_the_machine_layer() -> None:
    code = (f"import sys, {', '.join(PURE)}\n"
            f"print(sorted(m for m in sys.modules if m in {sorted(MACHINE)!r}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]", f"pure modules imported {out}"
