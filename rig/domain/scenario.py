"""Scenarios: TOML files that declare a machine's memory layout and what to boot on it.

Presets ship in rig/scenarios/*.toml. Every bad value is reported as a ScenarioError that names
the field and the value; nothing here touches QEMU.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from rig.domain.dom0mem import Dom0Mem
from rig.errors import UsageError
from rig.model.firmware import LEGACY_PC, high_ram_start
from rig.domain.e820 import GiB, MiB, TiB, format_size, parse_size

MACHINE_TYPES = ("pc", "q35")
FIRMWARES = ("bios", "uefi")
HOLE_KINDS = ("gap", "badram")
#: how Xen builds dom0: a PV guest (the classic dom0) or a PVH one (dom0=pvh)
DOM0_MODES = ("pv", "pvh")
# RAM below 4 GiB ends here at most: measured on pc (pc-i440fx-1.7) 2026-11-30, where 16 GiB
# guests booted with the split at 0xfe000000; above, the PCI hole would not hold the BIOS ROM
# and the APICs (0xfec00000). q35 keeps at most 0xb0000000 (its MMCONFIG window follows).
MAX_BELOW_4G = 0xFE000000
Q35_MAX_BELOW_4G = 0xB0000000
#: QEMU's pc machines move a split above this down to it when RAM goes past it (gigabyte_align)
GIGABYTE_ALIGN_CAP = 0xC0000000
MAX_MEMORY = 4 * TiB


#: GRUB's multiboot loader re-escapes these when it builds the command line it hands Xen
#: (grub-core/lib/cmdline.c puts a backslash before each)
GRUB_UNSAFE = "'\"\\"
#: a scenario's name becomes part of a folder's name: letters, digits, ".", "_", "-", not
#: starting with "." (so never "..", never a path)
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
NAME_RULE = ("1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit "
             "(it names the results folder)")


class ScenarioError(UsageError):
    """A scenario value is wrong: ``field`` names it, ``value`` is what was given (exit 2)."""

    def __init__(self, field: str, value: object, why: str, source: str | None = None) -> None:
        self.field, self.value, self.why, self.source = field, value, why, source
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{field} = {value!r}: {why}")


@dataclass(frozen=True)
class Hole:
    start: int
    size: int
    kind: str = "gap"

    @property
    def end(self) -> int:
        return self.start + self.size


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str = ""
    machine_type: str = "pc"
    memory: int = 4 * GiB
    below_4g: int | None = None
    firmware: str = "bios"
    cpus: int = 1
    holes: tuple[Hole, ...] = ()
    xen_version: str = "4.17"
    dom0_mem: str | None = None
    xen_cmdline: str = ""
    kernel: str = "6.1"
    dom0_cmdline: str = ""
    dom0_mode: str = "pv"
    source: str | None = field(default=None, compare=False)

    @property
    def low_ram(self) -> int:
        """RAM below 4 GiB as QEMU 7.2 splits it (hw/i386/pc_piix.c, pc_q35.c)."""
        if self.machine_type == "q35":
            lowmem = 0x80000000 if self.memory >= 0xB0000000 else 0xB0000000
            if self.below_4g is not None and lowmem > self.below_4g:
                lowmem = self.below_4g
        else:
            lowmem = self.below_4g if self.below_4g is not None else 0xE0000000
            # pc machines move a split above 3 GiB down to 3 GiB (gigabyte_align), except the
            # legacy machine type rig picks when the scenario asks for such a split
            if self.memory >= lowmem > GIGABYTE_ALIGN_CAP and self.qemu_machine != LEGACY_PC:
                lowmem = GIGABYTE_ALIGN_CAP
        return min(self.memory, lowmem)

    @property
    def qemu_machine(self) -> str:
        """The QEMU machine type: the scenario's, except for a pc whose asked-for RAM below
        4 GiB ends past 3 GiB with RAM above 4 GiB. Today's pc types align that split to
        1 GiB (3 GiB); pc-i440fx-1.7, the newest without gigabyte_align, keeps it."""
        if (self.machine_type == "pc" and self.below_4g is not None
                and self.memory >= self.below_4g > GIGABYTE_ALIGN_CAP):
            return LEGACY_PC
        return self.machine_type

    @property
    def qemu_machine_why(self) -> str | None:
        if self.qemu_machine == self.machine_type:
            return None
        return (f"QEMU machine {self.qemu_machine}: RAM below 4 GiB to {self.below_4g:#x} with "
                "RAM above 4 GiB, which today's pc types cut to 3 GiB (gigabyte alignment)")

    @property
    def high_ram(self) -> int:
        return self.memory - self.low_ram

    @property
    def high_ram_start(self) -> int:
        """Where QEMU puts the RAM above 4 GiB (1 TiB for the largest guests: rig.firmware)."""
        return high_ram_start(self.high_ram, self.qemu_machine)

    @property
    def boot(self) -> str:
        """How Xen is loaded: holes need GRUB's cutmem/badram; without any, QEMU's multiboot
        loader is faster."""
        if self.firmware == "uefi":
            return "uefi"
        return "grub" if self.holes else "direct"

    def to_toml(self) -> str:
        """The scenario as a file ``rig run`` loads back to the same scenario."""
        lines = [f"name = {_q(self.name)}", f"description = {_q(self.description)}", "",
                 "[machine]", f"type = {_q(self.machine_type)}",
                 f"memory = {_q(_toml_size(self.memory))}"]
        if self.below_4g is not None:
            lines.append(f"below_4g = {_q(hex(self.below_4g))}")
        lines += [f"firmware = {_q(self.firmware)}", f"cpus = {self.cpus}", ""]
        for h in self.holes:
            lines += ["[[holes]]", f"start = {_q(hex(h.start))}", f"size = {_q(hex(h.size))}",
                      f"kind = {_q(h.kind)}", ""]
        lines += ["[xen]", f"version = {_q(self.xen_version)}"]
        if self.dom0_mem:
            lines.append(f"dom0_mem = {_q(self.dom0_mem)}")
        if self.xen_cmdline:
            lines.append(f"cmdline = {_q(self.xen_cmdline)}")
        lines += ["", "[dom0]", f"kernel = {_q(self.kernel)}"]
        if self.dom0_cmdline:
            lines.append(f"cmdline = {_q(self.dom0_cmdline)}")
        if self.dom0_mode != "pv":
            lines.append(f"mode = {_q(self.dom0_mode)}")
        return "\n".join(lines) + "\n"

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "description": self.description,
            "machine": {
                "type": self.machine_type,
                "memory": format_size(self.memory),
                "below_4g": None if self.below_4g is None else hex(self.below_4g),
                "firmware": self.firmware,
                "cpus": self.cpus,
            },
            "holes": [{"start": hex(h.start), "size": format_size(h.size), "kind": h.kind}
                      for h in self.holes],
            "xen": {"version": self.xen_version, "dom0_mem": self.dom0_mem,
                    "cmdline": self.xen_cmdline},
            "dom0": {"kernel": self.kernel, "cmdline": self.dom0_cmdline,
                     "mode": self.dom0_mode},
        }


def _q(text: str) -> str:
    """A TOML basic string (validation keeps newlines and NULs out of every value)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _toml_size(n: int) -> str:
    return f"{n // MiB}M" if n % MiB == 0 else hex(n)


