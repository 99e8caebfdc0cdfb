"""``rig render``: every generated file of a scenario written to a folder that boots by hand."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from rig.domain.scenario import Scenario
from rig.errors import RigError
from rig.judge.records import ScenarioPredictionRecord
from rig.machine import build, render
from rig.machine.images import grub, initramfs, seabios
from rig.model.prediction import predict_scenario
from rig.runner import ovmf
from rig.runner.run import dom0_image


def _firmware(s: Scenario, dest: Path) -> str | None:
    """rig's test firmware makes the scenario's entries: the image linked from the cache, the
    entries as the fw_cfg file it reads (where render.BootFiles.in_folder names both); what
    is missing, when the image is not in the cache."""
    if not s.firmware_entries:
        return None
    for name, data in render.firmware_files(s).items():
        (dest / name).write_bytes(data)
    link = dest / "bios.bin"
    link.unlink(missing_ok=True)
    try:
        link.symlink_to(seabios.firmware(offline=True)[1])
    except RigError:
        return "bios.bin: rig's test firmware (run `rig run` once to build it)"
    return None


def _readme(s: Scenario, unpacked: str | None, missing: list[str]) -> str:
    readme = ["Files rendered by `rig render` for scenario " + s.name + ".",
              "qemu.args holds one argument per line; run it with:",
              "  mapfile -t A < qemu.args && qemu-system-x86_64 \"${A[@]}\""]
    if unpacked:
        readme.append(f"vmlinuz is the ELF unpacked from the kernel's bzImage ({unpacked}), as "
                      "rig run hands it to Xen on a direct boot: Xen's own unpacking is slow "
                      "under TCG")
    if s.firmware_entries:
        readme.append("bios.bin is rig's test firmware (SeaBIOS with images/seabios-rig-e820.patch"
                      "): it makes the scenario's E820 entries from rig-e820.bin and writes the "
                      "map it built to firmware.log")
    if missing:
        readme += ["Not in the cache, so not linked here:", *(f"  {m}" for m in missing)]
    return "\n".join(readme) + "\n"


def render_folder(s: Scenario, dest: Path, accel: str = "tcg",
                  init_commands: list[str] | None = None) -> list[Path]:
    """Write every generated file of ``s`` to ``dest`` (``rig render``): the QEMU arguments,
    grub.cfg, both command lines, /init (with ``init_commands`` before its last line), the
    test firmware's entries and the prediction.
    Artifacts already in the cache are linked in, so the folder boots by hand; missing ones are
    named in README.txt."""
    dest.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {
        "xen.cmdline": render.xen_cmdline(s) + "\n",
        "dom0.cmdline": render.dom0_cmdline(s) + "\n",
        "init": render.init_script(init_commands),
        "prediction.json": json.dumps(
            ScenarioPredictionRecord.of(predict_scenario(s)).to_builtins(), indent=2) + "\n",
    }
    if s.boot == "grub":
        files["grub.cfg"] = render.grub_cfg(s)
    missing = []
    unpacked: str | None = None
    for kind, name, target in (("xen", s.xen_version, "xen"), ("kernel", s.kernel, "vmlinuz"),
                               ("busybox", "default", "busybox")):
        link = dest / target
        link.unlink(missing_ok=True)
        try:
            art = build.resolve(kind, name, offline=True)
            points_to = art.path
            if kind == "kernel":
                image = dom0_image(s, art)
                points_to, unpacked = image.path, image.unpacked_from
            link.symlink_to(points_to)
        except RigError:
            missing.append(f"{target}: {kind}={name} (run `rig images fetch` or `rig run` once)")
    if (lacking := _firmware(s, dest)) is not None:
        missing.append(lacking)
    uefi: render.UefiFiles | None = None
    if not missing:
        initramfs.build(dest / "busybox", files["init"], dest / "initrd.gz")
        if s.boot == "grub":
            grub.build_iso(files["grub.cfg"], dest / "xen", dest / "vmlinuz", dest / "initrd.gz",
                           dest / "rig.iso")
        if s.boot == "uefi":
            shutil.rmtree(dest / "esp", ignore_errors=True)
            uefi = ovmf.uefi_files(s, dest, offline=True)
    spec = render.machine_spec(s, render.BootFiles.in_folder(s, dest, uefi), accel=accel)
    files["qemu.args"] = "\n".join(render.qemu_args(spec)) + "\n"
    files["README.txt"] = _readme(s, unpacked, missing)
    written = []
    for name, text in files.items():
        (dest / name).write_text(text)
        written.append(dest / name)
    if s.firmware_entries:
        written.append(dest / "rig-e820.bin")
    return written


