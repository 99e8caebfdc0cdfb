"""rig's test firmware: SeaBIOS built from Debian's source package with one change of rig's.

Stock SeaBIOS keeps only RAM and reserved entries of QEMU's ``etc/e820`` (``qemu_early_e820``
skips every other type on purpose), QEMU refuses a second ``etc/e820``, and GRUB i386-pc makes
only gaps: nothing in the stock machine makes an ACPI NVS, ACPI data or unusable entry, nor one
at a byte the scenario chooses (docs/facts.md, "Typed E820 entries anywhere"). images/seabios-rig-
e820.patch adds ``rig_e820()``: the fw_cfg file ``opt/rig/e820`` (20-byte records: u64 start,
u64 length, u32 type; type 0 removes the range) goes through SeaBIOS's own ``e820_add``/
``e820_remove`` in ``prepareboot()``, after SeaBIOS's last change to the map (the unused part
of its 16 MiB high zone given back as RAM: applied earlier, as first written, an entry in the
top 16 MiB of RAM below 4 GiB was undone, found by replaying a real map), so that every later
reader of the map (SeaBIOS's INT 15h, QEMU's multiboot loader, Xen) sees the entries at exact
bounds.

The build is Debian's ``bios-256k`` configuration (``CONFIG_QEMU=y CONFIG_ROM_SIZE=256``) from
the source of the Debian release that carries QEMU's own SeaBIOS (bookworm: 1.16.2-1), with the
shipped ``src/fw/*.hex`` (no iasl). It is cached by the hash of the source (its .dsc, whose
hashes cover the tarballs), the patch and the configuration; the object is re-hashed on use.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tarfile
import time
from pathlib import Path

from rig.errors import ArtifactError
from rig.machine import host
from rig.machine.images.apt import AptRoot
from rig.machine.images.store import Record, Store, sha256_file
from rig.progress import say, step
from rig.resources import data_dir

KEY = "firmware=seabios-rig"
PACKAGE = "seabios"
SUITE = "bookworm"
SUITES = ["bookworm", "bookworm-updates", "bookworm-security"]
PATCH = "seabios-rig-e820.patch"
#: Debian's bios-256k (debian/rules: bios-256k-config = QEMU=y ROM_SIZE=256)
CONFIG = "CONFIG_QEMU=y\nCONFIG_ROM_SIZE=256\n"
#: SeaBIOS's build and its scripts need no more than these
NEEDS = tuple(p for p in host.BUILD_TOOLS if p.name in ("gcc", "make", "python3", "patch"))


def recipe_hash(dsc_sha256: str) -> str:
    """The build's identity: the source, rig's patch, the configuration."""
    h = hashlib.sha256(dsc_sha256.encode())
    h.update((data_dir("images") / PATCH).read_bytes())
    h.update(CONFIG.encode())
    return h.hexdigest()


def firmware(*, offline: bool = False, store: Store | None = None) -> tuple[Record, Path]:
    """The built firmware (its record and its file), from the cache when the record's recipe
    is this checkout's (patch and configuration) and the file is intact, else built now."""
    store = store or Store()
    cached = _cached(store)
    if cached is not None:
        return cached
    if offline:
        raise ArtifactError(f"{KEY} (rig's test firmware, built from Debian's {PACKAGE} source) "
                            "is not in the cache and --offline forbids building it (run once "
                            "online)")
    with store.locked():
        cached = _cached(store)  # another rig may have built it meanwhile
        if cached is not None:
            return cached
        return _build(store)


def _cached(store: Store) -> tuple[Record, Path] | None:
    rec = store.manifest().get(KEY)
    if rec is None or not rec.version.endswith(f"+rig.{recipe_hash(rec.deb_sha256)[:16]}"):
        return None
    path = store.verified(rec.sha256)
    return (rec, path) if path is not None else None


def _build(store: Store) -> tuple[Record, Path]:
    host.require(NEEDS, "building rig's test firmware (SeaBIOS)")
    apt = AptRoot(store.root / "apt" / f"{SUITE}-src", SUITES, kind="deb-src")
    say(f"updating the source package lists of {SUITE}")
    apt.update()
    version = apt.source_version(PACKAGE)
    work = store.tmpdir("seabios")
    try:
        say(f"fetching {PACKAGE} {version} (source) from {SUITE}")
        dsc = apt.download_source(PACKAGE, version, work)
        dsc_sha = sha256_file(dsc)
        tree = _unpack(dsc, work)
        t0 = time.monotonic()
        with step(f"building rig's test firmware from {PACKAGE} {version} and {PATCH}"):
            out = _make(tree, work / "build.log")
        recipe = recipe_hash(dsc_sha)
        sha, size = store.add(out)
        record = Record(KEY, f"{PACKAGE} (Debian source) + {PATCH}",
                        f"{version}+rig.{recipe[:16]}", SUITE, dsc_sha, dsc.stat().st_size,
                        "out/bios.bin", sha, size)
        store.record(record)
        say(f"built rig's test firmware in {time.monotonic() - t0:.0f} s")
        return record, store.object_path(sha)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _unpack(dsc: Path, work: Path) -> Path:
    """A 3.0 (quilt) source: the upstream tarball, Debian's tarball in it, Debian's patches
    applied, then rig's. Each tarball's sha256 is checked against the .dsc."""
    text = dsc.read_text(errors="replace")
    sums = dict((name, sha) for sha, _, name in
                re.findall(r"^ ([0-9a-f]{64}) (\d+) (\S+)$", text.split("Checksums-Sha256:", 1)
                           [-1], re.M))
    tarballs = [work / name for name in sums]
    for t in tarballs:
        if not t.is_file() or sha256_file(t) != sums[t.name]:
            raise ArtifactError(f"{t.name} does not match the sha256 its .dsc gives")
    upstream = next(t for t in tarballs if ".orig." in t.name)
    debian = next(t for t in tarballs if ".debian." in t.name)
    src = work / "src"
    with tarfile.open(upstream) as tar:
        tar.extractall(src, filter="data")
    (tree,) = list(src.iterdir())
    with tarfile.open(debian) as tar:
        tar.extractall(tree, filter="data")
    series = tree / "debian" / "patches" / "series"
    patches = [tree / "debian" / "patches" / line.split()[0]
               for line in (series.read_text().splitlines() if series.is_file() else [])
               if line.strip() and not line.startswith("#")]
    for p in [*patches, data_dir("images") / PATCH]:
        _run(["patch", "-p1", "--forward", "--batch", "-i", str(p)], tree, work / "build.log")
    return tree


def _make(tree: Path, log: Path) -> Path:
    out = tree / "out"
    out.mkdir()
    (out / ".config").write_text(CONFIG)
    common = ["make", "PYTHON=python3 -B", f"KCONFIG_CONFIG={out / '.config'}", "OUT=out/"]
    _run([*common, "oldnoconfig"], tree, log)
    _run([*common, f"-j{os.cpu_count() or 1}", "EXTRAVERSION=-rig", "out/bios.bin"], tree, log)
    return out / "bios.bin"


def _run(cmd: list[str], cwd: Path, log: Path) -> None:
    with open(log, "ab") as f:
        f.write(f"\n$ {' '.join(cmd)}\n".encode())
        f.flush()
        proc = subprocess.run(cmd, cwd=cwd, stdout=f, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-15:]
        raise ArtifactError(f"building rig's test firmware failed (exit status "
                            f"{proc.returncode})", command=cmd, output="\n".join(tail))
