"""The registry of regressions rig catches (rig/regressions/registry.toml): each entry's fix,
the layout that shows it, the check that catches it and the software of its two sides. Decoded
by msgspec like rig's other documents (a field of the wrong type or an unknown one is named with
its place), then checked: the layout loads, the check is one rig makes and judges a kernel or
Xen with, the patches and fragments exist. Reads only files."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import msgspec

from rig.errors import UsageError
from rig.judge.check import CheckName

#: the checks an entry may name (the checks of rig.judge that judge a kernel or Xen against
#: the model, and crash: the machine must not crash)
CHECKS = (CheckName.NOTHING_LOST, CheckName.REFUSAL, CheckName.NONRAM_MOVED,
          CheckName.NONRAM_REMAPPED, CheckName.BALLOON_TARGET, CheckName.LINUX_MAP,
          CheckName.KERNEL_PLACE, CheckName.REMAPPED, CheckName.RELEASED, CheckName.EXTRA_MEM,
          CheckName.ACPI_TABLE, CheckName.CRASH)


class RegistryError(UsageError):
    """The registry (or a file it names) is broken: a bug of rig's, said with the field."""


def registry_folder() -> Path:
    return Path(str(resources.files("rig") / "regressions"))


class _SideRecord(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    kernel: str | None = None
    xen: str | None = None
    source: str | None = None
    patch: str | list[str] = msgspec.field(default_factory=list)
    config: str | None = None
    cannot: str | None = None


class _EntryRecord(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    id: str
    year: int
    commit: str
    title: str
    landed: str
    layout: str
    check: str
    fixed: _SideRecord
    broken: _SideRecord
    notes: str = ""


class _RegistryFile(msgspec.Struct, forbid_unknown_fields=True):
    regression: list[_EntryRecord] = msgspec.field(default_factory=list)


@dataclass(frozen=True)
class Side:
    """A machine's software for one side of an entry: artifact keys, or a Debian source built
    with a patch that takes the fix out, or why it cannot be had here."""

    kernel: str | None = None
    xen: str | None = None
    source: str | None = None
    #: patches applied to ``source`` in order (a revert chain: the fix and what sits on it)
    patches: tuple[str, ...] = ()
    #: a Kconfig fragment (in rig/regressions/) merged after rig's minimal dom0's
    config: str | None = None
    cannot: str | None = None

    def describe(self, adds: bool = False) -> str:
        """``adds``: the patch puts the fix in (rig's own findings, which no kernel has), not
        takes it out."""
        if self.cannot:
            return "-"
        sign = " + " if adds else " − "
        kernel = (f"{self.source} source" + "".join(sign + Path(p).stem for p in self.patches)
                  + (f", {self.config}" if self.config else "")
                  if self.source else self.kernel or "(layout's)")
        return kernel + (f", Xen {self.xen}" if self.xen else "")


@dataclass(frozen=True)
class Regression:
    id: str
    year: int
    commit: str
    title: str
    landed: str
    layout: Path
    check: CheckName
    fixed: Side
    broken: Side
    notes: str = ""
    #: the layout's own description (read once, when the registry is checked)
    description: str = ""

    @property
    def finding(self) -> bool:
        """rig's own finding: the fixed side is a source with rig's patch, no kernel has it."""
        return bool(self.fixed.patches)

    @property
    def fix(self) -> str:
        return f"{self.commit or ('rig' if self.finding else '(no id)')} \"{self.title}\""


def _side(raw: _SideRecord, key: str, where: str) -> Side:
    patches = tuple(raw.patch if isinstance(raw.patch, list) else [raw.patch])
    side = Side(raw.kernel, raw.xen, raw.source, patches, raw.config, raw.cannot)
    for name, f in [*(("patch", p) for p in patches), ("config", side.config)]:
        if f and not (registry_folder() / f).is_file():
            raise RegistryError(f"{where}.{key}.{name} = {f!r}: no such file in "
                                f"{registry_folder()}")
    if side.patches and not side.source:
        raise RegistryError(f"{where}.{key}.patch: only a side built from source has one")
    if key == "broken" and side.source and not side.patches:
        raise RegistryError(f"{where}.broken: Debian's source as it is has the fix; name the "
                            "patch that takes it out")
    if side.config and not side.source:
        raise RegistryError(f"{where}.{key}.config: only a side built from source has one")
    return side


def _check(entry: _EntryRecord, where: str) -> CheckName:
    """The entry's check: a CheckName, and one of CHECKS; a typo fails here, when the registry
    loads, never once its boots are done."""
    name = CheckName.of(entry.check)
    said = f"{where}.check = {entry.check!r} (entry {entry.id!r})"
    if name is None:
        raise RegistryError(f"{said}: rig makes no such check; expected one of "
                            f"{', '.join(CHECKS)}")
    if name not in CHECKS:
        raise RegistryError(f"{said}: that check does not judge a kernel or Xen against the "
                            f"model; expected one of {', '.join(CHECKS)}")
    return name


def registry(path: Path | None = None) -> list[Regression]:
    """The entries, each checked: its layout loads, its check is one rig has, its sides are
    complete."""
    from rig.domain import scenario_file

    path = path or registry_folder() / "registry.toml"
    try:
        data = msgspec.toml.decode(path.read_bytes(), type=_RegistryFile)
    except OSError as exc:
        raise RegistryError(f"{path}: {exc}") from None
    except msgspec.DecodeError as exc:  # a TOML error, or a field's type or name ("$.x[3].y")
        raise RegistryError(f"{path.name}: {exc}") from None
    out = []
    for i, entry in enumerate(data.regression):
        where = f"{path.name}: regression[{i}]"
        layout = registry_folder() / "layouts" / f"{entry.layout}.toml"
        if not layout.is_file():
            raise RegistryError(f"{where}.layout = {entry.layout!r}: no such layout")
        description = scenario_file.load(str(layout)).description
        out.append(Regression(entry.id, entry.year, entry.commit, entry.title, entry.landed,
                              layout, _check(entry, where),
                              _side(entry.fixed, "fixed", where),
                              _side(entry.broken, "broken", where), entry.notes, description))
    ids = [r.id for r in out]
    if len(set(ids)) != len(ids):
        raise RegistryError(f"{path.name}: an id is given twice")
    return out


def select(entries: list[Regression], only: str | None) -> list[Regression]:
    if not only:
        return entries
    wanted = [w.strip() for w in only.split(",") if w.strip()]
    known = {r.id for r in entries}
    if bad := [w for w in wanted if w not in known]:
        raise UsageError(f"--only {only!r}: no entry {', '.join(bad)} (rig regressions --list "
                         f"names them: {', '.join(sorted(known))})")
    return [r for r in entries if r.id in wanted]
