"""Guest artifacts: Xen, dom0 kernels and busybox from real Debian packages, cached by hash.

``fetch("kernel", "6.1")`` resolves the recipe in images/recipes.toml to a concrete package and
version, downloads it through the private apt root, extracts the one file that matters and keeps
it in the content-addressed store. Later calls use the manifest and never touch the network.
"""

from __future__ import annotations

import fnmatch
import functools
import gzip
import shutil
import subprocess
import sys
import tarfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

from rig.domain import kconfig
from rig.errors import ArtifactError, UsageError
from rig.machine.images import initramfs, vmlinux
from rig.machine.images.apt import AptRoot
from rig.machine.images.store import Record, Store, sha256_file
from rig.progress import say, step

__all__ = ["Artifact", "Record", "Store", "fetch", "gc", "recipes", "resolve", "verify"]
from rig.resources import data_dir

KINDS = ("xen", "xen-efi", "kernel", "busybox", "source")


@dataclass(frozen=True)
class Recipe:
    kind: str
    name: str
    suite: str
    suites: tuple[str, ...]
    file: str
    package: str | None = None
    metapackage: str | None = None
    follow: tuple[str, ...] = ()  # globs over Depends, one per step from the metapackage
    #: globs of the kernel's build configuration (the model reads it), in the same package or
    #: in the one ``config_follow`` reaches from it through Depends (sid's split kernel)
    config: tuple[str, ...] = ()
    config_follow: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.kind}={self.name}"


def recipes() -> dict[str, Recipe]:
    """The artifact recipes (images/recipes.toml), read once per process: a run asks for
    several artifacts, and each parse of the file cost ~3 ms."""
    return dict(_recipes())


@functools.cache
def _recipes() -> dict[str, Recipe]:
    data = tomllib.loads((data_dir("images") / "recipes.toml").read_text())
    suites = data.get("suites", {})
    out: dict[str, Recipe] = {}
    for kind in KINDS:
        for name, r in data.get(kind, {}).items():
            family = suites.get(r["suite"], {}).get("suites", [r["suite"]])
            rec = Recipe(kind, name, r["suite"], tuple(family), r["file"], r.get("package"),
                         r.get("metapackage"), tuple(r.get("follow", ())),
                         tuple(r.get("config", ())), tuple(r.get("config_follow", ())))
            out[rec.key] = rec
    return out


FIELDS = {"xen": "xen.version", "kernel": "dom0.kernel", "xen-efi": "xen.version"}


def named(kind: str, value: str, said: str | None = None) -> str:
    """How an error names a value: as the user gave it (``said``, e.g. "--kernel '6.99'"),
    else as the scenario field it is (``dom0.kernel = '6.99'``)."""
    return said or f"{FIELDS.get(kind, kind)} = {value!r}"


def recipe(kind: str, name: str, said: str | None = None) -> Recipe:
    """The recipe of an artifact key; an unknown key is the user's to fix (exit 2)."""
    known = recipes()
    key = f"{kind}={name}"
    if key not in known:
        if kind not in KINDS:
            raise UsageError(f"{key!r}: unknown kind {kind!r} (kinds: {', '.join(KINDS)})")
        names = ", ".join(k for k in known if k.startswith(kind + "="))
        raise UsageError(f"{named(kind, name, said)}: no such artifact key "
                         f"(known: {names}; or give a path to your own build)")
    return known[key]


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


@dataclass(frozen=True)
class Artifact:
    record: Record
    path: Path
    note: str | None = None  # e.g. the cached copy was corrupt and was fetched again
    #: a kernel's build configuration (Debian's /boot/config-*, a build's .config)
    config: Path | None = None


