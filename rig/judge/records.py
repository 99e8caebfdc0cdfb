"""The sections of the result document (JSON, schema 1), as checked types.

Pure. Every output (the summary, HTML, JUnit, rig compare, rig fuzz, matrices) reads these
attributes, never a key of raw JSON: ``Result.from_json`` turns a document into them and says
which field is wrong when it cannot (qemu.qmp's models.py is the model). Field order is the
document's key order; a key that only some documents have is ``UNSET`` when absent, which is
not the same as ``None`` (written as null).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import msgspec
from msgspec import UNSET, UnsetType

from rig.domain.e820 import E820Entry
from rig.domain.pages import PfnRange
from rig.domain.scenario import Scenario
from rig.domain.units import PAGE_SHIFT, format_size
from rig.judge.check import Status

if TYPE_CHECKING:
    # what the ``of`` constructors read; no field is of these types. Not imported at run
    # time: a live run builds its records before QEMU starts, and the model and the parsers'
    # tables are then imported while QEMU boots (rig.runner.run)
    from rig.model.prediction import ScenarioPrediction
    from rig.model.pv import Prediction
    from rig.model.pvh import PvhPrediction
    from rig.parse.crash import Hit
    from rig.parse.init import InitInfo
    from rig.parse.linux import LinuxInfo
    from rig.parse.xen import XenInfo

#: a section as JSON builtins (what json.dumps writes)
Builtins: TypeAlias = dict[str, Any]
#: a value a check expected or observed: a count, a word, a list of them (any JSON value)
Value: TypeAlias = Any


class ResultRecord(msgspec.Struct, kw_only=True):
    """Base of the Result and of every section of it: keyword fields in the document's
    order."""

    def to_builtins(self) -> Builtins:
        """The section as JSON builtins, keys in the document's order."""
        out: Builtins = msgspec.to_builtins(self)
        return out


class CheckRecord(ResultRecord, kw_only=True):
    #: a CheckName's string: read back as a string, as another rig may have written a name
    #: this one does not make (rig.judge.check.CheckName.of)
    name: str
    status: Status
    expected: Value = None
    observed: Value = None
    message: str = ""


class PfnRecord(ResultRecord, kw_only=True):
    start_pfn: int
    end_pfn: int
    pages: int

    @staticmethod
    def of(r: PfnRange) -> PfnRecord:
        return PfnRecord(start_pfn=r.start, end_pfn=r.end, pages=r.pages)


def _pfns(ranges: list[PfnRange]) -> list[PfnRecord]:
    return [PfnRecord.of(r) for r in ranges]


class XenRecord(ResultRecord, kw_only=True):
    """What Xen printed: its build of dom0 (inputs of the model) and its later count."""

    version: str | None
    cmdline: str | None
    dom0_mem: str | None
    e820_source: str | None
    e820: list[E820Entry] | None
    dom0_e820: list[E820Entry] | None
    system_ram_kb: int | None
    dom0_kind: str | None
    dom0_kernel_paddr: list[int] | None
    dom0_nr_pages: int | None
    dom0_nr_pages_alloc: int | None
    dom0_nr_pages_p2m: int | None
    dom0_tot_pages: int | None
    dom0_max_pages_seen: int | None

    @staticmethod
    def of(x: XenInfo) -> XenRecord:
        return XenRecord(
            version=x.version, cmdline=x.cmdline, dom0_mem=x.dom0_mem,
            e820_source=x.e820_source, e820=list(x.e820) or None,
            dom0_e820=list(x.dom0_e820) or None, system_ram_kb=x.system_ram_kb,
            dom0_kind=x.dom0_kind,
            dom0_kernel_paddr=list(x.dom0_kernel_paddr) if x.dom0_kernel_paddr else None,
            dom0_nr_pages=x.dom0_nr_pages, dom0_nr_pages_alloc=x.alloc_nr_pages,
            dom0_nr_pages_p2m=x.p2m_pages, dom0_tot_pages=x.dom0_tot_pages,
            dom0_max_pages_seen=x.dom0_max_pages_seen)


