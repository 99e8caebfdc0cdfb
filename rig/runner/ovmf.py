"""A UEFI boot's pieces: OVMF's flash, the ESP folder QEMU serves as a FAT disk, and OVMF's own
map recorded by the first boot of a machine (OVMF places its NVS and reserved ranges itself)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import msgspec

from rig.domain.e820 import E820Entry
from rig.domain.scenario import Scenario
from rig.errors import ArtifactError
from rig.files import write_atomic
from rig.machine import images, render
from rig.machine.images.store import Store, sha256_file

OVMF_CODE = Path("/usr/share/OVMF/OVMF_CODE_4M.fd")
OVMF_VARS = Path("/usr/share/OVMF/OVMF_VARS_4M.fd")
#: the files of the ESP whose size moves OVMF's own allocations
ESP_FILES = ("BOOTX64.EFI", "vmlinuz", "initrd.gz")


def uefi_files(s: Scenario, run_dir: Path, offline: bool) -> render.UefiFiles:
    """OVMF's flash (code read-only, a private copy of the variables) and an ESP folder with
    xen.efi as EFI/BOOT/BOOTX64.EFI beside its config, dom0's kernel and the initramfs."""
    for p in (OVMF_CODE, OVMF_VARS):
        if not p.is_file():
            raise ArtifactError(f"{p} is missing (apt-get install ovmf)")
    xen_efi = images.fetch("xen-efi", s.xen_version, offline=offline)
    boot = run_dir / "esp" / "EFI" / "BOOT"
    boot.mkdir(parents=True)
    # real files: QEMU's virtual FAT serves what it finds, and a link is no file to it
    shutil.copyfile(xen_efi.path, boot / "BOOTX64.EFI")
    shutil.copyfile(run_dir / "vmlinuz", boot / "vmlinuz")
    shutil.copyfile(run_dir / "initrd.gz", boot / "initrd.gz")
    (boot / "BOOTX64.cfg").write_text(render.xen_efi_cfg(s))
    shutil.copyfile(OVMF_VARS, run_dir / "OVMF_VARS.fd")
    return render.UefiFiles(esp=str(run_dir / "esp"), ovmf_code=str(OVMF_CODE),
                            ovmf_vars=str(run_dir / "OVMF_VARS.fd"))


def recorded_map(s: Scenario, xen_e820: list[E820Entry], esp: Path | None
                 ) -> list[E820Entry] | None:
    """OVMF's map for this machine, RAM size and boot files (OVMF's own allocations move with
    the size of what it loads): the one recorded before, or (first time) the one this boot
    printed (``xen_e820``), which is recorded now."""
    if s.firmware != "uefi":
        return None
    boot_files = [esp / "EFI" / "BOOT" / name for name in ESP_FILES] if esp else []
    h = hashlib.sha256()
    for p in [OVMF_CODE, *boot_files]:
        h.update(sha256_file(p).encode() if p.is_file() else b"none")
    path = (Store().root / "maps" /
            f"ovmf-{s.machine_type}-{s.memory:#x}-{s.below_4g or 0:#x}-{h.hexdigest()[:16]}.json")
    if path.is_file():
        return msgspec.json.decode(path.read_bytes(), type=list[E820Entry])
    if xen_e820:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(msgspec.to_builtins(xen_e820)))
    return None
