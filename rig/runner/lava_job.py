"""``rig lava job``: a LAVA job definition that boots a scenario on a LAVA ``qemu`` device
(KernelCI's labs run LAVA), and a device dictionary to run it on this machine with ``lava-run``.

The job carries rig's machine in the job ``context``, the way lava-server's ``qemu`` device type
(etc/dispatcher-config/device-types/qemu.jinja2) reads it: ``arch``, ``no_kvm``, ``memory`` and
``extra_options`` (appended to the template's ``-nographic``, ``-net nic ... -net user``, ``-m``,
``-monitor none``). Xen, dom0's kernel, the initrd (or the GRUB ISO when the scenario asks for
GRUB), rig's test firmware and the entries it makes are deployed to tmpfs and given to QEMU by
``image_arg`` exactly as ``rig render`` gives them. The boot waits for rig's last /init line,
then an interactive test asks Xen for its own count of dom0's pages (three CTRL-a, then the
debug key ``q``), as ``rig run`` does.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import yaml

from rig.domain.scenario import Scenario
from rig.domain.units import format_size
from rig.errors import UsageError
from rig.judge.check import CheckName
from rig.machine import build, render
from rig.machine.images import seabios
from rig.machine.timeouts import BASE_TIMEOUTS, TCG_SLOWDOWN, Stage
from rig.model.prediction import predict_scenario
from rig.parse.init import MARKER
from rig.runner.render_folder import render_folder
from rig.runner.run import validate

#: a YAML mapping as PyYAML reads and writes it (LAVA's job and device formats are theirs)
Yaml: TypeAlias = dict[str, Any]

#: QEMU options the device type's template sets itself (or that a lab must not get: rig's QMP
#: socket, its accelerator choice); rig's own are dropped from ``extra_options``
TEMPLATE_OWNS = {"-name": 1, "-accel": 1, "-m": 1, "-nodefaults": 0, "-display": 1,
                 "-serial": 1, "-monitor": 1, "-qmp": 1, "-net": 1, "-debugcon": 1}
#: ``-global`` values rig drops with their option: SeaBIOS's debug console writes a file of
#: the machine that renders the job, which a lab does not have (its map is read from Xen's)
LOCAL_GLOBALS = ("isa-debugcon.",)
#: QEMU options that load the boot media: they become the deployed images' ``image_arg``
MEDIA = ("-kernel", "-append", "-initrd", "-drive", "-boot", "-bios", "-fw_cfg")
#: what lava-server's qemu template puts before ``extra_options`` for amd64 (its defaults)
TEMPLATE_OPTIONS = ["-nographic",
                    "-net nic,model=virtio,macaddr=52:54:00:12:34:58 -net user",
                    "-m {memory}", "-monitor none"]
DONE_PROMPT = f"{MARKER} stage done"
INIT_PROMPT = f"{MARKER} stage init"
#: the lines /init prints for the lab (guest_checks) and the pattern LAVA's monitor reads them
#: by: each becomes a test case of that name in LAVA's results
CHECKS_START = f"{MARKER} checks"
CHECK_LINE = f"{MARKER} check"
CHECK_PATTERN = CHECK_LINE + r" (?P<test_case_id>[a-z_]+) (?P<result>pass|fail)"


def guest_checks(s: Scenario) -> list[str]:
    """The shell lines /init runs for a lab: rig's checks that the guest can make itself, each
    printed as ``RIG: check NAME pass|fail expected X observed Y``. A lab sees only the
    guest's console, never rig's judge, so the expected values are ``rig predict``'s, from the
    scenario alone, rendered into /init: ``predicted_remap`` (dom0's "Remapped N page(s)"
    against the model; kernels that remap, 3.18+) and ``boot`` (/init got this far). The
    whole judgement stays ``rig parse`` of LAVA's log. None when the model says dom0 stops
    before /init (a refusal) or cannot say what it remaps."""
    sp = predict_scenario(s)
    p = sp.prediction
    if p is None or p.conflict is not None or p.kernel_conflict is not None \
            or p.era.value not in ("D", "E"):
        return []
    # with or without printk's time stamp before the message
    remapped = ("$(dmesg | sed -n -e 's/^Remapped \\([0-9][0-9]*\\) page(s).*/\\1/p' "
                "-e 's/.* Remapped \\([0-9][0-9]*\\) page(s).*/\\1/p' | head -n 1)")
    return [
        f'echo "{CHECKS_START}"',
        "rig_check() {  # name expected observed",
        '  if [ "$2" = "$3" ]; then r=pass; else r=fail; fi',
        f'  echo "{CHECK_LINE} $1 $r expected $2 observed ${{3:-none}}"',
        "}",
        f'rig_check {CheckName.PREDICTED_REMAP} {p.remapped_pages} "{remapped}"',
        f"rig_check {CheckName.BOOT} done done",
    ]


@dataclass
class LabArgs:
    """rig's QEMU command split the way a LAVA qemu device takes it."""

    extra: list[str]  # the job context's extra_options
    #: the media options by name (-kernel, -append, -initrd, -drive, -boot, -bios, -fw_cfg)
    media: dict[str, str]


