"""rig's artifact cache: content-addressed objects, a manifest, a lock, atomic writes.

Layout under ``$RIG_CACHE`` (default ``~/.cache/rig``)::

    lock                 flock'd while the cache is changed
    manifest.json        artifact key → package, version, suite, sha256 of the .deb and the file
    objects/<sha256>     the extracted files, named by their content's hash
    hashed/<key>         a kept file's size, mtime and inode when it was last hashed, and the hash
    apt/                 the private apt root (lists, archives)
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from rig.errors import ArtifactError
from rig.files import write_atomic

#: a file modified this recently when hashed may change again within its mtime's tick
_RACY_S = 2.0


def cache_root() -> Path:
    env = os.environ.get("RIG_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rig"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True)
class Record:
    key: str  # "kernel=6.1"
    package: str
    version: str
    suite: str
    deb_sha256: str
    deb_size: int
    file: str  # path inside the package
    sha256: str  # of the extracted (and, for Xen, decompressed) file
    size: int
    #: a kernel's build configuration from the same package (its /boot/config-*), if any
    config_file: str | None = None
    config_sha256: str | None = None


@dataclass(frozen=True)
class Artifact:
    """An artifact as a run uses it: its record, and the file to hand QEMU (the store's object
    or the user's own file)."""

    record: Record
    path: Path
    note: str | None = None  # e.g. the cached copy was corrupt and was fetched again
    #: a kernel's build configuration (Debian's /boot/config-*, a build's .config)
    config: Path | None = None


class Store:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root or cache_root()
        self.objects = self.root / "objects"
        self.manifest_path = self.root / "manifest.json"

    def ensure(self) -> None:
        try:
            self.objects.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ArtifactError(f"cannot create the cache at {self.root}: {exc.strerror}") from exc

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Exclusive while changing the cache; concurrent rig runs wait here."""
        self.ensure()
        with open(self.root / "lock", "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    # -- manifest ---------------------------------------------------------------------------
    def manifest(self) -> dict[str, Record]:
        try:
            data = json.loads(self.manifest_path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise ArtifactError(f"the cache manifest {self.manifest_path} is unreadable ({exc}); "
                                "remove it to start afresh") from exc
        return {k: Record(**v) for k, v in data.get("artifacts", {}).items()}

    def record(self, rec: Record) -> None:
        """Add or replace one record; call with the lock held."""
        records = self.manifest()
        records[rec.key] = rec
        payload = {"schema": 1, "artifacts": {k: asdict(v) for k, v in sorted(records.items())}}
        self.write_atomic(self.manifest_path, json.dumps(payload, indent=2).encode())

    # -- objects ----------------------------------------------------------------------------
    def object_path(self, sha: str) -> Path:
        return self.objects / sha

    def add(self, src: Path) -> tuple[str, int]:
        """Move ``src`` into the store under its hash."""
        sha = sha256_file(src)
        dest = self.object_path(sha)
        self._replace(src, dest)
        return sha, dest.stat().st_size

    def verified(self, sha: str, full: bool = False) -> Path | None:
        """The object's path if present and intact; a corrupt object is removed. ``full``
        reads it whatever its stamp says (``rig images verify``)."""
        path = self.object_path(sha)
        if not path.exists():
            return None
        if (sha256_file(path) if full else self.hashed(path)) != sha:
            path.unlink(missing_ok=True)
            return None
        return path

    def hashed(self, path: Path) -> str:
        """The sha256 of a file rig keeps (an object, an unpacked ELF), read again only when
        its size, modification time or inode changed since it was last hashed, as git's index
        does: every run re-read every object it used (0.24 s of pci-hole's 1.3 s beyond QEMU's,
        measured 2026-12-02). A change in place that keeps all three goes unseen; a file
        changed within ``_RACY_S`` of its hashing is hashed every time (git's racy entries)."""
        st = path.stat()
        key = f"{st.st_size} {st.st_mtime_ns} {st.st_ino}"
        stamp = self.root / "hashed" / hashlib.sha256(str(path.absolute()).encode()).hexdigest()
        with contextlib.suppress(OSError):
            seen, _, sha = stamp.read_text().rpartition(" ")
            if seen == key and len(sha) == 64:
                return sha
        sha = sha256_file(path)
        if time.time() - st.st_mtime > _RACY_S:
            with contextlib.suppress(OSError, ArtifactError):  # a stamp is only a shortcut
                stamp.parent.mkdir(parents=True, exist_ok=True)
                self.write_atomic(stamp, f"{key} {sha}".encode())
        return sha

    def intact(self, kept: Path) -> bool:
        """Whether a file rig made and kept (an unpacked ELF, an initramfs) is as it was
        written: its hash is the one ``seal`` recorded beside it (``.sha256``)."""
        try:
            return kept.is_file() and self.hashed(kept) == kept.with_suffix(".sha256").read_text()
        except OSError:
            return False

    def seal(self, kept: Path, sha: str) -> None:
        """Record the hash of a file rig made and kept, for ``intact``."""
        self.write_atomic(kept.with_suffix(".sha256"), sha.encode())

    def prune(self, folder: str, wanted: Callable[[Path], bool]) -> list[Path]:
        """Remove the files of ``root/folder`` that are not ``wanted``; the paths removed."""
        removed = []
        where = self.root / folder
        if where.is_dir():
            for path in where.iterdir():
                if not wanted(path):
                    path.unlink()
                    removed.append(path)
        return removed

    def write_atomic(self, dest: Path, data: bytes) -> None:
        try:
            write_atomic(dest, data)
        except OSError as exc:
            raise _disk_error(exc, dest) from exc

    def _replace(self, src: Path, dest: Path) -> None:
        try:
            os.replace(src, dest)
        except OSError as exc:
            raise _disk_error(exc, dest) from exc

    def tmpdir(self, name: str) -> Path:
        d = self.root / "tmp" / f"{name}.{os.getpid()}"
        d.mkdir(parents=True, exist_ok=True)
        return d


def _disk_error(exc: OSError, dest: Path) -> ArtifactError:
    if exc.errno == errno.ENOSPC:
        return ArtifactError(f"the disk holding {dest.parent} is full: free space or point "
                             "RIG_CACHE elsewhere")
    return ArtifactError(f"cannot write {dest}: {exc.strerror}")