def fetch(kind: str, name: str, *, store: Store | None = None, offline: bool = False,
          refresh: bool = False) -> Artifact:
    """The artifact for ``kind=name``: from the cache when intact, else from Debian."""
    store = store or Store()
    rec = recipe(kind, name)
    cached = store.manifest().get(rec.key)
    note = None
    if cached is not None and rec.config and cached.config_sha256 is None:
        # recorded before rig kept kernel configurations: fetch once more to get it
        note = f"the cached {rec.key} had no kernel configuration recorded: fetched again"
        cached = None
    if cached is not None and not refresh:
        if store.object_path(cached.sha256).exists():
            path = store.verified(cached.sha256)
            if path is not None:
                return Artifact(cached, path, config=_config_of(store, cached))
            corrupt = (f"the cached {rec.key} ({cached.package} {cached.version}) did not "
                       f"match its sha256 {cached.sha256[:16]}: removed")
            if offline:
                raise ArtifactError(f"{corrupt}, and --offline forbids fetching it again (run "
                                    f"`rig images fetch {rec.key}` while online)")
            note = f"{corrupt} and fetched again"
            print(f"rig: warning: {note}", file=sys.stderr)
        else:
            note = f"the cached {rec.key} file was missing: fetched again"
    if offline:
        raise ArtifactError(f"{rec.key} is not in the cache and --offline forbids fetching it "
                            f"(run `rig images fetch {rec.key}` while online)")
    with store.locked():
        # another rig may have fetched it while we waited for the lock
        cached = store.manifest().get(rec.key)
        if cached is not None and not refresh and (path := store.verified(cached.sha256)) \
                and (cached.config_sha256 or not rec.config):
            return Artifact(cached, path, note, _config_of(store, cached))
        with step(f"fetching {rec.key} from Debian's {rec.suite}"):
            art = _fetch_locked(rec, store)
        return Artifact(art.record, art.path, note, art.config)


def _config_of(store: Store, rec: Record) -> Path | None:
    return store.verified(rec.config_sha256) if rec.config_sha256 else None


def _room_for(fields: dict[str, str]) -> int:
    """The cache space a package's fetch takes: the .deb (its index's Size) and the file rig
    extracts from it, at most as large again."""
    try:
        return 2 * int(fields.get("Size", "0"))
    except ValueError:
        return 0


def _fetch_locked(rec: Recipe, store: Store) -> Artifact:
    apt = AptRoot(store.root / "apt" / rec.suite, list(rec.suites))
    say(f"updating the package lists of {rec.suite}")
    apt.update()
    package = _follow(apt, rec, rec.metapackage, rec.follow) if rec.metapackage else rec.package
    assert package is not None
    say(f"fetching {rec.key}: {package} from {rec.suite}")
    fields = apt.show(package)
    version = fields["Version"]
    work = store.tmpdir(rec.key.replace("=", "-"))
    try:
        deb = apt.download(package, version, work, size=_room_for(fields))
        deb_sha = sha256_file(deb)
        if fields.get("SHA256") and fields["SHA256"] != deb_sha:
            raise ArtifactError(f"{deb.name}: sha256 {deb_sha} differs from the archive's "
                                f"{fields['SHA256']}")
        found = _extract(deb, {"file": rec.file, **{f"config{i}": g
                                                    for i, g in enumerate(rec.config)}}, work)
        if "file" not in found:
            raise ArtifactError(f"{deb.name} has no file matching {rec.file!r}")
        member, extracted = found["file"]
        config = next((found[k] for k in sorted(found) if k.startswith("config")), None)
        if rec.config and config is None and rec.config_follow:
            holder = _follow(apt, rec, package, rec.config_follow)
            held = apt.show(holder)
            extra = apt.download(holder, held["Version"], work, size=_room_for(held))
            got = _extract(extra, {f"config{i}": g for i, g in enumerate(rec.config)}, work)
            config = next((got[k] for k in sorted(got)), None)
        if rec.config and config is None:
            raise ArtifactError(f"{deb.name} has no kernel configuration matching "
                                f"{' or '.join(rec.config)} (update images/recipes.toml)")
        if member.endswith(".gz"):
            # QEMU's multiboot loader wants the plain ELF
            plain = work / "plain"
            with gzip.open(extracted, "rb") as src, open(plain, "wb") as dst:
                shutil.copyfileobj(src, dst)
            extracted = plain
        sha, size = store.add(extracted)
        config_sha = store.add(config[1])[0] if config else None
        record = Record(rec.key, package, version, rec.suite, deb_sha, deb.stat().st_size,
                        member, sha, size, config[0] if config else None, config_sha)
        store.record(record)
        return Artifact(record, store.object_path(sha),
                        config=store.object_path(config_sha) if config_sha else None)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _follow(apt: AptRoot, rec: Recipe, package: str, globs: tuple[str, ...]) -> str:
    """Walk Depends from ``package``, one glob per step; the last package chosen."""
    for glob in globs:
        depends = apt.show(package).get("Depends", "")
        names = [d.split("|")[0].split("(")[0].strip() for d in depends.split(",")]
        chosen = [n for n in names if fnmatch.fnmatch(n, glob)]
        if not chosen:
            raise ArtifactError(f"{rec.key}: {package} in {rec.suite} depends on "
                                f"{', '.join(names) or 'nothing'}, none matching {glob!r} "
                                "(the suite moved on: update images/recipes.toml)")
        package = chosen[0]
    return package


