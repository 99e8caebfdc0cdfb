"""What comes after a boot: its saved console log parsed and judged, as ``rig parse`` judges a
log, with the checks of the machine rig built and how the console saw the boot end.

A module of its own because of when it is imported: rig.runner.run imports it in a thread
while QEMU boots, not before QEMU starts. The parsers' tables, the model and the judge are
most of rig's start (~0.1 s of regex compiling and module loading, measured with
``python -X importtime``); a run then waits for none of it.
"""

from __future__ import annotations

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
)
from rig.judge.records import ConsoleRecord, Live, ScenarioPredictionRecord
from rig.judge.result import Result
from rig.machine.images import Artifact, vmlinux
from rig.model.kernel import BootedKernel
from rig.model.prediction import predict_scenario
from rig.parse import seabios as seabios_log
from rig.parse.by_grep import parse_with_grep
from rig.parse.collect import ParsedLog
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


def finished(s: Scenario, live: Live, log_path: Path, firmware_log: Path, kernel: Artifact,
             image: vmlinux.Image | None, console: ConsoleRecord, exit_status: int | None,
             esp: Path | None, quick: bool) -> Result:
    """The result of a boot that ran: its log, the firmware's map, the booted kernel."""
    parsed = parse_with_grep(log_path)
    recorded = ovmf.recorded_map(s, parsed.xen.e820, esp)
    firmware = seabios_log.map_in_file(firmware_log)
    # the ELF Xen loaded on a direct boot has the layout; else unpack (or find) it now
    layout = (vmlinux.layout(image.path) if image and image.form == "elf"
              else vmlinux.kernel_layout(kernel.path, kernel.record.sha256))
    booted = BootedKernel(kernel_config(kernel), vmlinux.kernel_release(kernel.path), layout,
                          vmlinux.kernel_upstream(kernel.path))
    return judge_boot(s, parsed, live, booted=booted, recorded=recorded,
                      exit_status=exit_status, console=console, firmware=firmware, quick=quick)


def judge_boot(s: Scenario, parsed: ParsedLog, live: Live, *, booted: BootedKernel,
               recorded: list[E820Entry] | None, exit_status: int | None,
               console: ConsoleRecord, firmware: list[E820Entry] | None = None,
               quick: bool = False) -> Result:
    """The result of a finished boot of ``s`` from its parsed console log: the judgement of
    the log (as ``rig parse`` judges it), the checks of the machine rig built, and how the
    console saw the boot end. ``live`` gets the scenario's prediction; the rest of it is as the
    run recorded it. ``firmware``: the firmware's own map as its debug console showed it;
    ``quick``: the boot was stopped once Linux's memory setup was over (``--quick``)."""
    judgement = judge(parsed, expect=Expect.QUICK if quick else Expect.FULL, booted=booted)
    kernel = model_kernel(parsed, s, booted)
    fw_map, fw_source = firmware_read(s, parsed, firmware)
    emulated = predict_scenario(s, recorded, kernel=kernel)
    sp = predict_scenario(s, recorded, firmware_map=fw_map, firmware_source=fw_source,
                          kernel=kernel) if fw_map else emulated
    live.scenario_prediction = ScenarioPredictionRecord.of(emulated)
    extra = scenario_checks(parsed, sp, emulated, judgement)
    extra += grub_checks(parsed)
    table = acpi_table_check(parsed, s, judgement.prediction)
    if table is not None:
        extra.append(table)
        if table.status is Status.FAIL:
            explain_crash(judgement.checks, table)
    extra += [c for c in [console_check(console, exit_status, judgement.refused)]
              if c is not None]
    return Result.of(parsed, judgement, extra, live)
