"""A GRUB (i386-pc) ISO that punches the scenario's holes and boots Xen with multiboot2."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from rig.errors import ArtifactError

GRUB_I386_PC = Path("/usr/lib/grub/i386-pc")


def _place(src: Path, dest: Path) -> None:
    # a hard link costs nothing when the cache shares the file system; else copy
    try:
        os.link(src.resolve(), dest)
    except OSError:
        shutil.copyfile(src, dest)


def build_iso(grub_cfg: str, xen: Path, kernel: Path, initrd: Path, dest: Path) -> Path:
    """Write ``dest`` (0.2–0.9 s, ~21 MB). Raises ArtifactError with grub-mkrescue's output."""
    stage = dest.parent / "iso-root"
    if stage.exists():
        shutil.rmtree(stage)
    (stage / "boot" / "grub").mkdir(parents=True)
    (stage / "boot" / "grub" / "grub.cfg").write_text(grub_cfg)
    for src, name in ((xen, "xen"), (kernel, "vmlinuz"), (initrd, "initrd.gz")):
        _place(src, stage / name)
    cmd = ["grub-mkrescue", "-d", str(GRUB_I386_PC), "-o", str(dest), str(stage)]
    if not GRUB_I386_PC.is_dir():
        raise ArtifactError(f"{GRUB_I386_PC} is missing (apt-get install grub-pc-bin)",
                            command=cmd)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    except FileNotFoundError as exc:
        raise ArtifactError("grub-mkrescue is not installed (apt-get install grub-common "
                            "xorriso mtools)", command=cmd) from exc
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    if proc.returncode != 0 or not dest.exists():
        raise ArtifactError(f"grub-mkrescue failed (exit status {proc.returncode})",
                            command=cmd, output=proc.stderr or proc.stdout)
    return dest