class LinuxRecord(ResultRecord, kw_only=True):
    """What dom0's kernel printed, and what rig's /init read from it."""

    version: str | None
    xen_version: str | None
    cmdline: str | None
    era: str | None
    e820: list[E820Entry] | None
    freed_ranges: list[PfnRecord] | None
    released_pages: int | None
    populated_ranges: list[PfnRecord] | None
    populated_pages: int | None
    remapped_pages: int | None
    remapped_nonram_pages: int | None
    identity_pages: int | None
    remap_failed: bool
    memory_available_kb: int | None
    memory_total_kb: int | None
    memory_line: str | None
    meminfo_total_kb: int | None
    balloon_current_kb: int | None
    balloon_target_kb: int | None
    #: "E820 table full; ignoring [mem ...]" lines, the non-empty ranges they name
    #: ([start, end)), and printk's count of dropped lines: only when the log has them
    e820_full_lines: int | UnsetType = UNSET
    e820_ignored: list[tuple[int, int]] | UnsetType = UNSET
    printk_dropped: int | UnsetType = UNSET

    @staticmethod
    def of(li: LinuxInfo, init: InitInfo) -> LinuxRecord:
        return LinuxRecord(
            version=li.version, xen_version=li.xen_version, cmdline=li.cmdline,
            era=li.format_era, e820=list(li.e820) or None,
            freed_ranges=_pfns(li.freed_ranges) or None, released_pages=li.released_pages,
            populated_ranges=_pfns(li.populated_ranges) or None,
            populated_pages=li.populated_pages, remapped_pages=li.remapped_pages,
            remapped_nonram_pages=li.remapped_nonram_pages, identity_pages=li.identity_pages,
            remap_failed=li.remap_failed, memory_available_kb=li.memory_available_kb,
            memory_total_kb=li.memory_total_kb, memory_line=li.memory_line,
            meminfo_total_kb=init.meminfo_kb.get("MemTotal"),
            balloon_current_kb=init.balloon_kb.get("current_kb"),
            balloon_target_kb=init.balloon_kb.get("target_kb"),
            e820_full_lines=li.e820_full_lines or UNSET,
            e820_ignored=list(li.e820_ignored) if li.e820_full_lines else UNSET,
            printk_dropped=li.printk_dropped or UNSET)


class InitRecord(ResultRecord, kw_only=True):
    """rig's own /init: the stages it reached, the kernel release, meminfo and the balloon."""

    stages: list[str]
    uname: str | None
    meminfo_total_kb: int | None
    balloon: dict[str, int] | None
    #: seconds /init waited for the balloon's count to reach its target (newer /init only)
    settle_s: int | UnsetType = UNSET

    @staticmethod
    def of(i: InitInfo) -> InitRecord:
        return InitRecord(stages=list(i.stages), uname=i.uname,
                          meminfo_total_kb=i.meminfo_kb.get("MemTotal"),
                          balloon=dict(i.balloon_kb) or None,
                          settle_s=UNSET if i.settle_s is None else i.settle_s)


class PredictionRecord:
    """A prediction in the document: the PV era model's or a PVH dom0's (told apart by
    ``mode``, which only the PVH form has)."""

    __slots__ = ()


class CheckedRecord(ResultRecord, kw_only=True):
    """A range of Xen's allocations the kernel checks against its map, by the name it prints."""

    component: str
    start: int
    end: int


class SwapRecord(ResultRecord, kw_only=True):
    """An ACPI NVS entry swapped with RAM above nr_pages, and the pages remapped for it."""

    entry: E820Entry
    moved: E820Entry
    pages: int