def _extract(deb: Path, patterns: dict[str, str], dest: Path) -> dict[str, tuple[str, Path]]:
    """Stream the package's data through tar and keep the first member matching each pattern,
    stopping once all are found (a kernel package's hundreds of MiB of modules cost nothing
    when /boot comes first)."""
    cmd = ["dpkg-deb", "--fsys-tarfile", str(deb)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    found: dict[str, tuple[str, Path]] = {}
    # "file", "config": one of each wanted, the first match of any of its patterns
    kinds = {k.rstrip("0123456789") for k in patterns}
    try:
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
            for info in tar:
                name = info.name.removeprefix("./")
                if not info.isfile():
                    continue
                for key, pattern in patterns.items():
                    if key in found or not fnmatch.fnmatch(name, pattern):
                        continue
                    src = tar.extractfile(info)
                    assert src is not None
                    out = dest / f"{key}-{Path(name).name}"
                    with open(out, "wb") as f:
                        shutil.copyfileobj(src, f)
                    found[key] = (name, out)
                    break
                if all(any(k.startswith(kind) for k in found) for kind in kinds):
                    break
    except tarfile.TarError as exc:
        raise ArtifactError(f"{deb.name} is not a readable package: {exc}", command=cmd) from exc
    finally:
        proc.kill()
        _, err = proc.communicate()
    if not found and err.strip():
        raise ArtifactError(f"{deb.name} could not be read", command=cmd,
                            output=err.decode(errors="replace"))
    return found


# -- bring your own --------------------------------------------------------------------------

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


def resolve(kind: str, value: str, *, offline: bool = False) -> Artifact:
    """A scenario's ``xen.version`` / ``dom0.kernel``: an artifact key or a path (``src:``
    trees are rig.machine.build's)."""
    if is_path(value):
        return user_artifact(kind, Path(value).expanduser())
    return fetch(kind, value, offline=offline)


# -- maintenance: rig images list | verify | gc ----------------------------------------------

def verify(store: Store | None = None) -> list[tuple[Record, bool]]:
    """Re-hash every cached artifact; corrupt ones are removed (and re-fetched on next use)."""
    store = store or Store()
    with store.locked():
        return [(rec, store.verified(rec.sha256, full=True) is not None)
                for rec in store.manifest().values()]


def gc(store: Store | None = None) -> list[Path]:
    """Remove objects no manifest record names, and leftovers of interrupted fetches."""
    store = store or Store()
    removed: list[Path] = []
    with store.locked():
        keep = {sha for rec in store.manifest().values()
                for sha in (rec.sha256, rec.config_sha256) if sha}
        if store.objects.is_dir():
            for obj in store.objects.iterdir():
                if obj.name not in keep:
                    obj.unlink()
                    removed.append(obj)
        removed += vmlinux.gc(store, keep)
        removed += initramfs.gc(store, keep)
        tmp = store.root / "tmp"
        if tmp.is_dir():
            shutil.rmtree(tmp)
            removed.append(tmp)
    return removed
