"""Render rig's Jinja templates: QEMU's argument vector, Xen's and dom0's command lines, /init.

Pure apart from reading the templates (and keeping them compiled in rig's cache). QEMU
arguments are rendered one per line and split on newlines, so no command line is ever a shell
string built from user input.
"""

from __future__ import annotations

import contextlib
import struct
from dataclasses import dataclass
from functools import cache
from pathlib import PurePath

import jinja2

from rig.domain import acpi_table
from rig.domain.e820 import E820Type
from rig.domain.qemu_ram import LEGACY_PC
from rig.domain.scenario import GRUB_UNSAFE, Scenario
from rig.domain.units import format_size
from rig.errors import UsageError
from rig.machine.cpu import DEFAULT_CPU
from rig.machine.images.store import cache_root
from rig.parse.init import MARKER
from rig.resources import data_dir

LEGACY_CPU_WHY = ("full-cpuid-auto-level=on: pc-i440fx-1.7's compat properties turn it off, "
                  "and \"max\" then offers no extended CPUID leaves: Xen stopped at once with "
                  "\"Not a 64-bit CPU!\" (seen 2026-11-30)")


def grub_words(text: str) -> str:
    """A command line as GRUB script words, each single-quoted: GRUB expands nothing inside
    single quotes ($, ;, |, &, #, braces...), so every other character reaches Xen verbatim."""
    bad = sorted({c for c in text if c in GRUB_UNSAFE})
    if bad:
        raise UsageError(f"command line {text!r}: {' '.join(bad)} cannot pass through GRUB "
                         "unchanged (its multiboot loader escapes quotes and backslashes)")
    return " ".join(f"'{word}'" for word in text.split())


class _Compiled(jinja2.FileSystemBytecodeCache):
    """The templates as Jinja compiles them, kept in rig's cache and compiled again when their
    source changes (Jinja checks the source's checksum): compiling the four a run renders cost
    every run ~5 ms before QEMU could start. A cache that cannot be written costs only that."""

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def _compiled() -> _Compiled | None:
    folder = cache_root() / "templates"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return _Compiled(str(folder))


@cache
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(data_dir("templates"))),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        bytecode_cache=_compiled(),
    )
    env.filters["grub_words"] = grub_words
    return env


def render(template: str, **context: object) -> str:
    return _env().get_template(template).render(**context)


@dataclass(frozen=True)
class MachineSpec:
    name: str
    accel: str
    machine_type: str
    below_4g: str | None
    cpu: str
    cpus: int
    memory: str
    qmp_socket: str
    xen: str
    xen_cmdline: str
    modules: str  # QEMU's -initrd: "kernel args,initrd" with commas doubled
    iso: str | None = None  # a GRUB ISO to boot instead of loading Xen directly
    devices: tuple[str, ...] = ()  # -device arguments (a PVH dom0's IOMMU)
    esp: str | None = None  # UEFI: the folder served as a FAT ESP
    ovmf_code: str | None = None
    ovmf_vars: str | None = None
    #: rig's test firmware (SeaBIOS with rig's patch) and the scenario's entries for it
    bios: str | None = None
    e820_entries: str | None = None
    #: rig's ACPI table and the firmware's record of where it goes (beside e820_entries)
    acpi_table: str | None = None
    acpi_moves: str | None = None
    #: where SeaBIOS's debug console (its final E820 map among it) is written
    debug_log: str | None = None


@dataclass(frozen=True)
class UefiFiles:
    """A UEFI boot's files (rig.runner.ovmf): OVMF's code (read-only), a private copy of its
    variables, and the folder QEMU serves as a FAT ESP."""

    esp: str
    ovmf_code: str
    ovmf_vars: str


@dataclass(frozen=True)
class FirmwareFiles:
    """rig's test firmware (SeaBIOS with rig's patch) and the fw_cfg file of the scenario's
    entries it reads (firmware_files() writes it and its neighbours)."""

    bios: str
    e820_entries: str


