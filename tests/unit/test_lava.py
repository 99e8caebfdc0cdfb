"""LAVA: the job rig writes (a qemu device's context and images), and LAVA's logs and results
read back, from a real lava-run 2023.01 of pci-hole on this machine (2026-11-30)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from rig.cli import main
from rig.domain.scenario_file import load
from rig.judge.check import CheckName
from rig.parse.scan import parse_file
from rig.runner import lava_job as lava

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lava"
RUN_LOG = FIXTURES / "pci-hole-lava-run.log"


def test_lava_run_output_is_judged_like_rig_run(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", str(RUN_LOG), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    checks = {c["name"]: c["status"] for c in doc["checks"]}
    assert doc["verdict"] == "pass"
    assert doc["linux"]["remapped_pages"] == 97 and doc["xen"]["dom0_nr_pages"] == 262144
    # the interactive test's 'q' reached Xen: its own count is judged, as in rig run
    assert checks[CheckName.XEN_ACCOUNTING] == "pass" and checks[CheckName.LAVA] == "pass"
    assert doc["log_decoded"].startswith("a LAVA job log")
    assert doc["lava"]["results"][-1] == {"definition": "lava", "case": "job",
                                          "result": "pass", "error_type": None,
                                          "error_msg": None}


def test_the_servers_log_yaml_reads_the_same(tmp_path: Path) -> None:
    """lava-server keeps the same records as a YAML list ("- {...}")."""
    server = tmp_path / "log.yaml"
    server.write_text("".join(f"- {line}" for line in RUN_LOG.read_text().splitlines(True)))
    a, b = parse_file(RUN_LOG), parse_file(server)
    assert (a.linux.remapped_pages, a.xen.dom0_tot_pages) == (97, 262144)
    assert (b.linux.remapped_pages, b.xen.dom0_tot_pages, b.lines) == (97, 262144, a.lines)
    assert b.lava is not None and b.lava.job is not None and b.lava.job.result == "pass"


def test_yaml_escapes_that_json_cannot_read(tmp_path: Path) -> None:
    log = tmp_path / "log.yaml"
    log.write_text('- {"dt": "2026-11-30T10:00:00", "lvl": "target", "msg": "\\e[0mRIG: stage '
                   'done\\x01"}\n')
    parsed = parse_file(log)
    assert parsed.init.stages == ["done"]


def test_a_lab_failure_is_an_error_not_a_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    results = FIXTURES / "results-infrastructure.yaml"
    # alone: LAVA's results only, no console: the lab failed, so exit 125
    assert main(["parse", str(results), "--json"]) == 125
    doc = json.loads(capsys.readouterr().out)
    assert doc["verdict"] == "error"
    lava_check = next(c for c in doc["checks"] if c["name"] == CheckName.LAVA)
    assert "Infrastructure" in lava_check["message"] and "503" in lava_check["message"]
    # with the console log of the same job: one boot, and LAVA's own failure decides
    assert main(["parse", str(RUN_LOG), str(results), "--json"]) == 125
    doc = json.loads(capsys.readouterr().out)
    assert doc["verdict"] == "error" and "LAVA's results from" in doc["notes"][0]


def test_the_job_gives_qemu_what_rig_render_gives(tmp_path: Path) -> None:
    s = load("seed-8g", {"machine.loader": "grub"})
    argv = ["-name", "rig-seed-8g", "-accel", "tcg", "-object", "memory-backend-ram,id=ram0,"
            "size=8G,reserve=off", "-machine", "pc,memory-backend=ram0,max-ram-below-4g=0xbb000000",
            "-cpu", "max,-smap", "-smp", "1", "-m", "8G", "-nodefaults", "-display", "none",
            "-vga", "none", "-serial", "stdio", "-monitor", "none", "-qmp", "unix:/x,server=on",
            "-no-reboot", "-net", "none", "-drive",
            "file=/out/rig.iso,format=raw,if=ide,media=cdrom,readonly=on", "-boot", "d"]
    lab = lava.split_args(argv)
    assert lab.extra == ["-object", "memory-backend-ram,id=ram0,size=8G,reserve=off",
                         "-machine", "pc,memory-backend=ram0,max-ram-below-4g=0xbb000000",
                         "-cpu", "max,-smap", "-smp", "1", "-vga", "none", "-no-reboot"]
    files = {"rig.iso": "https://lab.example/rig/rig.iso", "rig.iso:local": "/out/rig.iso"}
    job = lava.job(s, lab, files)
    assert job["context"] == {"arch": "amd64", "no_kvm": True, "memory": "8G",
                              "extra_options": lab.extra}
    deploy = job["actions"][0]["deploy"]
    assert deploy["images"] == {"iso": {
        "url": "https://lab.example/rig/rig.iso",
        "image_arg": "-drive file={iso},format=raw,if=ide,media=cdrom,readonly=on -boot d"}}
    boot, test = job["actions"][1]["boot"], job["actions"][2]["test"]
    assert boot["prompts"] == ["RIG: stage done"]
    assert test["interactive"][0]["script"][0]["command"] == "\x01\x01\x01"
    # a YAML round trip keeps the control characters
    assert yaml.safe_load(yaml.safe_dump(job)) == job
    device = lava.device(job["context"])
    qemu = device["actions"]["boot"]["methods"]["qemu"]["parameters"]
    assert qemu["options"][:1] == ["-nographic"] and "-m 8G" in qemu["options"]
    assert qemu["extra"] == lab.extra


def test_the_test_firmware_is_deployed_and_its_debug_console_dropped() -> None:
    s = load("seed-8g")
    job = lava.job_for(s, Path("/srv/rig/seed-8g"), "https://lab.example/rig")
    images = job["actions"][0]["deploy"]["images"]
    assert images["bios"] == {"url": "https://lab.example/rig/bios.bin",
                              "image_arg": "-bios {bios}"}
    assert images["e820"] == {"url": "https://lab.example/rig/rig-e820.bin",
                              "image_arg": "-fw_cfg name=opt/rig/e820,file={e820}"}
    assert "-kernel {xen}" in images["xen"]["image_arg"]
    extra = job["context"]["extra_options"]
    assert not any("debugcon" in x for x in extra), extra
    assert "-global" not in extra


@pytest.mark.parametrize("name", ["pci-hole", "seed-8g"])
def test_the_examples_are_what_rig_writes(name: str) -> None:
    """examples/lava/*-job.yaml are rig's own output (golden files for the job template)."""
    path = Path(__file__).resolve().parents[2] / "examples" / "lava" / f"{name}-job.yaml"
    job = lava.job_for(load(name), Path("/srv/rig") / name,
                       f"https://artifacts.example/rig/{name}")
    assert yaml.safe_load(path.read_text()) == job


def test_the_lab_gets_the_checks_the_guest_can_make() -> None:
    """/init compares dom0's remap with rig predict's count, rendered in (the lab never runs
    rig's judge), and a monitor test turns each "RIG: check NAME pass|fail" into a LAVA test
    case."""
    import re
    import subprocess

    s = load("pci-hole")
    lines = lava.guest_checks(s)
    assert lines[0] == 'echo "RIG: checks"'
    assert any(line.startswith("rig_check predicted_remap 97 ") for line in lines)
    job = lava.job_for(s, Path("/srv/rig/pci-hole"), "https://lab.example/rig")
    boot, monitor = job["actions"][1]["boot"], job["actions"][2]["test"]["monitors"][0]
    assert boot["prompts"] == ["RIG: stage init"]
    assert (monitor["start"], monitor["end"]) == ("RIG: checks", "RIG: stage done")
    # the lines as a shell runs them, against a kernel's ring buffer, read by LAVA's pattern
    for printed, result in (("97", "pass"), ("98", "fail")):
        dmesg = (f'dmesg() {{ printf "[    3.1] Remapped {printed} page(s)\\n'
                 '[    3.2] Remapped 2 non-RAM page(s)\\n"; }\n')
        out = subprocess.run(["sh", "-c", dmesg + "\n".join(lines)], capture_output=True,
                             text=True, check=True).stdout
        cases = {m["test_case_id"]: m["result"]
                 for m in re.finditer(monitor["pattern"], out)}
        assert cases == {CheckName.PREDICTED_REMAP: result, CheckName.BOOT: "pass"}, out