def split_args(argv: list[str]) -> LabArgs:
    """``argv``: rig's QEMU arguments (``render.qemu_args``), without the binary."""
    extra: list[str] = []
    media: dict[str, str] = {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in TEMPLATE_OWNS:
            i += 1 + TEMPLATE_OWNS[arg]
            continue
        if arg == "-global" and argv[i + 1].startswith(LOCAL_GLOBALS):
            i += 2
            continue
        if arg in MEDIA:
            media[arg] = argv[i + 1]
            i += 2
            continue
        extra.append(arg)
        i += 1
    return LabArgs(extra, media)


def _seconds(stages: tuple[Stage, ...], kvm: bool) -> int:
    scale = 1.0 if kvm else TCG_SLOWDOWN
    return int(sum(BASE_TIMEOUTS[s] for s in stages) * scale)


def job(s: Scenario, lab: LabArgs, files: dict[str, str], *, kvm: bool = False,
        checks: bool = False) -> Yaml:
    """The job definition. ``files``: the URL (or file:// path) of each deployed file by name
    (xen, vmlinuz, initrd.gz, rig.iso, bios.bin, rig-e820.bin). ``checks``: /init prints
    guest_checks(), and a monitor test reads them into LAVA's results (the boot then ends
    at /init's first line, as a monitor only sees what comes after the boot)."""
    images: dict[str, dict[str, str]] = {}
    if "-bios" in lab.media:
        # rig's test firmware and the entries it makes (rig.machine.images.seabios)
        fw_cfg = lab.media["-fw_cfg"].replace(files["rig-e820.bin:local"], "{e820}")
        images["bios"] = {"url": files["bios.bin"], "image_arg": "-bios {bios}"}
        images["e820"] = {"url": files["rig-e820.bin"], "image_arg": f"-fw_cfg {fw_cfg}"}
    if s.boot == "grub":
        drive = lab.media["-drive"].replace(files["rig.iso:local"], "{iso}")
        images["iso"] = {"url": files["rig.iso"],
                         "image_arg": f"-drive {drive} -boot {lab.media.get('-boot', 'd')}"}
    else:
        modules = lab.media["-initrd"]
        modules = modules.replace(files["vmlinuz:local"], "{dom0}")
        modules = modules.replace(files["initrd.gz:local"], "{initrd}")
        append = shlex.quote(lab.media["-append"])
        images["xen"] = {"url": files["xen"], "image_arg": f"-kernel {{xen}} -append {append}"}
        images["dom0"] = {"url": files["vmlinuz"], "image_arg": f"-initrd {shlex.quote(modules)}"}
        # named inside dom0's image_arg; LAVA warns that it has none of its own
        images["initrd"] = {"url": files["initrd.gz"], "image_arg": ""}
    boot_s = _seconds((Stage.XEN, Stage.DOM0_BUILD, Stage.LINUX, Stage.INIT, Stage.DONE), kvm)
    query_s = max(30, _seconds((Stage.XEN_QUERY,), kvm))
    init_s = _seconds((Stage.INIT, Stage.DONE), kvm)
    return {
        "device_type": "qemu",
        "job_name": f"rig {s.name}",
        "priority": "medium",
        "visibility": "public",
        "timeouts": {"job": {"seconds": boot_s + query_s + 600},
                     "action": {"seconds": boot_s},
                     "connection": {"seconds": boot_s}},
        "context": {"arch": "amd64", "no_kvm": not kvm, "memory": format_size(s.memory),
                    "extra_options": lab.extra},
        "metadata": {"rig.scenario": s.name, "rig.boot": s.boot},
        "actions": [
            {"deploy": {"timeout": {"minutes": 10}, "to": "tmpfs", "images": images}},
            {"boot": {"method": "qemu", "media": "tmpfs", "timeout": {"seconds": boot_s},
                      "prompts": [INIT_PROMPT if checks else DONE_PROMPT]}},
            *([{"test": {"timeout": {"seconds": init_s}, "monitors": [{
                "name": "rig", "start": CHECKS_START, "end": DONE_PROMPT,
                "pattern": CHECK_PATTERN}]}}] if checks else []),
            {"test": {"timeout": {"seconds": query_s}, "interactive": [{
                "name": "xen-query",
                "prompts": [DONE_PROMPT],
                "script": [
                    {"name": "switch-to-xen", "command": "\x01\x01\x01",
                     "successes": [{"message": r"Serial input (to|->) Xen"}],
                     "wait_for_prompt": False},
                    {"name": "dump-domains", "command": "q",
                     "successes": [{"message": r"max_pages=[0-9]+\s"}],
                     "wait_for_prompt": False},
                ]}]}},
        ],
    }


def job_for(s: Scenario, folder: Path, base_url: str, *, kvm: bool = False) -> Yaml:
    """The job for ``s`` whose files (``rig render``'s: xen, vmlinuz, initrd.gz, rig.iso,
    bios.bin, rig-e820.bin) are in ``folder`` on the machine that renders them and at
    ``base_url`` for the lab."""
    local = {name: str(folder / name) for name in ("xen", "vmlinuz", "initrd.gz", "rig.iso",
                                                   "bios.bin", "rig-e820.bin")}
    spec = render.machine_spec(s, render.BootFiles.in_folder(s, folder),
                               accel="kvm" if kvm else "tcg")
    files = {name: f"{base_url.rstrip('/')}/{name}" for name in local}
    files.update({f"{name}:local": path for name, path in local.items()})
    return job(s, split_args(render.qemu_args(spec)), files, kvm=kvm,
               checks=bool(guest_checks(s)))


def device(context: Yaml) -> Yaml:
    """A device dictionary for ``lava-run`` on this machine: what lava-server's qemu device type
    renders for amd64 with the job's ``context`` (this package ships no device types), plus the
    constants and timeouts its base template gives every device."""
    options = ([] if context.get("no_kvm") else ["-cpu host", "-enable-kvm"]) + [
        o.format(memory=context["memory"]) for o in TEMPLATE_OPTIONS]
    return {
        "device_type": "qemu",
        "available_architectures": ["amd64"],
        "constants": {
            "posix": {"lava_test_sh_cmd": "/bin/sh", "lava_test_results_dir": "/lava-%s",
                      "lava_test_shell_file": "~/.bashrc"},
            "shutdown-message": "The system is going down for reboot NOW",
            "kernel-start-message": "Linux version [0-9]",
            "default-shell-prompt": "lava-test: # ",
            "spawn_maxread": "4092",
            "boot_retry": 1, "failure_retry": 1,
        },
        "actions": {
            "deploy": {"methods": {"image": {"parameters": {
                "guest": {"size": 512, "interface": "ide", "driveid": "lavatest"}}}}},
            "boot": {"connections": {"serial": None}, "methods": {"qemu": {"parameters": {
                "command": "qemu-system-x86_64",
                "boot_options": {"root": "/dev/sda1", "console": "ttyS0,115200",
                                 "boot_order": "c"},
                "options": options,
                "extra": list(context.get("extra_options") or []),
            }}}},
        },
        "timeouts": {"actions": {"power-off": {"seconds": 10}},
                     "connections": {"auto-login-action": {"minutes": 2}}},
    }


def dump(data: Yaml) -> str:
    return yaml.safe_dump(data, sort_keys=False, width=10**6, allow_unicode=False)


@dataclass(frozen=True)
class LabJob:
    """What ``rig lava job`` wrote: the folder, and where the lab fetches its files."""

    folder: Path
    base_url: str


def write_job(s: Scenario, out: Path, artifact_url: str | None, kvm: bool,
              offline: bool) -> LabJob:
    """Render the scenario's files into ``out`` and write ``job.yaml`` (and ``device.yaml``
    for lava-run here) next to them."""
    validate(s)
    if s.boot == "uefi":
        raise UsageError(f"scenario {s.name!r}: firmware = \"uefi\" boots from a FAT folder, "
                         "which a LAVA qemu deploy cannot carry; use firmware = \"bios\"")
    if artifact_url is not None and not artifact_url.startswith(("http://", "https://",
                                                                 "file://")):
        raise UsageError(f"--artifact-url {artifact_url!r}: expected http://, https:// or "
                         "file:// (the folder where the rendered files will be served)")
    for kind, value in (("xen", s.xen_version), ("kernel", s.kernel),
                        ("busybox", "default")):
        build.resolve(kind, value, offline=offline)  # in the cache, so render links it
    if s.firmware_entries:
        seabios.firmware(offline=offline)
    out = out.absolute()
    render_folder(s, out, accel="kvm" if kvm else "tcg", init_commands=guest_checks(s))
    base = (artifact_url or out.as_uri()).rstrip("/")
    definition = job_for(s, out, base, kvm=kvm)
    (out / "job.yaml").write_text(
        f"# rig lava job {s.name}: submit with `lavacli jobs submit job.yaml`, or run here\n"
        "# with lava-run --job-id 1 --device device.yaml --output-dir lava job.yaml 2> lava.log,\n"
        "# then rig parse lava.log\n"
        + dump(definition))
    (out / "device.yaml").write_text(
        "# a LAVA qemu device on this machine for lava-run, as lava-server's qemu device type\n"
        "# renders it for this job's context\n" + dump(device(definition["context"])))
    return LabJob(out, base)