class PvPredictionRecord(ResultRecord, PredictionRecord, kw_only=True):
    era: str
    kernel_version: str
    nr_pages: int
    max_pages: int
    hole_pages: int
    hole_ranges: list[PfnRecord]
    freed_ranges: list[PfnRecord]
    released_pages: int
    populated_ranges: list[PfnRecord]
    populated_pages: int
    remapped_pages: int
    dom0_pages: int
    balloon_current_kb: int | None
    kernel_conflict: E820Entry | None
    notes: list[str]
    #: when the kernel's checks of Xen's allocations met an entry (rig.model.conflicts): what
    #: it checked, in its order, and the ACPI NVS it swapped away with where each went
    checked: list[CheckedRecord] | UnsetType = UNSET
    swaps: list[SwapRecord] | UnsetType = UNSET
    nonram_remapped_pages: int | UnsetType = UNSET

    @staticmethod
    def of(p: Prediction) -> PvPredictionRecord:
        r = p.resolution
        met = r is not None and (bool(r.swaps) or r.conflict is not None)
        return PvPredictionRecord(
            checked=[CheckedRecord(component=c, start=a, end=b) for c, (a, b) in r.checked]
            if r is not None and met else UNSET,
            swaps=[SwapRecord(entry=w.entry, moved=w.moved, pages=w.pages) for w in r.swaps]
            if r is not None and met else UNSET,
            nonram_remapped_pages=p.nonram_remapped_pages if met else UNSET,
            era=p.era.value, kernel_version=".".join(map(str, p.kernel_version)),
            nr_pages=p.nr_pages, max_pages=p.max_pages, hole_pages=p.hole_pages,
            hole_ranges=_pfns(p.hole_ranges), freed_ranges=_pfns(p.freed_ranges),
            released_pages=p.released_pages, populated_ranges=_pfns(p.populated_ranges),
            populated_pages=p.populated_pages, remapped_pages=p.remapped_pages,
            dom0_pages=p.dom0_pages, balloon_current_kb=p.balloon_current_kb,
            kernel_conflict=p.kernel_conflict, notes=list(p.notes))


class PvhPredictionRecord(ResultRecord, PredictionRecord, kw_only=True):
    mode: Literal["pvh"] = "pvh"
    nr_pages: int
    built: list[E820Entry]
    acpi_bytes: int | None
    own_pages: int
    xen_pages: int
    balloon_current_kb: list[int]

    @staticmethod
    def of(p: PvhPrediction) -> PvhPredictionRecord:
        return PvhPredictionRecord(nr_pages=p.nr_pages, built=list(p.built),
                                   acpi_bytes=p.stolen, own_pages=p.own_pages,
                                   xen_pages=p.xen_pages,
                                   balloon_current_kb=[n * 4 for n in p.balloon_pages])


def prediction_record(pv: Prediction | None,
                      pvh: PvhPrediction | None) -> PvPredictionRecord | PvhPredictionRecord | None:
    if pv is not None:
        return PvPredictionRecord.of(pv)
    return PvhPredictionRecord.of(pvh) if pvh is not None else None


class ModelInputs(ResultRecord, kw_only=True):
    """The model's inputs and where each came from (never the judged kernel's output, but for
    what is stated as an assumption). The kernel's four keys are absent when it is unknown."""

    map_source: str | None = None
    nr_pages: int | None = None
    nr_pages_source: str | None = None
    max_pages: int | None = None
    max_pages_source: str | None = None
    kernel_version: str | UnsetType = UNSET
    kernel_version_source: str | UnsetType = UNSET
    ibft_reserve: bool | UnsetType = UNSET
    ibft_source: str | UnsetType | None = UNSET
    kernel_image: list[str] | None = None
    #: [_text, __bss_stop, _end) of the booted kernel's ELF, when a live run read it
    kernel_sections: list[str] | UnsetType = UNSET
    kernel_sections_source: str | UnsetType = UNSET


