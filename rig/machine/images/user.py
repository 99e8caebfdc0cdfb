"""A scenario's ``xen.version`` / ``dom0.kernel`` as the user gives it: an artifact key (a
recipe, fetched from Debian) or a path to their own build (a bzImage or vmlinux, a Xen ELF or
its .gz), checked before anything boots and resolved to an Artifact."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

from rig.domain import kconfig
from rig.errors import ArtifactError, UsageError
from rig.machine.images import vmlinux
from rig.machine.images.debs import fetch
from rig.machine.images.recipes import named, recipe
from rig.machine.images.store import Artifact, Record, Store, sha256_file

_MULTIBOOT_MAGICS = (b"\x02\xb0\xad\x1b", b"\xd6\x50\x52\xe8")  # multiboot1, multiboot2


def is_path(value: str) -> bool:
    """An artifact value names a file (not a key) when it looks like a path."""
    return "/" in value or value.startswith(".") or value.endswith((".gz", ".efi"))


def user_artifact(kind: str, path: Path, store: Store | None = None) -> Artifact:
    """A user's own kernel (bzImage/vmlinuz) or Xen (xen.gz or ELF), validated and recorded with
    its sha256. A gzip'd Xen is decompressed into the store (QEMU loads the plain ELF)."""
    store = store or Store()
    field = "dom0.kernel" if kind == "kernel" else "xen.version"
    # absolute: QEMU is handed links to it from a folder of rig's own (a CI job's relative
    # binaries/xen pointed nowhere from there)
    path = path.absolute()
    if not path.is_file():
        raise UsageError(f"{field} = {str(path)!r}: no such file")
    with open(path, "rb") as f:
        head = f.read(65536)
    sha = sha256_file(path)
    target = path
    if kind == "xen" and head[:2] == b"\x1f\x8b":
        target = _gunzip_into(store, path, field)
        head = target.read_bytes()[:65536]
    _check_head(kind, path, head)
    if kind == "kernel" and (missing := vmlinux.truncated(head, path.stat().st_size)):
        # a build rig made and cached is rig's to redo; a file the user named is theirs
        own = store.root in path.resolve().parents
        raise (ArtifactError if own else UsageError)(
            f"{field} = {str(path)!r}: the image is truncated: {missing}")
    record = Record(f"{kind}={path}", "(user file)", "-", "-", sha, path.stat().st_size,
                    str(path), sha, path.stat().st_size)
    return Artifact(record, target, config=kconfig.beside(path) if kind == "kernel" else None)


def _check_head(kind: str, path: Path, head: bytes, said: str | None = None) -> None:
    """The file is what the field says (a gzip'd Xen is judged once unpacked)."""
    where = named(kind, str(path), said)
    if kind == "kernel":
        if head[0x202:0x206] != b"HdrS" and head[:4] != b"\x7fELF":
            raise UsageError(f"{where}: not a bzImage (no 'HdrS' header) nor an ELF vmlinux")
    elif kind == "xen" and head[:2] != b"\x1f\x8b" and (
            head[:4] != b"\x7fELF" or not any(m in head for m in _MULTIBOOT_MAGICS)):
        raise UsageError(f"{where}: not a Xen image (an ELF with a multiboot header, or its .gz)")


def _gunzip_into(store: Store, path: Path, field: str) -> Path:
    store.ensure()
    tmp = store.tmpdir("user-xen") / "xen"
    try:
        with gzip.open(path, "rb") as src, open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst)
    except (OSError, EOFError) as exc:
        raise UsageError(f"{field} = {str(path)!r}: a broken gzip file ({exc})") from None
    sha, _ = store.add(tmp)  # content-addressed: the same Xen lands on the same object
    return store.object_path(sha)


def check(kind: str, value: str, said: str | None = None) -> None:
    """Fail fast, before anything boots, on a value the user can fix: an unknown key or a
    missing file (``src:`` trees are checked by rig.machine.build). ``said``: how the user
    gave the value, for the message (default: its scenario field)."""
    if kind == "kernel" and value.startswith("src:"):
        return
    if is_path(value):
        path = Path(value).expanduser()
        if not path.is_file():
            raise UsageError(f"{named(kind, value, said)}: no such file")
        with open(path, "rb") as f:
            _check_head(kind, path, f.read(65536), said)
        return
    recipe(kind, value, said)


def resolve(kind: str, value: str, *, offline: bool = False) -> Artifact:
    """A scenario's ``xen.version`` / ``dom0.kernel``: an artifact key or a path (``src:``
    trees are rig.machine.build's)."""
    if is_path(value):
        return user_artifact(kind, Path(value).expanduser())
    return fetch(kind, value, offline=offline)