# field path in the TOML → attribute
_FIELDS = {
    "name": "name",
    "description": "description",
    "machine.type": "machine_type",
    "machine.memory": "memory",
    "machine.below_4g": "below_4g",
    "machine.firmware": "firmware",
    "machine.cpus": "cpus",
    "xen.version": "xen_version",
    "xen.dom0_mem": "dom0_mem",
    "xen.cmdline": "xen_cmdline",
    "dom0.kernel": "kernel",
    "dom0.cmdline": "dom0_cmdline",
    "dom0.mode": "dom0_mode",
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
    if fname == "machine.cpus":
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


def _flatten(data: dict[str, Any], source: str | None) -> tuple[dict[str, object], list[Any]]:
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
    extra = sorted(set(raw) - {"start", "size", "kind"})
    if extra:
        raise ScenarioError(f"holes[{i}].{extra[0]}", raw[extra[0]], "unknown field", source)
    for key in ("start", "size"):
        if key not in raw:
            raise ScenarioError(f"holes[{i}].{key}", None, "missing", source)
    kind = raw.get("kind", "gap")
    if kind not in HOLE_KINDS:
        raise ScenarioError(f"holes[{i}].kind", kind, f"expected one of {HOLE_KINDS}", source)
    return Hole(_size(f"holes[{i}].start", raw["start"], source),
                _size(f"holes[{i}].size", raw["size"], source), kind)


def from_dict(data: dict[str, Any], source: str | None = None,
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


def validate(s: Scenario) -> None:
    src = s.source
    if not NAME.match(s.name):
        raise ScenarioError("name", s.name, NAME_RULE, src)
    for fname, text in (("xen.cmdline", s.xen_cmdline), ("dom0.cmdline", s.dom0_cmdline),
                        ("xen.version", s.xen_version), ("dom0.kernel", s.kernel)):
        if any(c in text for c in "\n\r\0"):
            raise ScenarioError(fname, text, "must be one line without NUL characters", src)
    if s.holes:
        for fname, text in (("xen.cmdline", s.xen_cmdline), ("dom0.cmdline", s.dom0_cmdline)):
            bad = sorted({c for c in text if c in GRUB_UNSAFE})
            if bad:
                raise ScenarioError(fname, text, f"{' '.join(bad)} cannot reach Xen unchanged "
                                    "through GRUB (its multiboot loader escapes quotes and "
                                    "backslashes), and holes need GRUB", src)
    if not s.xen_version.strip():
        raise ScenarioError("xen.version", s.xen_version, "must not be empty", src)
    if not s.kernel.strip():
        raise ScenarioError("dom0.kernel", s.kernel, "must not be empty", src)
    if s.machine_type not in MACHINE_TYPES:
        raise ScenarioError("machine.type", s.machine_type, f"expected one of {MACHINE_TYPES}", src)
    if s.firmware not in FIRMWARES:
        raise ScenarioError("machine.firmware", s.firmware, f"expected one of {FIRMWARES}", src)
    if s.memory < 256 * MiB or s.memory % MiB:
        raise ScenarioError("machine.memory", format_size(s.memory),
                            "must be a whole number of MiB, at least 256M", src)
    if s.memory > MAX_MEMORY:
        raise ScenarioError("machine.memory", format_size(s.memory),
                            f"more than {format_size(MAX_MEMORY)} is beyond what rig can boot", src)
    if s.below_4g is not None and (s.below_4g % (2 * MiB)
                                   or not 256 * MiB <= s.below_4g <= MAX_BELOW_4G):
        raise ScenarioError(
            "machine.below_4g", hex(s.below_4g),
            f"must be 2 MiB aligned, between 256M and {MAX_BELOW_4G:#x} (QEMU's limit)", src)
    if s.below_4g is not None and s.low_ram < min(s.memory, s.below_4g):
        # q35: never past its MMCONFIG window, and 2 GiB once RAM reaches 2.75 GiB
        raise ScenarioError(
            "machine.below_4g", hex(s.below_4g),
            f"QEMU's q35 with {format_size(s.memory)} of RAM keeps at most {s.low_ram:#x} below "
            "4 GiB; use machine.type = \"pc\" for more", src)
    if s.firmware == "uefi" and s.holes:
        # seen: under OVMF, GRUB's cutmem/badram become "unusable" entries, which dom0 turns
        # back into RAM (3.13+): such a hole never reaches dom0
        raise ScenarioError("holes", f"{len(s.holes)} hole(s)",
                            "holes cannot reach dom0 under firmware = \"uefi\" (they become "
                            "'unusable' RAM); use firmware = \"bios\"", src)
    if s.firmware == "uefi" and s.machine_type != "q35":
        raise ScenarioError("machine.type", s.machine_type,
                            "firmware = \"uefi\" needs machine.type = \"q35\"", src)
    if s.dom0_mode not in DOM0_MODES:
        raise ScenarioError("dom0.mode", s.dom0_mode, f"expected one of {DOM0_MODES}", src)
    if s.dom0_mode == "pvh" and (s.machine_type != "q35" or s.firmware != "bios"):
        # Xen: "Presently, iommu must be enabled for PVH hardware domain" (facts.md); QEMU's
        # intel-iommu is a q35 device
        why = ("a PVH dom0 needs an IOMMU, which rig gives with QEMU's intel-iommu: "
               "machine.type = \"q35\" and machine.firmware = \"bios\"")
        q35 = replace(s, machine_type="q35", firmware="bios")
        if s.below_4g is not None and q35.low_ram < min(s.memory, s.below_4g):
            # QEMU 7.2 allows its IOMMUs (intel-iommu, amd-iommu) on q35 only, and q35 never
            # keeps RAM in its MMCONFIG window: such a layout has no PVH form in QEMU
            why += (f"; but q35 with {format_size(s.memory)} keeps at most {q35.low_ram:#x} "
                    f"below 4 GiB, not machine.below_4g = {s.below_4g:#x}, so this layout "
                    "cannot run as PVH in QEMU")
        raise ScenarioError("dom0.mode", s.dom0_mode, why, src)
    if not 1 <= s.cpus <= 64:
        raise ScenarioError("machine.cpus", s.cpus, "expected 1 to 64", src)
    if s.dom0_mem is not None:
        try:
            Dom0Mem.parse(s.dom0_mem)
        except ValueError as exc:
            raise ScenarioError("xen.dom0_mem", s.dom0_mem, str(exc), src) from None
    low, high_start = s.low_ram, s.high_ram_start
    high_end = high_start + s.high_ram
    last: Hole | None = None
    for h in sorted(s.holes, key=lambda h: h.start):
        fname = f"holes[{s.holes.index(h)}]"
        if h.size <= 0 or h.start % 4096 or h.size % 4096:
            raise ScenarioError(f"{fname}.start", hex(h.start),
                                "start and size must be positive and 4 KiB aligned", src)
        in_low = 1 * MiB <= h.start and h.end <= low
        in_high = high_start <= h.start and h.end <= high_end
        if not (in_low or in_high):
            where = f"[1M, {low:#x})" + (f" or [{high_start:#x}, {high_end:#x})"
                                         if s.high_ram else "")
            raise ScenarioError(f"{fname}.start", hex(h.start),
                                f"hole [{h.start:#x}, {h.end:#x}) is not inside RAM ({where}; "
                                "the PCI hole is a hole already)", src)
        if h.end > 4 * TiB:
            raise ScenarioError(f"{fname}.start", hex(h.start),
                                "GRUB's cutmem reaches 4 TiB (32 bits of KiB)", src)
        if h.kind == "badram" and (h.size & (h.size - 1) or h.start % h.size):
            raise ScenarioError(f"{fname}.kind", h.kind,
                                "badram takes a 32-bit mask: a power-of-two size, aligned", src)
        if h.kind == "badram" and s.high_ram:
            # a 32-bit mask aliases every 4 GiB, and GRUB 2.06 realises only some aliases (seen:
            # 1 of 8); a layout whose RAM above 4 GiB is hit unpredictably cannot be modelled
            raise ScenarioError(f"{fname}.kind", h.kind,
                                "badram needs a machine without RAM above 4 GiB (its aliases "
                                "there are irregular); use kind = \"gap\"", src)
        if last is not None and h.start < last.end:
            raise ScenarioError(f"{fname}.start", hex(h.start),
                                f"overlaps the hole at {last.start:#x}", src)
        last = h


def overrides_from(pairs: list[str], *, kernel: str | None = None,
                   xen: str | None = None) -> dict[str, str]:
    """``--set KEY=VALUE`` pairs, plus ``--kernel PATH`` / ``--xen PATH`` (the user's own builds:
    shorthand for dom0.kernel= and xen.version= with a path)."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set {pair!r}: expected KEY=VALUE, e.g. xen.dom0_mem=3G")
        if key.strip() not in _FIELDS:
            raise ScenarioError(key.strip(), value, f"unknown field (known: {', '.join(_FIELDS)})",
                                "--set")
        out[key.strip()] = value
    for flag, key, given in (("--kernel", "dom0.kernel", kernel), ("--xen", "xen.version", xen)):
        if given:
            path = Path(given).expanduser().absolute()
            if not path.is_file():
                raise UsageError(f"{flag} {given!r}: no such file")
            out[key] = str(path)
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


def main_scenarios() -> int:
    """``rig scenarios``: the presets and what each is for."""
    for name, path in presets().items():
        try:
            print(f"{name:<16} {load(str(path)).description}")
        except ScenarioError as exc:
            print(f"{name:<16} INVALID: {exc}")
    return 0
