from __future__ import annotations

import gzip
import os
import stat
import struct
import threading
from pathlib import Path

import pytest

from rig.errors import ArtifactError, UsageError
from rig.machine import images
from rig.machine.images import apt, initramfs
from rig.machine.images import store as store_module
from rig.machine.images.apt import SourceEntry, _deb822, _one_line, sources_for
from rig.machine.images.store import Record, Store, sha256_file

DEB822 = """Types: deb
# a comment
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main

Types: deb-src
URIs: http://mirror.example/debian
Suites: bookworm
Components: main
"""


def test_system_sources_both_formats() -> None:
    entries = _deb822(DEB822)
    assert [e.suites for e in entries] == [("bookworm", "bookworm-updates"),
                                           ("bookworm-security",)]
    one = _one_line("deb [arch=amd64 signed-by=/k.gpg] http://m.example/debian bookworm main\n"
                    "# deb http://x y z\n")
    assert one == [SourceEntry(("http://m.example/debian",), ("bookworm",), ("main",), "/k.gpg")]


def test_other_suites_reuse_the_system_uris() -> None:
    system = _deb822(DEB822)
    out = sources_for(["trixie", "trixie-security", "bookworm-updates"], system)
    assert [(e.uris[0], e.suites[0]) for e in out] == [
        ("http://mirror.example/debian", "trixie"),
        ("http://mirror.example/debian-security", "trixie-security"),
        ("http://mirror.example/debian", "bookworm-updates"),
    ]
    with pytest.raises(UsageError, match="no Debian apt source for suite 'sid'"):
        sources_for(["sid"], [])


def _store_with(tmp_path: Path, content: bytes) -> tuple[Store, Record]:
    store = Store(tmp_path / "cache")
    store.ensure()
    src = tmp_path / "busybox"
    src.write_bytes(content)
    sha, size = store.add(src)
    rec = Record("busybox=default", "busybox-static", "1", "bookworm", "0" * 64, 1,
                 "bin/busybox", sha, size)
    with store.locked():
        store.record(rec)
    return store, rec


def test_cached_artifact_is_used_offline(tmp_path: Path) -> None:
    store, rec = _store_with(tmp_path, b"busybox bytes")
    art = images.fetch("busybox", "default", store=store, offline=True)
    assert art.record == rec and art.path.read_bytes() == b"busybox bytes"


def test_flipped_byte_is_detected_and_removed(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    store, rec = _store_with(tmp_path, b"busybox bytes")
    path = store.object_path(rec.sha256)
    data = bytearray(path.read_bytes())
    data[0] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match=r"did not match its sha256 .*: removed, and "
                                            r"--offline forbids fetching it again"):
        images.fetch("busybox", "default", store=store, offline=True)
    assert not path.exists()  # the next online fetch downloads it again
    # offline nothing was fetched: no warning says it was (issue 34)
    assert "fetched again" not in capsys.readouterr().err


def test_offline_names_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match=r"kernel=6\.1 is not in the cache.*rig images fetch"):
        images.fetch("kernel", "6.1", store=Store(tmp_path), offline=True)


def test_unknown_key_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match=r"known: xen=4\.17") as err:
        images.recipe("xen", "3.0")
    assert err.value.exit_code == 2


def test_lock_serialises_writers(tmp_path: Path) -> None:
    store = Store(tmp_path)
    order: list[str] = []
    entered = threading.Event()

    def other() -> None:
        entered.wait()
        with store.locked():
            order.append("other")

    t = threading.Thread(target=other)
    t.start()
    with store.locked():
        entered.set()
        t.join(0.3)  # the other thread must still be waiting for the lock
        order.append("first")
    t.join()
    assert order == ["first", "other"]


def _read_newc(data: bytes) -> dict[str, tuple[int, bytes, tuple[int, int]]]:
    out: dict[str, tuple[int, bytes, tuple[int, int]]] = {}
    pos = 0
    while True:
        assert data[pos:pos + 6] == b"070701"
        fields = [int(data[pos + 6 + 8 * i: pos + 14 + 8 * i], 16) for i in range(13)]
        mode, filesize, rmaj, rmin, namesize = fields[1], fields[6], fields[9], fields[10], \
            fields[11]
        name_start = pos + 110
        name = data[name_start:name_start + namesize - 1].decode()
        body = (name_start + namesize + 3) & ~3
        if name == "TRAILER!!!":
            return out
        out[name] = (mode, data[body:body + filesize], (rmaj, rmin))
        pos = (body + filesize + 3) & ~3


