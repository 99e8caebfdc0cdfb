"""What comes after a boot: its saved console log parsed and judged, as ``rig parse`` judges a
log, with the checks of the machine rig built and how the console saw the boot end.

A module of its own because of when it is imported: rig.runner.run imports it in a thread
while QEMU boots, not before QEMU starts. The parsers' tables, the model and the judge are
most of rig's start (~0.1 s of regex compiling and module loading, measured with
``python -X importtime``); a run then waits for none of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rig.domain.e820 import E820Entry
from rig.domain.kconfig import KernelConfig
from rig.domain.scenario import Scenario
from rig.judge.check import Check, Status
from rig.judge.common import explain_crash
from rig.judge.expect import Expect
from rig.judge.judge import judge
from rig.judge.live import (
    acpi_table_check,
    console_check,
    firmware_read,
    grub_checks,
    model_kernel,
    scenario_checks,
    seabios_table_check,
)
from rig.judge.records import ConsoleRecord, Live, ScenarioPredictionRecord
from rig.judge.result import Result
from rig.machine.images import Artifact, vmlinux
from rig.model.kernel import BootedKernel
from rig.model.prediction import predict_scenario
from rig.parse import seabios as seabios_log
from rig.parse.by_grep import parse_with_grep
from rig.parse.collect import ParsedLog
from rig.parse.seabios import SeabiosLog
from rig.runner import ovmf


def kernel_config(kernel: Artifact) -> KernelConfig | None:
    """The booted kernel's build configuration, named by where it came from."""
    if not kernel.config:
        return None
    rec = kernel.record
    return KernelConfig.load(kernel.config, f"{rec.config_file} of {rec.package}"
                             if rec.config_file else str(kernel.config))


def partial(log_path: Path, live: Live, why: Check) -> Result:
    """The result of a run that ended early: whatever the log holds, plus why."""
    log_path.touch()
    parsed = parse_with_grep(log_path)
    result = Result.of(parsed, judge(parsed), [why], live)
    result.verdict = Status.ERROR
    return result


@dataclass(frozen=True)
class BootLogs:
    """What a live boot printed, each console to its file: the serial console (Xen, Linux,
    /init) and SeaBIOS's debug console (its map; empty or absent on other firmware)."""

    console: Path
    firmware: Path


@dataclass(frozen=True)
class Dom0Kernel:
    """dom0's kernel as a run booted it: the artifact as given (its header names its release,
    its .config the options) and what Xen was handed (rig.runner.run.dom0_image; None before
    it was chosen)."""

    artifact: Artifact
    image: vmlinux.Image | None


@dataclass(frozen=True)
class BootEnd:
    """How a boot ended: as the console saw it, and QEMU's exit status (None: unknown;
    negative: the signal that ended it)."""

    console: ConsoleRecord
    exit_status: int | None


@dataclass(frozen=True)
class FirmwareMaps:
    """The firmware's map as known beside the console log: ``recorded``, OVMF's, printed by an
    earlier boot of the same firmware, machine and RAM size (rig.runner.ovmf.recorded_map);
    ``seabios``, SeaBIOS's own, as its debug console showed it on this boot."""

    recorded: list[E820Entry] | None = None
    seabios: list[E820Entry] | None = None
    #: the entries SeaBIOS's full table dropped (its debug console says so, one line each)
    seabios_dropped: int = 0

    @staticmethod
    def of(recorded: list[E820Entry] | None, seabios: SeabiosLog | None) -> FirmwareMaps:
        if seabios is None:
            return FirmwareMaps(recorded)
        return FirmwareMaps(recorded, seabios.map, seabios.dropped)


def finished(s: Scenario, live: Live, logs: BootLogs, dom0: Dom0Kernel, ended: BootEnd,
             esp: Path | None, quick: bool) -> Result:
    """The result of a boot that ran: its log, the firmware's map, the booted kernel. ``esp``:
    the folder OVMF loaded from (a UEFI boot: its files key OVMF's recorded map)."""
    parsed = parse_with_grep(logs.console)
    maps = FirmwareMaps.of(ovmf.recorded_map(s, parsed.xen.e820, esp),
                           seabios_log.read_file(logs.firmware))
    kernel, image = dom0.artifact, dom0.image
    # the ELF Xen loaded on a direct boot has the layout; else unpack (or find) it now
    layout = (vmlinux.layout(image.path) if image and image.form == "elf"
              else vmlinux.kernel_layout(kernel.path, kernel.record.sha256))
    booted = BootedKernel(kernel_config(kernel), vmlinux.kernel_release(kernel.path), layout,
                          vmlinux.kernel_upstream(kernel.path))
    return judge_boot(s, parsed, live, booted=booted, maps=maps, ended=ended, quick=quick)


def judge_boot(s: Scenario, parsed: ParsedLog, live: Live, *, booted: BootedKernel,
               maps: FirmwareMaps, ended: BootEnd, quick: bool = False) -> Result:
    """The result of a finished boot of ``s`` from its parsed console log: the judgement of
    the log (as ``rig parse`` judges it), the checks of the machine rig built, and how the
    boot ended. ``live`` gets the scenario's prediction; the rest of it is as the
    run recorded it. ``quick``: the boot was stopped once Linux's memory setup was over
    (``--quick``)."""
    judgement = judge(parsed, expect=Expect.QUICK if quick else Expect.FULL, booted=booted)
    kernel = model_kernel(parsed, s, booted)
    fw_map, fw_source = firmware_read(s, parsed, maps.seabios)
    emulated = predict_scenario(s, maps.recorded, kernel=kernel)
    sp = predict_scenario(s, maps.recorded, firmware_map=fw_map, firmware_source=fw_source,
                          kernel=kernel) if fw_map else emulated
    live.scenario_prediction = ScenarioPredictionRecord.of(emulated)
    extra = scenario_checks(parsed, sp, emulated, judgement)
    extra += grub_checks(parsed)
    if (dropped := seabios_table_check(maps.seabios_dropped)) is not None:
        extra.append(dropped)
    table = acpi_table_check(parsed, s, judgement.prediction)
    if table is not None:
        extra.append(table)
        if table.status is Status.FAIL:
            explain_crash(judgement.checks, table)
    extra += [c for c in [console_check(ended.console, ended.exit_status, judgement.refused)]
              if c is not None]
    return Result.of(parsed, judgement, extra, live)