class HitRecord(ResultRecord, kw_only=True):
    kind: str
    line: int
    text: str
    fatal: bool

    @staticmethod
    def of(h: Hit) -> HitRecord:
        return HitRecord(kind=h.kind.value, line=h.line_no, text=h.text, fatal=h.fatal)


class CutRecord(ResultRecord, kw_only=True):
    """A known message a wrap cut and rig could not rejoin."""

    line: int
    message: str
    text: str


# -- what a live run adds -------------------------------------------------------------------------

class HoleRecord(ResultRecord, kw_only=True):
    start: str
    size: str
    kind: str
    #: written when rig's firmware put its ACPI table in the entry
    acpi_table: bool | UnsetType = UNSET


class MachineSettings(ResultRecord, kw_only=True):
    type: str
    memory: str
    below_4g: str | None
    firmware: str
    cpus: int
    #: written when not QEMU's multiboot loader ("direct")
    loader: str | UnsetType = UNSET


class XenSettings(ResultRecord, kw_only=True):
    version: str
    dom0_mem: str | None
    cmdline: str


class Dom0Settings(ResultRecord, kw_only=True):
    kernel: str
    cmdline: str
    mode: str
    #: written when the initrd was padded (bytes)
    initrd_pad: int | UnsetType = UNSET


class ScenarioRecord(ResultRecord, kw_only=True):
    """The scenario as it was booted (rig.domain.scenario)."""

    name: str
    description: str
    machine: MachineSettings
    holes: list[HoleRecord]
    xen: XenSettings
    dom0: Dom0Settings

    @staticmethod
    def of(s: Scenario) -> ScenarioRecord:
        return ScenarioRecord(
            name=s.name, description=s.description,
            machine=MachineSettings(type=s.machine_type, memory=format_size(s.memory),
                                    below_4g=None if s.below_4g is None else hex(s.below_4g),
                                    firmware=s.firmware, cpus=s.cpus,
                                    loader=UNSET if s.loader == "direct" else s.loader),
            holes=[HoleRecord(start=hex(h.start), size=format_size(h.size), kind=h.kind,
                              acpi_table=True if h.acpi_table else UNSET) for h in s.holes],
            xen=XenSettings(version=s.xen_version, dom0_mem=s.dom0_mem, cmdline=s.xen_cmdline),
            dom0=Dom0Settings(kernel=s.kernel, cmdline=s.dom0_cmdline, mode=s.dom0_mode,
                              initrd_pad=s.initrd_pad or UNSET))


class HoleSpecRecord(ResultRecord, kw_only=True):
    start: int
    end: int
    kind: str
    pages: int


class ScenarioPredictionRecord(ResultRecord, kw_only=True):
    """``rig predict``: what the scenario must produce, from the scenario alone."""

    scenario: str
    boot: str
    firmware_source: str
    firmware_map: list[E820Entry]
    machine_map: list[E820Entry]
    requested: list[E820Entry]
    holes: list[HoleSpecRecord]
    nr_pages: int | None
    max_pages: int | None
    kernel_version: str | None
    prediction: PvPredictionRecord | None
    without_fix: PvPredictionRecord | None
    pvh: PvhPredictionRecord | None
    notes: list[str]

    @staticmethod
    def of(sp: ScenarioPrediction) -> ScenarioPredictionRecord:
        return ScenarioPredictionRecord(
            scenario=sp.scenario, boot=sp.boot, firmware_source=sp.firmware_source,
            firmware_map=list(sp.firmware_map), machine_map=list(sp.machine_map),
            requested=list(sp.requested),
            holes=[HoleSpecRecord(start=h.start, end=h.end, kind=h.kind,
                                  pages=(h.end - h.start) >> PAGE_SHIFT) for h in sp.holes],
            nr_pages=sp.nr_pages, max_pages=sp.max_pages,
            kernel_version=".".join(map(str, sp.kernel_version or ())) or None,
            prediction=PvPredictionRecord.of(sp.prediction) if sp.prediction else None,
            without_fix=PvPredictionRecord.of(sp.without_fix) if sp.without_fix else None,
            pvh=PvhPredictionRecord.of(sp.pvh) if sp.pvh else None, notes=list(sp.notes))