def test_initramfs_layout(tmp_path: Path) -> None:
    bb = tmp_path / "busybox"
    bb.write_bytes(b"\x7fELF fake busybox")
    dest = initramfs.build(bb, "#!/bin/sh\necho hi\n", tmp_path / "initrd.gz")
    entries = _read_newc(gzip.decompress(dest.read_bytes()))
    assert entries["init"][1] == b"#!/bin/sh\necho hi\n"
    assert stat.S_IMODE(entries["init"][0]) == 0o755
    assert entries["bin/busybox"][1] == b"\x7fELF fake busybox"
    assert stat.S_ISCHR(entries["dev/console"][0]) and entries["dev/console"][2] == (5, 1)
    assert entries["bin/sh"][1] == b"busybox"
    # reproducible: same inputs, same bytes (so the file can be cached by hash)
    again = initramfs.build(bb, "#!/bin/sh\necho hi\n", tmp_path / "again.gz")
    assert sha256_file(again) == sha256_file(dest)


def test_recipes_cover_the_matrix() -> None:
    keys = set(images.recipes())
    assert {"xen=4.17", "xen=4.20", "kernel=6.1", "kernel=6.12", "kernel=7.2",
            "kernel=sid", "busybox=default"} <= keys


class FakeApt:
    """Stands in for AptRoot.show: control fields by package."""

    def __init__(self, fields: dict[str, dict[str, str]]) -> None:
        self.fields = fields

    def show(self, package: str) -> dict[str, str]:
        return self.fields[package]


