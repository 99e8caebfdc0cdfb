"""Guest artifacts: Xen, dom0 kernels and busybox from real Debian packages, cached by hash.

``fetch("kernel", "6.1")`` resolves the recipe in images/recipes.toml to a concrete package and
version, downloads it through the private apt root, extracts the one file that matters and keeps
it in the content-addressed store. Later calls use the manifest and never touch the network.
"""

from __future__ import annotations

import fnmatch
import gzip
import shutil
import subprocess
import tarfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

from rig.errors import ArtifactError
from rig.images.apt import AptRoot
from rig.images.store import Record, Store, sha256_file
from rig.resources import data_dir

KINDS = ("xen", "kernel", "busybox")


@dataclass(frozen=True)
class Recipe:
    kind: str
    name: str
    suite: str
    suites: tuple[str, ...]
    file: str
    package: str | None = None
    metapackage: str | None = None

    @property
    def key(self) -> str:
        return f"{self.kind}={self.name}"


def recipes() -> dict[str, Recipe]:
    data = tomllib.loads((data_dir("images") / "recipes.toml").read_text())
    suites = data.get("suites", {})
    out: dict[str, Recipe] = {}
    for kind in KINDS:
        for name, r in data.get(kind, {}).items():
            family = suites.get(r["suite"], {}).get("suites", [r["suite"]])
            rec = Recipe(kind, name, r["suite"], tuple(family), r["file"], r.get("package"),
                         r.get("metapackage"))
            out[rec.key] = rec
    return out


def recipe(kind: str, name: str) -> Recipe:
    known = recipes()
    key = f"{kind}={name}"
    if key not in known:
        names = ", ".join(k for k in known if k.startswith(kind + "="))
        raise ArtifactError(f"no artifact {key} (known: {names})")
    return known[key]


@dataclass(frozen=True)
class Artifact:
    record: Record
    path: Path

    def to_json(self) -> dict[str, object]:
        r = self.record
        return {"key": r.key, "package": r.package, "version": r.version, "suite": r.suite,
                "sha256": r.sha256, "path": str(self.path)}


def fetch(kind: str, name: str, *, store: Store | None = None, offline: bool = False,
          refresh: bool = False) -> Artifact:
    """The artifact for ``kind=name``: from the cache when intact, else from Debian."""
    store = store or Store()
    rec = recipe(kind, name)
    cached = store.manifest().get(rec.key)
    if cached is not None and not refresh:
        path = store.verified(cached.sha256)
        if path is not None:
            return Artifact(cached, path)
    if offline:
        state = "is corrupt" if cached else "is not in the cache"
        raise ArtifactError(f"{rec.key} {state} and --offline forbids fetching it "
                            f"(run `rig images fetch {rec.key}` while online)")
    with store.locked():
        # another rig may have fetched it while we waited for the lock
        cached = store.manifest().get(rec.key)
        if cached is not None and not refresh and (path := store.verified(cached.sha256)):
            return Artifact(cached, path)
        return _fetch_locked(rec, store)


def _fetch_locked(rec: Recipe, store: Store) -> Artifact:
    apt = AptRoot(store.root / "apt" / rec.suite, list(rec.suites))
    apt.update()
    package = rec.package
    if rec.metapackage:
        depends = apt.show(rec.metapackage).get("Depends", "")
        package = depends.split(",")[0].split("|")[0].split("(")[0].strip()
        if not package:
            raise ArtifactError(f"{rec.metapackage} depends on nothing to download")
    assert package is not None
    fields = apt.show(package)
    version = fields["Version"]
    work = store.tmpdir(rec.key.replace("=", "-"))
    try:
        deb = apt.download(package, version, work)
        deb_sha = sha256_file(deb)
        if fields.get("SHA256") and fields["SHA256"] != deb_sha:
            raise ArtifactError(f"{deb.name}: sha256 {deb_sha} differs from the archive's "
                                f"{fields['SHA256']}")
        member, extracted = _extract(deb, rec.file, work)
        if member.endswith(".gz"):
            # QEMU's multiboot loader wants the plain ELF
            plain = work / "plain"
            with gzip.open(extracted, "rb") as src, open(plain, "wb") as dst:
                shutil.copyfileobj(src, dst)
            extracted = plain
        sha, size = store.add(extracted)
        record = Record(rec.key, package, version, rec.suite, deb_sha, deb.stat().st_size,
                        member, sha, size)
        store.record(record)
        return Artifact(record, store.object_path(sha))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _extract(deb: Path, pattern: str, dest: Path) -> tuple[str, Path]:
    """Stream the package's data through tar and keep the first member matching ``pattern``
    (skipping a kernel package's hundreds of MiB of modules costs nothing)."""
    cmd = ["dpkg-deb", "--fsys-tarfile", str(deb)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    found: tuple[str, Path] | None = None
    try:
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
            for info in tar:
                name = info.name.removeprefix("./")
                if info.isfile() and fnmatch.fnmatch(name, pattern):
                    src = tar.extractfile(info)
                    assert src is not None
                    out = dest / Path(name).name
                    with open(out, "wb") as f:
                        shutil.copyfileobj(src, f)
                    found = (name, out)
                    break
    except tarfile.TarError as exc:
        raise ArtifactError(f"{deb.name} is not a readable package: {exc}", command=cmd) from exc
    finally:
        proc.kill()
        _, err = proc.communicate()
    if found is None:
        raise ArtifactError(f"{deb.name} has no file matching {pattern!r}", command=cmd,
                            output=err.decode(errors="replace"))
    return found