@dataclass(frozen=True)
class BootFiles:
    """The paths of a boot's files that QEMU is handed: what it loads, the firmware, where it
    writes (QMP's socket, SeaBIOS's debug console)."""

    xen: str
    kernel: str
    initrd: str
    qmp_socket: str
    iso: str | None = None  # a GRUB ISO to boot instead of loading Xen directly
    uefi: UefiFiles | None = None
    firmware: FirmwareFiles | None = None
    #: where SeaBIOS's debug console (its final E820 map among it) is written
    debug_log: str | None = None

    @classmethod
    def in_folder(cls, s: Scenario, folder: PurePath, uefi: UefiFiles | None = None
                  ) -> BootFiles:
        """The files of ``s`` as ``rig render`` names them in ``folder``: the ISO of a GRUB
        boot, the test firmware of a scenario with entries for it."""
        firmware = FirmwareFiles(str(folder / "bios.bin"), str(folder / E820_ENTRIES)) \
            if s.firmware_entries else None
        return cls(xen=str(folder / "xen"), kernel=str(folder / "vmlinuz"),
                   initrd=str(folder / "initrd.gz"), qmp_socket=str(folder / "qmp.sock"),
                   iso=str(folder / "rig.iso") if s.boot == "grub" else None, uefi=uefi,
                   firmware=firmware, debug_log=str(folder / "firmware.log"))


def _escape_module(text: str) -> str:
    return text.replace(",", ",,")


def _plain_path(path: str, what: str) -> str:
    if any(c.isspace() for c in path):
        raise UsageError(f"{what} path {path!r} contains white space, which a multiboot module "
                         "line cannot carry; set TMPDIR to a path without spaces")
    return path


def xen_cmdline(s: Scenario) -> str:
    return render("xen.cmdline.j2", dom0_mem=s.dom0_mem, dom0_mode=s.dom0_mode,
                  extra=s.xen_cmdline.strip()).strip()


def initrd_args(s: Scenario) -> str:
    """What follows the initrd's path on its module's command line: nothing, or the padding
    a scenario asks for (Linux ignores the initrd module's string; Xen copies it)."""
    return f" rig.pad={'x' * (s.initrd_pad - 9)}" if s.initrd_pad >= 9 else ""


def dom0_cmdline(s: Scenario) -> str:
    return render("dom0.cmdline.j2", extra=s.dom0_cmdline.strip()).strip()


#: seconds /init waits after its report before it powers off: rig reads Xen's own count of
#: dom0's pages meanwhile (a fraction of a second) and then stops the machine itself
INIT_HOLD_S = 20
#: seconds /init waits at most for the balloon's count to reach its target (no wait when they
#: agree, as on every kernel rig ships: no toolstack sets another target)
INIT_SETTLE_S = 30


def init_script(extra_commands: list[str] | None = None) -> str:
    return render("init.sh.j2", marker=MARKER, extra_commands=extra_commands or [],
                  hold=INIT_HOLD_S, settle=INIT_SETTLE_S)


def machine_spec(s: Scenario, files: BootFiles, *, accel: str,
                 cpu: str = DEFAULT_CPU) -> MachineSpec:
    modules = ",".join([
        _escape_module(f"{_plain_path(files.kernel, 'dom0 kernel')} {dom0_cmdline(s)}"),
        _escape_module(f"{_plain_path(files.initrd, 'initramfs')}{initrd_args(s)}"),
    ])
    if s.memory + (4 << 30) > (1 << 40) - (64 << 30) and "phys-bits" not in cpu:
        # past ~1 TiB QEMU's default 40 address bits are too few (docs/boot-recipe.md)
        cpu += ",phys-bits=42"
    if s.qemu_machine == LEGACY_PC and "full-cpuid-auto-level" not in cpu:
        cpu += ",full-cpuid-auto-level=on"  # LEGACY_CPU_WHY
    devices: tuple[str, ...] = ()
    if s.dom0_mode == "pvh":
        devices = ("intel-iommu,intremap=on",)  # PVH_IOMMU_WHY
        if "rdtscp" not in cpu:
            cpu += ",-rdtscp"  # PVH_CPU_WHY
    uefi, firmware = files.uefi, files.firmware
    return MachineSpec(
        name=s.name,
        accel=accel,
        machine_type=s.qemu_machine,
        below_4g=None if s.below_4g is None else format_size(s.below_4g),
        cpu=cpu,
        cpus=s.cpus,
        memory=format_size(s.memory),
        qmp_socket=files.qmp_socket,
        xen=files.xen,
        xen_cmdline=xen_cmdline(s),
        modules=modules,
        iso=files.iso,
        devices=devices,
        esp=uefi.esp if uefi else None,
        ovmf_code=uefi.ovmf_code if uefi else None,
        ovmf_vars=uefi.ovmf_vars if uefi else None,
        bios=firmware.bios if firmware else None,
        e820_entries=firmware.e820_entries if firmware else None,
        **_acpi_files(s, firmware),
        debug_log=files.debug_log if s.firmware == "bios" else None,
    )


