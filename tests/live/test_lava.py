"""rig's LAVA job on LAVA's own dispatcher (lava-run, Debian 12's lava-dispatcher 2023.01): the
job boots the scenario on a qemu device as lava-server's device type renders it, and `rig parse`
of LAVA's log gives the verdict, the counts and the checks `rig run` gives for the same
scenario; LAVA's own results hold the checks /init made in the guest, by rig's names. Both
boot Xen by QEMU's multiboot loader; seed-8g's holes are made by rig's test firmware, deployed
as two more images (-bios, -fw_cfg)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from rig.cli import main
from rig.domain.scenario_file import load
from rig.judge.check import CheckName
from rig.runner.run import RunOptions, run

pytestmark = pytest.mark.boot

SHARED = (CheckName.MODEL, CheckName.CRASH, CheckName.REMAPPED, CheckName.RELEASED,
          CheckName.NOTHING_LOST, CheckName.XEN_ACCOUNTING, CheckName.NR_PAGES)


@pytest.mark.parametrize("name", ["pci-hole", "seed-8g"])
def test_lava_job_gives_rig_runs_verdict(name: str, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str],
                                         no_leaked_qemu: object) -> None:
    lava_run = shutil.which("lava-run")
    assert lava_run is not None, "lava-dispatcher is installed by ./scripts/test's setup"
    doc_result, _ = run(load(name), RunOptions(accel="tcg", results=tmp_path / "run"))
    doc = doc_result.to_json()
    out = tmp_path / "lava"
    assert main(["lava", "job", name, "-o", str(out)]) == 0
    capsys.readouterr()
    log = out / "lava.log"
    with open(log, "wb") as err:
        proc = subprocess.run([lava_run, "--job-id", "1", "--device", str(out / "device.yaml"),
                               "--output-dir", str(out / "lava"), str(out / "job.yaml")],
                              stdout=subprocess.DEVNULL, stderr=err, timeout=900)
    assert proc.returncode == 0, log.read_text()[-3000:]
    code = main(["parse", str(log), "--json"])
    lava_doc = json.loads(capsys.readouterr().out)
    assert (lava_doc["verdict"], code) == (doc["verdict"], 0), lava_doc["checks"]
    for key in ("remapped_pages", "released_pages", "balloon_current_kb"):
        assert lava_doc["linux"][key] == doc["linux"][key], key
    for key in ("dom0_nr_pages", "dom0_tot_pages"):
        assert lava_doc["xen"][key] == doc["xen"][key], key
    ours = {c["name"]: c["status"] for c in doc["checks"]}
    theirs = {c["name"]: c["status"] for c in lava_doc["checks"]}
    assert {k: theirs.get(k) for k in SHARED} == {k: ours.get(k) for k in SHARED}
    assert theirs[CheckName.LAVA] == "pass"
    # the lab's own results hold the checks the guest made (rig.runner.lava_job.guest_checks)
    cases = {r["case"]: r["result"] for r in lava_doc["lava"]["results"]}
    assert cases.get(CheckName.PREDICTED_REMAP) == "pass", cases
    assert cases.get(CheckName.BOOT) == "pass", cases