class AcceleratorRecord(ResultRecord, kw_only=True):
    accel: str
    reason: str
    qemu_version: str
    cpu: str
    #: the QEMU that ran (--qemu, $RIG_QEMU or PATH's)
    qemu: str | UnsetType = UNSET
    machine_type: str | UnsetType = UNSET
    machine_reasons: list[str] | UnsetType = UNSET
    kvm_enabled: bool | UnsetType = UNSET


class LoadedRecord(ResultRecord, kw_only=True):
    """What Xen was handed as dom0's kernel (rig.machine.images.vmlinux)."""

    form: str
    path: str
    unpacked_from: str | None
    why: str | None


class ArtifactRecord(ResultRecord, kw_only=True):
    key: str
    package: str
    version: str
    suite: str
    sha256: str
    path: str
    note: str | None
    config: str | None
    loaded: LoadedRecord | UnsetType = UNSET


class ArtifactsRecord(ResultRecord, kw_only=True):
    xen: ArtifactRecord
    kernel: ArtifactRecord
    busybox: ArtifactRecord
    #: rig's test firmware, when the machine has entries only it makes
    firmware: ArtifactRecord | UnsetType = UNSET


class TimingsRecord(ResultRecord, kw_only=True):
    """Seconds from the run's start (the stages: from QEMU's start); each key once known."""

    artifacts_s: float | UnsetType = UNSET
    iso_s: float | UnsetType = UNSET
    #: when QEMU was started (what rig did before: artifacts, render, initramfs)
    qemu_start_s: float | UnsetType = UNSET
    qemu_stopped_s: float | UnsetType = UNSET
    qemu_peak_rss_kb: int | UnsetType | None = UNSET
    boot_s: float | UnsetType = UNSET
    stages: dict[str, float] | UnsetType = UNSET
    #: when the judgement was done (from the run's start; total_s adds writing the result)
    judged_s: float | UnsetType = UNSET
    total_s: float | UnsetType = UNSET


class ConsoleOutcome(StrEnum):
    """How a live boot ended, as the console saw it (rig.machine.console)."""

    DONE = "done"  #: every stage reached, QEMU exited or was stopped after DONE
    CRASH = "crash"  #: a fatal line (crash table) appeared
    TIMEOUT = "timeout"  #: a stage was not reached in time, though the guest kept printing
    SILENT = "silent"  #: no output at all for the silence limit: a hang
    EXITED = "exited"  #: QEMU exited before DONE without a fatal line


class ConsoleRecord(ResultRecord, kw_only=True):
    """How the live console saw the boot end (rig.machine.console)."""

    outcome: ConsoleOutcome
    stage: str
    timeline: dict[str, float]
    crash_kind: str | None
    message: str


class QemuCommand(ResultRecord, kw_only=True):
    argv: list[str]
    #: the same without rig's QMP socket, to rerun by hand
    rerun: list[str]


class Live(ResultRecord, kw_only=True):
    """What a live run knows beside the log: filled as the run goes, kept whatever happens."""

    scenario: ScenarioRecord | None = None
    scenario_prediction: ScenarioPredictionRecord | None = None
    accelerator: AcceleratorRecord | None = None
    artifacts: ArtifactsRecord | None = None
    timings: TimingsRecord | None = None
    console: ConsoleRecord | None = None
    log: str | None = None
    machine: QemuCommand | None = None
    #: the firmware's debug console (SeaBIOS's own E820 map), when the boot wrote one
    firmware_log: str | UnsetType = UNSET
    #: "quick": the boot was stopped once Linux's memory setup was over (``--quick``)
    mode: str | UnsetType = UNSET
