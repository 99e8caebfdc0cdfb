"""Scenarios: a machine's memory layout and what to boot on it, and the rules a valid one keeps.

Pure. Every bad value is a ScenarioError that names the field and the value. Reading TOML files
and ``--set`` overrides is rig.domain.scenario_file's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import tomli_w

from rig.domain import acpi_table, qemu_ram
from rig.domain.acpi_table import OFFSET
from rig.domain.dom0mem import Dom0Mem
from rig.domain.e820 import E820Type
from rig.domain.units import GiB, MiB, TiB, format_size
from rig.errors import UsageError

MACHINE_TYPES = ("pc", "q35")
FIRMWARES = ("bios", "uefi")
#: how Xen is loaded: QEMU's multiboot loader (fast), or GRUB from a CD (to test GRUB itself)
LOADERS = ("direct", "grub")
#: the E820 types a hole can be, as the scenario spells them (rig's test firmware makes them)
TYPED = {"reserved": E820Type.RESERVED, "acpi": E820Type.ACPI, "nvs": E820Type.NVS,
         "unusable": E820Type.UNUSABLE}
#: gap: no entry (the firmware removes the range, or GRUB's cutmem); badram: GRUB's badram
#: (32-bit mask; a GRUB boot); the typed kinds: an entry of that type at exact bounds
HOLE_KINDS = ("gap", "badram", *TYPED)
#: how Xen builds dom0: a PV guest (the classic dom0) or a PVH one (dom0=pvh)
DOM0_MODES = ("pv", "pvh")
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
    #: rig's firmware puts its ACPI table (rig.domain.acpi_table) inside this entry
    acpi_table: bool = False

    @property
    def end(self) -> int:
        return self.start + self.size

    @property
    def typed(self) -> E820Type | None:
        """The E820 type of a typed entry; None for a gap or bad RAM."""
        return TYPED.get(self.kind)


#: the most padding rig puts on the initrd's module command line (a page and a half: enough to
#: run past the initrd's last page whatever its size)
MAX_INITRD_PAD = 6144


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str = ""
    machine_type: str = "pc"
    memory: int = 4 * GiB
    below_4g: int | None = None
    firmware: str = "bios"
    cpus: int = 1
    loader: str = "direct"
    holes: tuple[Hole, ...] = ()
    xen_version: str = "4.17"
    dom0_mem: str | None = None
    xen_cmdline: str = ""
    kernel: str = "6.1"
    dom0_cmdline: str = ""
    dom0_mode: str = "pv"
    #: bytes of padding added to the initrd module's command line (" rig.pad=xxx..."): Xen
    #: places that string after the initrd (a PVH dom0's, dom0_build.c), which 4.17 does not
    #: count when it looks for room (989584e532)
    initrd_pad: int = 0
    source: str | None = field(default=None, compare=False)

    @property
    def low_ram(self) -> int:
        """RAM below 4 GiB as QEMU splits it (rig.domain.qemu_ram)."""
        return qemu_ram.low_ram(self.machine_type, self.memory, self.below_4g)

    @property
    def qemu_machine(self) -> str:
        """The QEMU machine type (rig.domain.qemu_ram.qemu_machine says when it is not the
        scenario's own)."""
        return qemu_ram.qemu_machine(self.machine_type, self.memory, self.below_4g)

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
        """Where QEMU puts the RAM above 4 GiB (1 TiB for the largest guests)."""
        return qemu_ram.high_ram_start(self.high_ram, self.qemu_machine)

    @property
    def boot(self) -> str:
        """How Xen is loaded: QEMU's multiboot loader, unless the scenario asks for GRUB
        (``machine.loader``, or a badram hole: GRUB's own kind of hole); OVMF loads xen.efi."""
        if self.firmware == "uefi":
            return "uefi"
        if self.loader == "grub" or any(h.kind == "badram" for h in self.holes):
            return "grub"
        return "direct"

    @property
    def firmware_entries(self) -> tuple[Hole, ...]:
        """The holes rig's test firmware makes: every typed entry, and on a direct boot the
        gaps too (on a GRUB boot GRUB cuts them)."""
        if self.firmware != "bios":
            return ()
        direct = self.boot == "direct"  # once: a property that walks every hole
        return tuple(h for h in self.holes
                     if h.typed is not None or (h.kind == "gap" and direct))

    @property
    def grub_holes(self) -> tuple[Hole, ...]:
        """The holes GRUB makes on a GRUB boot (cutmem for gaps, badram)."""
        if self.boot != "grub":
            return ()
        return tuple(h for h in self.holes if h.typed is None)

    def to_toml(self) -> str:
        """The scenario as a file ``rig run`` loads back to the same scenario (tomli-w: any
        text, a description with a newline or a control character included, is escaped as
        TOML wants)."""
        machine: dict[str, object] = {"type": self.machine_type,
                                      "memory": _toml_size(self.memory)}
        if self.below_4g is not None:
            machine["below_4g"] = hex(self.below_4g)
        machine |= {"firmware": self.firmware, "cpus": self.cpus}
        if self.loader != "direct":
            machine["loader"] = self.loader
        holes = [{"start": hex(h.start), "size": hex(h.size), "kind": h.kind,
                  **({"acpi_table": True} if h.acpi_table else {})} for h in self.holes]
        xen: dict[str, object] = {"version": self.xen_version}
        if self.dom0_mem:
            xen["dom0_mem"] = self.dom0_mem
        if self.xen_cmdline:
            xen["cmdline"] = self.xen_cmdline
        dom0: dict[str, object] = {"kernel": self.kernel}
        if self.dom0_cmdline:
            dom0["cmdline"] = self.dom0_cmdline
        if self.dom0_mode != "pv":
            dom0["mode"] = self.dom0_mode
        if self.initrd_pad:
            dom0["initrd_pad"] = self.initrd_pad
        doc: dict[str, object] = {"name": self.name, "description": self.description,
                                  "machine": machine}
        if holes:
            doc["holes"] = holes
        doc |= {"xen": xen, "dom0": dom0}
        return tomli_w.dumps(doc)


def _toml_size(n: int) -> str:
    return f"{n // MiB}M" if n % MiB == 0 else hex(n)


def validate(s: Scenario) -> None:
    """Every rule a scenario keeps, in this order (the first broken one is reported)."""
    _check_text(s)
    _check_machine(s)
    _check_firmware_and_mode(s)
    _check_sizes(s)
    _check_holes(s)
    _check_table(s)


def _check_text(s: Scenario) -> None:
    """The name, and text fields that end up on command lines."""
    src = s.source
    if not NAME.match(s.name):
        raise ScenarioError("name", s.name, NAME_RULE, src)
    for fname, text in (("xen.cmdline", s.xen_cmdline), ("dom0.cmdline", s.dom0_cmdline),
                        ("xen.version", s.xen_version), ("dom0.kernel", s.kernel)):
        if any(c in text for c in "\n\r\0"):
            raise ScenarioError(fname, text, "must be one line without NUL characters", src)
    if s.boot == "grub":
        for fname, text in (("xen.cmdline", s.xen_cmdline), ("dom0.cmdline", s.dom0_cmdline)):
            bad = sorted({c for c in text if c in GRUB_UNSAFE})
            if bad:
                raise ScenarioError(fname, text, f"{' '.join(bad)} cannot reach Xen unchanged "
                                    "through GRUB (its multiboot loader escapes quotes and "
                                    "backslashes), and this scenario boots through GRUB "
                                    "(machine.loader or a badram hole)", src)
    if not s.xen_version.strip():
        raise ScenarioError("xen.version", s.xen_version, "must not be empty", src)
    if not s.kernel.strip():
        raise ScenarioError("dom0.kernel", s.kernel, "must not be empty", src)


def _check_machine(s: Scenario) -> None:
    """The machine type, firmware, RAM and its split below 4 GiB."""
    src = s.source
    if s.machine_type not in MACHINE_TYPES:
        raise ScenarioError("machine.type", s.machine_type, f"expected one of {MACHINE_TYPES}", src)
    if s.firmware not in FIRMWARES:
        raise ScenarioError("machine.firmware", s.firmware, f"expected one of {FIRMWARES}", src)
    if s.loader not in LOADERS:
        raise ScenarioError("machine.loader", s.loader, f"expected one of {LOADERS}", src)
    if s.memory < 256 * MiB or s.memory % MiB:
        raise ScenarioError("machine.memory", format_size(s.memory),
                            "must be a whole number of MiB, at least 256M", src)
    if s.memory > MAX_MEMORY:
        raise ScenarioError("machine.memory", format_size(s.memory),
                            f"more than {format_size(MAX_MEMORY)} is beyond what rig can boot", src)
    top = qemu_ram.MAX_BELOW_4G
    if s.below_4g is not None and (s.below_4g % (2 * MiB) or not 256 * MiB <= s.below_4g <= top):
        raise ScenarioError(
            "machine.below_4g", hex(s.below_4g),
            f"must be 2 MiB aligned, between 256M and {top:#x} (QEMU's limit)", src)
    if s.below_4g is not None and s.low_ram < min(s.memory, s.below_4g):
        # q35: never past its MMCONFIG window, and 2 GiB once RAM reaches 2.75 GiB
        raise ScenarioError(
            "machine.below_4g", hex(s.below_4g),
            f"QEMU's q35 with {format_size(s.memory)} of RAM keeps at most {s.low_ram:#x} below "
            "4 GiB; use machine.type = \"pc\" for more", src)


def _check_firmware_and_mode(s: Scenario) -> None:
    """What UEFI and a PVH dom0 need of the machine."""
    src = s.source
    if s.firmware == "uefi" and s.holes:
        # seen: under OVMF, GRUB's cutmem/badram become "unusable" entries, which dom0 turns
        # back into RAM (3.13+): such a hole never reaches dom0; rig's test firmware (typed
        # entries) is SeaBIOS
        raise ScenarioError("holes", f"{len(s.holes)} hole(s)",
                            "holes cannot reach dom0 under firmware = \"uefi\" (GRUB-EFI makes "
                            "them 'unusable' RAM, and rig's test firmware is SeaBIOS); use "
                            "firmware = \"bios\"", src)
    if s.firmware == "uefi" and s.loader != "direct":
        raise ScenarioError("machine.loader", s.loader,
                            "firmware = \"uefi\" loads xen.efi itself", src)
    if s.firmware == "uefi" and s.machine_type != "q35":
        raise ScenarioError("machine.type", s.machine_type,
                            "firmware = \"uefi\" needs machine.type = \"q35\"", src)
    if s.dom0_mode not in DOM0_MODES:
        raise ScenarioError("dom0.mode", s.dom0_mode, f"expected one of {DOM0_MODES}", src)
    if s.dom0_mode == "pvh" and (s.machine_type != "q35" or s.firmware != "bios"):
        # Xen: "Presently, iommu must be enabled for PVH hardware domain" (docs/facts.md); QEMU's
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


def _check_sizes(s: Scenario) -> None:
    """CPUs and dom0_mem."""
    if not 1 <= s.cpus <= 64:
        raise ScenarioError("machine.cpus", s.cpus, "expected 1 to 64", s.source)
    if not 0 <= s.initrd_pad <= MAX_INITRD_PAD:
        raise ScenarioError("dom0.initrd_pad", s.initrd_pad,
                            f"expected 0 to {MAX_INITRD_PAD} bytes", s.source)
    if s.initrd_pad and s.firmware != "bios":
        raise ScenarioError("dom0.initrd_pad", s.initrd_pad, "only a BIOS boot passes the "
                            "initrd's module command line (firmware = \"bios\")", s.source)
    if s.dom0_mem is not None:
        try:
            Dom0Mem.parse(s.dom0_mem)
        except ValueError as exc:
            raise ScenarioError("xen.dom0_mem", s.dom0_mem, str(exc), s.source) from None


def _check_holes(s: Scenario) -> None:
    """Each hole inside the machine's RAM, of its kind's shape, none overlapping."""
    last: Hole | None = None
    for i, h in sorted(enumerate(s.holes), key=lambda ih: ih[1].start):
        fname = f"holes[{i}]"
        _check_hole(s, h, fname)
        if last is not None and h.start < last.end:
            raise ScenarioError(f"{fname}.start", hex(h.start),
                                f"overlaps the hole at {last.start:#x}", s.source)
        last = h


def _check_table(s: Scenario) -> None:
    """rig's ACPI table goes into one typed entry the firmware makes, below 4 GiB (SeaBIOS runs
    in 32 bits), with room for it past OFFSET."""
    tables = [i for i, h in enumerate(s.holes) if h.acpi_table]
    if len(tables) > 1:
        raise ScenarioError(f"holes[{tables[1]}].acpi_table", True,
                            f"rig's firmware places one table: holes[{tables[0]}] has it", s.source)
    if not tables:
        return
    fname, h = f"holes[{tables[0]}].acpi_table", s.holes[tables[0]]
    if h.kind not in ("acpi", "nvs", "reserved"):
        raise ScenarioError(fname, True, f"a {h.kind} holds no ACPI table (kinds: acpi, nvs, "
                            "reserved)", s.source)
    needs = OFFSET + len(acpi_table.table_bytes())
    if h.end > 4 * GiB or h.size < needs:
        raise ScenarioError(fname, True, f"the table needs {needs} "
                            "bytes of an entry below 4 GiB", s.source)
    if s.firmware != "bios":
        raise ScenarioError(fname, True, "only rig's SeaBIOS places it (firmware = \"bios\")",
                            s.source)


def _check_hole(s: Scenario, h: Hole, fname: str) -> None:
    src = s.source
    low, high_start = s.low_ram, s.high_ram_start
    high_end = high_start + s.high_ram
    if h.size <= 0 or h.start < 0:
        raise ScenarioError(f"{fname}.size", hex(h.size), "must be positive", src)
    if h.typed is None and (h.start % 4096 or h.size % 4096):
        # a typed entry takes any byte (real firmware has 0x7ffdff26); a gap is whole pages
        raise ScenarioError(f"{fname}.start", hex(h.start),
                            f"a {h.kind}'s start and size must be 4 KiB aligned (typed kinds "
                            f"take any byte: {', '.join(TYPED)})", src)
    in_low = 1 * MiB <= h.start and h.end <= low
    in_high = high_start <= h.start and h.end <= high_end
    if not (in_low or in_high):
        where = f"[1M, {low:#x})" + (f" or [{high_start:#x}, {high_end:#x})"
                                     if s.high_ram else "")
        raise ScenarioError(f"{fname}.start", hex(h.start),
                            f"hole [{h.start:#x}, {h.end:#x}) is not inside RAM ({where}; "
                            "the PCI hole is a hole already)", src)
    if h.end > 4 * TiB and h in s.grub_holes:
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