def _acpi_files(s: Scenario, firmware: FirmwareFiles | None) -> dict[str, str]:
    """The table and its record, written beside the entries by firmware_files()."""
    if firmware is None or not any(h.acpi_table for h in s.holes):
        return {}
    folder = PurePath(firmware.e820_entries).parent
    return {"acpi_table": str(folder / ACPI_TABLE), "acpi_moves": str(folder / ACPI_MOVES)}


PVH_IOMMU_WHY = ("-device intel-iommu,intremap=on: Xen 4.20 refuses a PVH dom0 without an "
                 "IOMMU (\"Presently, iommu must be enabled for PVH hardware domain\")")
PVH_CPU_WHY = ("-rdtscp: under TCG, Xen's SVM emulation of RDTSCP fails for a PVH dom0 (\"SVM "
               "Insn len emulation failed ... got nrip_len 0\", then \"Hardware Dom0 crashed\")")


def machine_reasons(s: Scenario, spec: MachineSpec) -> list[str]:
    """Why the machine type, its devices or the CPU differ from the scenario's and rig's
    defaults."""
    out = [why] if (why := s.qemu_machine_why) else []
    if "full-cpuid-auto-level=on" in spec.cpu and s.qemu_machine == LEGACY_PC:
        out.append(LEGACY_CPU_WHY)
    if s.dom0_mode == "pvh":
        out.append(PVH_IOMMU_WHY)
        if "-rdtscp" in spec.cpu:
            out.append(PVH_CPU_WHY)
    return out


@dataclass(frozen=True)
class GrubHole:
    start: int
    end: int
    kind: str

    @property
    def mask(self) -> int:
        """badram's 32-bit mask: the hole is a power-of-two block, aligned (a 64-bit mask hung
        GRUB, docs/boot-recipe.md)."""
        return 0xFFFFFFFF & ~(self.end - self.start - 1)


def xen_efi_cfg(s: Scenario) -> str:
    return render("xen-efi.cfg.j2", xen_cmdline=xen_cmdline(s), dom0_cmdline=dom0_cmdline(s))


#: the E820 type numbers rig's test firmware takes (0: remove the range, a gap)
E820_NUMBER = {E820Type.RESERVED: 2, E820Type.ACPI: 3, E820Type.NVS: 4, E820Type.UNUSABLE: 5}
#: one entry of the fw_cfg file opt/rig/e820: u64 start, u64 length, u32 type (little-endian)
ENTRY = struct.Struct("<QQI")


def e820_entries(s: Scenario) -> bytes:
    """The fw_cfg file of rig's test firmware for ``s`` (images/seabios-rig-e820.patch)."""
    return b"".join(ENTRY.pack(h.start, h.size, E820_NUMBER[h.typed] if h.typed else 0)
                    for h in s.firmware_entries)


#: the files rig's test firmware reads, by name (firmware_files())
E820_ENTRIES, ACPI_TABLE, ACPI_MOVES = "rig-e820.bin", "rigt.dat", "rig-acpi.bin"


def firmware_files(s: Scenario) -> dict[str, bytes]:
    """What rig's test firmware reads for ``s``: its entries and, when one holds rig's ACPI
    table, the table and where it goes (rig.domain.acpi_table)."""
    files = {E820_ENTRIES: e820_entries(s)}
    for h in s.holes:
        if h.acpi_table:
            files[ACPI_TABLE] = acpi_table.table_bytes()
            files[ACPI_MOVES] = acpi_table.moves(h.start + acpi_table.OFFSET)
    return files


def grub_cfg(s: Scenario) -> str:
    holes = [GrubHole(h.start, h.end, h.kind) for h in sorted(s.grub_holes, key=lambda h: h.start)]
    return render("grub.cfg.j2", holes=holes, xen_cmdline=xen_cmdline(s),
                  dom0_cmdline=dom0_cmdline(s), initrd_args=initrd_args(s))


def qemu_args(spec: MachineSpec) -> list[str]:
    text = render("qemu.args.j2", m=spec)
    return [line for line in text.splitlines() if line.strip()]


def without_qmp(argv: list[str]) -> list[str]:
    """``argv`` minus its QMP socket, to rerun by hand after rig removed the socket's folder."""
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "-qmp":
            skip = True
            continue
        out.append(arg)
    return out