def test_follow_walks_the_depends_chain(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = FakeApt({
        "linux-image-amd64": {"Version": "7.2.13-1",
                              "Depends": "linux-base-amd64 (= 7.2.13-1), "
                                         "linux-image-7.2.13+deb14-amd64 (= 7.2.13-1)"},
        "linux-image-7.2.13+deb14-amd64": {
            "Version": "7.2.13-1",
            "Depends": "dracut | initramfs-tools, linux-binary-7.2.13+deb14-amd64 (= 7.2.13-1)"},
    })
    seen: list[str] = []

    class Stop(Exception):
        pass

    def fake_show(self: object, package: str) -> dict[str, str]:
        seen.append(package)
        if package == "linux-binary-7.2.13+deb14-amd64":
            raise Stop
        return fake.show(package)

    monkeypatch.setattr(apt.AptRoot, "update", lambda self, force=False: None)
    monkeypatch.setattr(apt.AptRoot, "show", fake_show)
    with pytest.raises(Stop):
        images.fetch("kernel", "7.2", store=Store(tmp_path))
    assert seen == ["linux-image-amd64", "linux-image-7.2.13+deb14-amd64",
                    "linux-binary-7.2.13+deb14-amd64"]


def test_suite_that_moved_on_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = FakeApt({"linux-image-amd64": {"Version": "7.3.1-1",
                                          "Depends": "linux-image-7.3.1+deb14-amd64"}})
    monkeypatch.setattr(apt.AptRoot, "update", lambda self, force=False: None)
    monkeypatch.setattr(apt.AptRoot, "show", lambda self, p: fake.show(p))
    with pytest.raises(ArtifactError, match=r"none matching 'linux-image-7\.2\.\*'"):
        images.fetch("kernel", "7.2", store=Store(tmp_path))


def test_user_kernel_must_be_a_bzimage(tmp_path: Path) -> None:
    good = tmp_path / "bzImage"
    # setup_sects 0 means 4: the setup is 5 sectors, and protocol 2.00 has no syssize
    good.write_bytes((b"\0" * 0x202 + b"HdrS").ljust(5 * 512, b"\0"))
    art = images.user_artifact("kernel", good, Store(tmp_path / "c"))
    assert art.path == good and art.record.sha256 == sha256_file(good)
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    with pytest.raises(Exception, match="not a bzImage"):
        images.user_artifact("kernel", bad, Store(tmp_path / "c"))
    with pytest.raises(Exception, match="no such file"):
        images.user_artifact("kernel", tmp_path / "missing", Store(tmp_path / "c"))


def test_a_truncated_kernel_is_refused_before_booting(tmp_path: Path) -> None:
    """Issue 34 case 3: the first 1 MiB of a bzImage passed its magic check, and Xen faulted
    in bzimage_headroom. The header's own sizes say what is missing."""
    head = bytearray((b"\0" * 0x202 + b"HdrS").ljust(0x250, b"\0"))
    head[0x1F1] = 27  # setup sectors
    struct.pack_into("<H", head, 0x206, 0x20F)  # boot protocol 2.15
    struct.pack_into("<I", head, 0x1F4, 0x80000)  # syssize: 8 MiB of protected-mode code
    cut = tmp_path / "vmlinuz"
    cut.write_bytes(bytes(head).ljust(1 << 20, b"\0"))
    with pytest.raises(UsageError, match=r"truncated: its bzImage header says 8402944 bytes "
                                         r"\(setup and payload\), the file has 1048576"):
        images.user_artifact("kernel", cut, Store(tmp_path / "c"))
    # an ELF whose segment runs past the file's end
    elf = bytearray(b"\x7fELF\x02".ljust(64, b"\0"))
    struct.pack_into("<QHH", elf, 0x20, 64, 0, 0)
    struct.pack_into("<HH", elf, 0x36, 56, 1)
    elf += struct.pack("<IIQQQQQQ", 1, 5, 0x200000, 0, 0, 0x4000000, 0x4000000, 0x200000)
    short = tmp_path / "vmlinux"
    short.write_bytes(bytes(elf).ljust(4096, b"\0"))
    with pytest.raises(UsageError, match="ELF segment 0 runs to byte 69206016"):
        images.user_artifact("kernel", short, Store(tmp_path / "c"))


def test_user_xen_gz_is_decompressed_and_checked(tmp_path: Path) -> None:
    elf = b"\x7fELF" + b"\0" * 60 + b"\xd6\x50\x52\xe8" + b"\0" * 100  # multiboot2 magic
    gz = tmp_path / "xen.gz"
    gz.write_bytes(gzip.compress(elf))
    art = images.user_artifact("xen", gz, Store(tmp_path / "c"))
    assert art.path.read_bytes() == elf
    assert art.record.sha256 == sha256_file(gz)  # the user's file, as given
    notxen = tmp_path / "other.gz"
    notxen.write_bytes(gzip.compress(b"\x7fELF plain"))
    with pytest.raises(Exception, match="not a Xen image"):
        images.user_artifact("xen", notxen, Store(tmp_path / "c"))


def test_verify_reports_a_flipped_byte(tmp_path: Path) -> None:
    store, rec = _store_with(tmp_path, b"some kernel bytes")
    assert images.verify(store) == [(rec, True)]
    path = store.object_path(rec.sha256)
    path.write_bytes(b"Some kernel bytes")
    assert images.verify(store) == [(rec, False)]
    assert not path.exists()


def test_gc_keeps_what_the_manifest_names(tmp_path: Path) -> None:
    store, rec = _store_with(tmp_path, b"kept")
    stray = store.objects / ("0" * 64)
    stray.write_bytes(b"stray")
    assert images.gc(store) == [stray]
    assert store.object_path(rec.sha256).exists()


def test_a_hash_is_read_again_only_when_the_file_changed(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    store, rec = _store_with(tmp_path, b"busybox bytes")
    path = store.object_path(rec.sha256)
    os.utime(path, (1, 1))  # hashed long after its last change: not racy, so stamped
    reads: list[Path] = []
    real = store_module.sha256_file

    def counted(p: Path) -> str:
        reads.append(p)
        return real(p)

    monkeypatch.setattr(store_module, "sha256_file", counted)
    assert store.verified(rec.sha256) == path and store.verified(rec.sha256) == path
    assert reads == [path]  # the second time the stamp said it had not changed
    data = bytearray(path.read_bytes())
    data[0] ^= 0x01
    path.write_bytes(bytes(data))  # same size and inode, a new mtime
    assert store.verified(rec.sha256) is None and not path.exists()


def test_a_stamp_does_not_hide_a_change_from_images_verify(tmp_path: Path) -> None:
    store, rec = _store_with(tmp_path, b"some kernel bytes")
    path = store.object_path(rec.sha256)
    os.utime(path, (1, 1))
    assert store.verified(rec.sha256) == path
    path.write_bytes(b"Some kernel bytes")
    os.utime(path, (1, 1))  # changed in place with its stamp's size, mtime and inode
    assert store.verified(rec.sha256) == path  # what the stamp cannot see...
    assert images.verify(store) == [(rec, False)]  # ...a full verify reads


def test_the_initramfs_is_kept_by_what_it_holds(tmp_path: Path) -> None:
    store = Store(tmp_path / "cache")
    bb = tmp_path / "busybox"
    bb.write_bytes(b"\x7fELF fake busybox")
    (tmp_path / "r1").mkdir()
    first = initramfs.build_cached(bb, "a" * 64, "#!/bin/sh\n", tmp_path / "r1" / "initrd.gz",
                                   store)
    assert first.is_symlink()
    kept = first.resolve()
    os.utime(kept, ns=(1, 1))  # as if built long ago: a rebuild would give it a new mtime
    built = kept.stat().st_mtime_ns
    assert _read_newc(gzip.decompress(kept.read_bytes()))["init"][1] == b"#!/bin/sh\n"
    (tmp_path / "r2").mkdir()
    second = initramfs.build_cached(bb, "a" * 64, "#!/bin/sh\n", tmp_path / "r2" / "initrd.gz",
                                    store)
    assert second.resolve() == kept
    assert kept.stat().st_mtime_ns == built  # reused, not built again under the same name
    (tmp_path / "r3").mkdir()
    other = initramfs.build_cached(bb, "a" * 64, "#!/bin/sh\necho\n",
                                   tmp_path / "r3" / "initrd.gz", store)
    assert other.resolve() != kept
    kept.write_bytes(b"damaged")  # a kept archive that changed is built again
    (tmp_path / "r4").mkdir()
    again = initramfs.build_cached(bb, "a" * 64, "#!/bin/sh\n", tmp_path / "r4" / "initrd.gz",
                                   store)
    assert _read_newc(gzip.decompress(again.read_bytes()))["init"][1] == b"#!/bin/sh\n"
    assert initramfs.gc(store, {"b" * 64}) and not kept.exists()
