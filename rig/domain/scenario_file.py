"""Scenario files: TOML → Scenario, ``--set KEY=VALUE`` overrides, and the presets shipped in
rig/scenarios/*.toml. Every bad value is a ScenarioError naming the field and the value."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, TypeAlias

from rig.domain.scenario import HOLE_KINDS, Hole, Scenario, ScenarioError, validate
from rig.domain.units import parse_size
from rig.errors import UsageError

#: a TOML table as tomllib reads it
TomlTable: TypeAlias = dict[str, Any]

# field path in the TOML → attribute
_FIELDS = {
    "name": "name",
    "description": "description",
    "machine.type": "machine_type",
    "machine.memory": "memory",
    "machine.below_4g": "below_4g",
    "machine.firmware": "firmware",
    "machine.cpus": "cpus",
    "machine.loader": "loader",
    "xen.version": "xen_version",
    "xen.dom0_mem": "dom0_mem",
    "xen.cmdline": "xen_cmdline",
    "dom0.kernel": "kernel",
    "dom0.cmdline": "dom0_cmdline",
    "dom0.mode": "dom0_mode",
    "dom0.initrd_pad": "initrd_pad",
}


def _size(fname: str, value: object, source: str | None) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not isinstance(value, str):
        raise ScenarioError(fname, value, "expected a size such as 4G or 0x80000000", source)
    try:
        return parse_size(value)
    except ValueError as exc:
        raise ScenarioError(fname, value, str(exc), source) from None


def _convert(fname: str, value: object, source: str | None) -> object:
    if fname in ("machine.memory", "machine.below_4g"):
        if fname == "machine.below_4g" and value in ("", None):
            return None
        return _size(fname, value, source)
    if fname in ("machine.cpus", "dom0.initrd_pad"):
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise ScenarioError(fname, value, "expected a whole number", source)
        return value
    if fname == "xen.dom0_mem" and value in ("", None):
        return None
    if not isinstance(value, str):
        raise ScenarioError(fname, value, "expected a string", source)
    return value


def _flatten(data: TomlTable, source: str | None) -> tuple[dict[str, object], list[Any]]:
    flat: dict[str, object] = {}
    holes: list[Any] = []
    for key, value in data.items():
        if key == "holes":
            if not isinstance(value, list):
                raise ScenarioError("holes", value, "expected [[holes]] tables", source)
            holes = value
        elif isinstance(value, dict):
            for sub, subval in value.items():
                flat[f"{key}.{sub}"] = subval
        else:
            flat[key] = value
    unknown = sorted(set(flat) - set(_FIELDS))
    if unknown:
        raise ScenarioError(unknown[0], flat[unknown[0]],
                            f"unknown field (known: {', '.join(_FIELDS)})", source)
    return flat, holes


def _hole(i: int, raw: object, source: str | None) -> Hole:
    if not isinstance(raw, dict):
        raise ScenarioError(f"holes[{i}]", raw, "expected a table with start, size, kind", source)
    extra = sorted(set(raw) - {"start", "size", "kind", "acpi_table"})
    if extra:
        raise ScenarioError(f"holes[{i}].{extra[0]}", raw[extra[0]], "unknown field", source)
    for key in ("start", "size"):
        if key not in raw:
            raise ScenarioError(f"holes[{i}].{key}", None, "missing", source)
    kind = raw.get("kind", "gap")
    if kind not in HOLE_KINDS:
        raise ScenarioError(f"holes[{i}].kind", kind, f"expected one of {HOLE_KINDS}", source)
    table = raw.get("acpi_table", False)
    if not isinstance(table, bool):
        raise ScenarioError(f"holes[{i}].acpi_table", table, "expected true or false", source)
    return Hole(_size(f"holes[{i}].start", raw["start"], source),
                _size(f"holes[{i}].size", raw["size"], source), kind, table)


def from_dict(data: TomlTable, source: str | None = None,
              overrides: dict[str, str] | None = None) -> Scenario:
    flat, raw_holes = _flatten(data, source)
    for key, value in (overrides or {}).items():
        if key not in _FIELDS:
            raise ScenarioError(key, value, f"unknown field (known: {', '.join(_FIELDS)})",
                                "--set")
        flat[key] = value
    if "name" not in flat:
        raise ScenarioError("name", None, "missing", source)
    kwargs = {_FIELDS[k]: _convert(k, v, source if k not in (overrides or {}) else "--set")
              for k, v in flat.items()}
    holes = tuple(_hole(i, h, source) for i, h in enumerate(raw_holes))
    scenario = Scenario(**kwargs, holes=holes, source=source)  # type: ignore[arg-type]
    validate(scenario)
    return scenario


def overrides_from(pairs: list[str], *, kernel: str | None = None,
                   xen: str | None = None) -> dict[str, str]:
    """``--set KEY=VALUE`` pairs, plus ``--kernel`` / ``--xen``: shorthand for dom0.kernel= and
    xen.version=, any value those fields take (the command line checked and normalised them:
    rig.cli.options.image; the scenario's own check follows in any case)."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set {pair!r}: expected KEY=VALUE, e.g. xen.dom0_mem=3G")
        if key.strip() not in _FIELDS:
            raise ScenarioError(key.strip(), value, f"unknown field (known: {', '.join(_FIELDS)})",
                                "--set")
        out[key.strip()] = value
    for key, given in (("dom0.kernel", kernel), ("xen.version", xen)):
        if given is not None:
            out[key] = given
    return out


def presets_dir() -> Path:
    return Path(str(resources.files("rig") / "scenarios"))


def presets() -> dict[str, Path]:
    return {p.stem: p for p in sorted(presets_dir().glob("*.toml"))}


def load(name_or_path: str, overrides: dict[str, str] | None = None) -> Scenario:
    """A preset by name, or a TOML file by path."""
    path = Path(name_or_path)
    if not (path.suffix == ".toml" or path.exists()):
        known = presets()
        if name_or_path not in known:
            raise ScenarioError("scenario", name_or_path,
                                f"no such preset or file (presets: {', '.join(known)})")
        path = known[name_or_path]
    if path.is_dir():
        raise ScenarioError("scenario", str(path), "is a directory, not a TOML file")
    try:
        data = tomllib.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise ScenarioError("scenario", str(path), "file not found") from None
    except UnicodeDecodeError as exc:
        raise ScenarioError("scenario", str(path), f"not a text file ({exc.reason})") from None
    except PermissionError:
        raise ScenarioError("scenario", str(path), "permission denied") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError("scenario", str(path), f"not valid TOML: {exc}") from None
    return from_dict(data, source=str(path), overrides=overrides)
