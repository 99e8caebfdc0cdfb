"""The artifact recipes (images/recipes.toml): each artifact key (``kernel=6.1``, ``xen=4.20``)
and the Debian package, suite and file it names; an unknown key is the user's to fix."""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass

from rig.errors import UsageError
from rig.resources import data_dir

ARTIFACT_KINDS = ("xen", "xen-efi", "kernel", "busybox", "source")


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
    for kind in ARTIFACT_KINDS:
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
        if kind not in ARTIFACT_KINDS:
            raise UsageError(f"{key!r}: unknown kind {kind!r} "
                             f"(kinds: {', '.join(ARTIFACT_KINDS)})")
        names = ", ".join(k for k in known if k.startswith(kind + "="))
        raise UsageError(f"{named(kind, name, said)}: no such artifact key "
                         f"(known: {names}; or give a path to your own build)")
    return known[key]
