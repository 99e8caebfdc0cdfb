"""An artifact from Debian: ``fetch("kernel", "6.1")`` resolves the recipe to a concrete package
and version, downloads it through the private apt root (rig.machine.images.apt), extracts the one
file that matters from the .deb (and the kernel's build configuration) and keeps it in the
content-addressed store. Later calls use the manifest and never touch the network."""

from __future__ import annotations

import fnmatch
import gzip
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

from rig.errors import ArtifactError
from rig.machine.images.apt import AptRoot
from rig.machine.images.recipes import Recipe, recipe
from rig.machine.images.store import Artifact, Record, Store, sha256_file
from rig.progress import say, step


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
