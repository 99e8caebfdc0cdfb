"""The ELF handed to Xen on direct boots: unpacked exactly, cached, checked, or the bzImage."""

from __future__ import annotations

import gzip
import lzma
import shutil
import struct
from dataclasses import replace
from pathlib import Path

import pytest

from rig.domain import scenario_file
from rig.machine.images import Artifact, Record, vmlinux
from rig.machine.images.store import Store, sha256_file
from rig.runner.run import dom0_image

ELF = b"\x7fELF" + bytes(range(256)) * 64


def bzimage(packed: bytes, size: int, *, setup_sects: int = 3, protocol: int = 0x20F) -> bytes:
    """A bzImage as the boot protocol lays it out: setup sectors, then the protected-mode part
    whose payload_offset/payload_length point at the compressed ELF and its appended size."""
    head = bytearray((setup_sects + 1) * 512)
    head[0x1F1] = setup_sects
    head[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", head, 0x206, protocol)
    offset = 0x100  # some decompressor code comes first
    body = packed + struct.pack("<I", size)
    struct.pack_into("<II", head, 0x248, offset, len(body))
    return bytes(head) + bytes(offset) + body + bytes(64)


def write(tmp_path: Path, data: bytes) -> tuple[Path, str]:
    path = tmp_path / "vmlinuz"
    path.write_bytes(data)
    return path, sha256_file(path)


@pytest.mark.parametrize(("name", "pack"), [
    ("xz", lambda b: lzma.compress(b, format=lzma.FORMAT_XZ)),
    ("gzip", gzip.compress),
    ("lzma", lambda b: lzma.compress(b, format=lzma.FORMAT_ALONE)),
])
def test_the_payload_unpacks_to_the_elf_and_is_cached(tmp_path: Path, name: str,
                                                      pack: object) -> None:
    store = Store(tmp_path / "cache")
    path, sha = write(tmp_path, bzimage(pack(ELF), len(ELF)))  # type: ignore[operator]
    image = vmlinux.elf_for_xen(path, sha, store)
    assert (image.form, image.unpacked_from, image.why) == ("elf", name, None)
    assert image.path.read_bytes() == ELF
    # a damaged cached copy is noticed and unpacked again
    image.path.write_bytes(b"\x7fELF" + bytes(len(ELF) - 4))
    again = vmlinux.elf_for_xen(path, sha, store)
    assert again.path.read_bytes() == ELF


def test_a_wrong_size_keeps_the_bzimage(tmp_path: Path) -> None:
    path, sha = write(tmp_path, bzimage(gzip.compress(ELF), len(ELF) + 1))
    image = vmlinux.elf_for_xen(path, sha, Store(tmp_path / "cache"))
    assert (image.form, image.path) == ("bzImage", path)
    assert f"records {len(ELF) + 1}" in (image.why or "")


def test_a_payload_that_is_no_elf_keeps_the_bzimage(tmp_path: Path) -> None:
    data = b"MZ" + ELF[2:]
    path, sha = write(tmp_path, bzimage(gzip.compress(data), len(data)))
    image = vmlinux.elf_for_xen(path, sha, Store(tmp_path / "cache"))
    assert image.form == "bzImage" and "no ELF" in (image.why or "")


def test_unknown_and_broken_payloads_keep_the_bzimage(tmp_path: Path) -> None:
    store = Store(tmp_path / "cache")
    path, sha = write(tmp_path, bzimage(b"\x02\x21\x4c\x18" + bytes(100), len(ELF)))
    image = vmlinux.elf_for_xen(path, sha, store)
    assert image.form == "bzImage" and "lz4" in (image.why or "")
    path, sha = write(tmp_path, bzimage(b"\x1f\x8b" + bytes(100), len(ELF)))
    image = vmlinux.elf_for_xen(path, sha, store)
    assert image.form == "bzImage" and "does not unpack" in (image.why or "")


def test_zstd_without_the_tool_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _: None)
    path, sha = write(tmp_path, bzimage(b"\x28\xb5\x2f\xfd" + bytes(100), len(ELF)))
    image = vmlinux.elf_for_xen(path, sha, Store(tmp_path / "cache"))
    assert image.form == "bzImage" and "apt-get install zstd" in (image.why or "")


def test_old_protocols_elves_and_other_files(tmp_path: Path) -> None:
    store = Store(tmp_path / "cache")
    path, sha = write(tmp_path, bzimage(gzip.compress(ELF), len(ELF), protocol=0x207))
    assert vmlinux.elf_for_xen(path, sha, store).form == "bzImage"
    path, sha = write(tmp_path, ELF)
    assert vmlinux.elf_for_xen(path, sha, store).path == path
    path, sha = write(tmp_path, b"hello" * 200)
    assert vmlinux.elf_for_xen(path, sha, store).form == "bzImage"


def test_only_direct_boots_get_the_elf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIG_CACHE", str(tmp_path / "cache"))
    path, sha = write(tmp_path, bzimage(gzip.compress(ELF), len(ELF)))
    art = Artifact(Record("kernel=x", "-", "-", "-", "-", 0, str(path), sha, 0), path)
    assert scenario_file.load("pci-hole").boot == "direct"
    assert dom0_image(scenario_file.load("pci-hole"), art).form == "elf"
    grub = dom0_image(replace(scenario_file.load("seed-8g"), loader="grub"), art)
    assert (grub.form, grub.path) == ("bzImage", path) and "grub" in (grub.why or "")


def test_gc_drops_elves_of_bzimages_gone(tmp_path: Path) -> None:
    store = Store(tmp_path / "cache")
    path, sha = write(tmp_path, bzimage(gzip.compress(ELF), len(ELF)))
    image = vmlinux.elf_for_xen(path, sha, store)
    assert vmlinux.gc(store, {sha}) == [] and image.path.exists()
    assert len(vmlinux.gc(store, set())) == 2 and not image.path.exists()


def test_a_cache_rig_cannot_write_keeps_the_bzimage(tmp_path: Path) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be")
    path, sha = write(tmp_path, bzimage(gzip.compress(ELF), len(ELF)))
    image = vmlinux.elf_for_xen(path, sha, Store(blocker))
    assert (image.form, image.path) == ("bzImage", path) and "could not be cached" in (
        image.why or "")
