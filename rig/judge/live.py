"""Checks of a live boot, of the machine rig built: was the layout the scenario asked for
realised, did rig's emulation of the firmware match the firmware, does ``rig predict`` match
what the kernel printed, did GRUB and the console end the boot as they should. Pure.

A layout that was not realised, or a GRUB or QEMU failure, is rig's or the machine's problem
(an error, exit 125), never a kernel FAIL.
"""

from __future__ import annotations

from rig.domain import acpi_table
from rig.domain.e820 import E820Entry
from rig.domain.pages import (
    PfnRange,
    describe,
    pfn_down,
    pfn_up,
    ram_pages,
    subtract,
    total,
    typed_pages,
)
from rig.domain.scenario import Scenario
from rig.judge.check import Check, CheckName, Status, count_check
from rig.judge.judgement import Judgement
from rig.judge.records import ConsoleOutcome, ConsoleRecord
from rig.model.firmware import ram_page_differences
from rig.model.kernel import FIX, IBFT_OPTION, BootedKernel, Era, Kernel, release_version
from rig.model.prediction import ScenarioPrediction
from rig.model.pv import Prediction
from rig.parse.collect import ParsedLog
from rig.parse.crash import Kind


def scenario_checks(log: ParsedLog, sp: ScenarioPrediction, emulated: ScenarioPrediction,
                    judgement: Judgement) -> list[Check]:
    """After a live boot. ``sp`` predicts from the firmware's map as read on this boot (or the
    emulation when it could not be read), ``emulated`` from rig's emulation of the firmware
    (``rig predict``). Was the layout the scenario asked for realised? Did rig's emulation of
    the firmware match the firmware? Does ``rig predict`` match what the kernel printed?"""
    out = [_layout_check(log, sp)]
    firmware = _firmware_check(sp, emulated)
    if firmware is not None:
        out.append(firmware)
    pred = emulated.prediction
    if judgement.pvh is not None:
        out.append(_predicted_pvh(log, emulated))
        return out
    if judgement.refused:
        out.append(Check(CheckName.PREDICTED_REMAP, Status.SKIP,
                         message="dom0 refused the layout: nothing was remapped"))
    elif pred is not None and pred.era in (Era.D, Era.E):
        check = count_check(CheckName.PREDICTED_REMAP, pred.remapped_pages,
                            log.linux.remapped_pages, "Remapped N page(s) vs rig predict")
        check.evidence = None  # the model's own check ('remapped') is the evidence
        main = judgement.prediction
        if (check.status is Status.FAIL and firmware is not None
                and firmware.status is Status.WARN and main is not None
                and log.linux.remapped_pages == main.remapped_pages):
            check.status = Status.WARN
            check.message += ("; the difference is rig's emulation of the firmware (see "
                              "'firmware'), not the kernel: it matches the prediction from "
                              "Xen's map")
        out.append(check)
    return out


def acpi_table_check(log: ParsedLog, s: Scenario, pred: Prediction | None) -> Check | None:
    """rig's ACPI table, which its firmware put inside one of the scenario's entries: dom0 must
    read back the bytes rig made (rig.domain.acpi_table), wherever its setup moved the entry:
    its early table list (signature and length) and /sys/firmware/acpi/tables (the bytes).
    The expected values are the table's own, never anything dom0 printed; ``pred``, the model's
    prediction from Xen's map, says whether dom0 swaps the entry (rig's third finding)."""
    hole = next((h for h in s.holes if h.acpi_table), None)
    if hole is None:
        return None
    want, at = acpi_table.sha256(), hole.start + acpi_table.OFFSET
    where = f"{at:#x}"
    listed = log.xen.acpi_tables.get(acpi_table.SIGNATURE)
    if log.xen.seen and (listed is None or listed[0] != at or listed[2] != acpi_table.OEM):
        # the machine lost the table before dom0 ran: QEMU's multiboot loader copies Xen and
        # its modules from 2 MiB on after the firmware, over whatever lies there
        return Check(CheckName.ACPI_TABLE, Status.ERROR, where,
                     f"{listed[0]:#x}" if listed else None,
                     f"Xen does not list rig's {acpi_table.SIGNATURE} table at {where}: the "
                     "machine lost it before dom0 ran (on a direct boot QEMU copies Xen and "
                     "its modules from 2 MiB on over what the firmware put there); rig's "
                     "problem, not the kernel's")
    early = log.linux.acpi_tables.get(at)
    size = len(acpi_table.table_bytes())
    if early is not None and early != (acpi_table.SIGNATURE, size):
        return Check(CheckName.ACPI_TABLE, Status.FAIL, f"{acpi_table.SIGNATURE} {size:#x}",
                     f"{early[0]!r} {early[1]:#x}",
                     f"dom0's ACPI lists the table at {where} as {early[0]!r}, {early[1]:#x} "
                     f"bytes, where the firmware put rig's {acpi_table.SIGNATURE} of {size:#x} "
                     "bytes (Xen reads it there): dom0 read other memory than the firmware's"
                     + _swapped_table(pred, at))
    got = log.init.acpi_tables.get(acpi_table.SIGNATURE)
    if got == want:
        return Check(CheckName.ACPI_TABLE, Status.PASS, want, got,
                     f"dom0 reads rig's {acpi_table.SIGNATURE} table (at {where}, in the "
                     f"{hole.kind} entry at {hole.start:#x}) byte for byte")
    if got is not None:
        return Check(CheckName.ACPI_TABLE, Status.FAIL, want, got,
                     f"dom0 reads other bytes for rig's {acpi_table.SIGNATURE} table (at "
                     f"{where}, in the {hole.kind} entry at {hole.start:#x}) than rig put there")
    if log.init.done:
        return Check(CheckName.ACPI_TABLE, Status.FAIL, want, None,
                     f"dom0 has no {acpi_table.SIGNATURE} table in /sys/firmware/acpi/tables, "
                     f"though rig's firmware put it at {where}")
    return Check(CheckName.ACPI_TABLE, Status.INCOMPLETE, want, None,
                 "rig's /init did not run to say what dom0 reads of rig's ACPI table")


def _swapped_table(pred: Prediction | None, at: int) -> str:
    """Why, when the model swaps the entry holding the table: ACPI keeps the firmware's
    address, which is dom0's RAM after the swap (docs/findings.md, finding 3)."""
    swaps = pred.resolution.swaps if pred is not None and pred.resolution is not None else []
    swap = next((w for w in swaps if w.entry.start <= at < w.entry.end), None)
    if swap is None:
        return ""
    fix = FIX["acpi-nvs-remap"]
    return (f"; the table lies in {swap.entry.type.value} [{swap.entry.start:#x}, "
            f"{swap.entry.end:#x}), which dom0 swaps to {swap.moved.start:#x}, and ACPI reads "
            "it by its firmware address, dom0's own RAM after the swap: it behaves as a kernel "
            f"without {fix.named()}. Known: rig's finding (docs/findings.md), which no kernel "
            "fixes yet")


def _predicted_pvh(log: ParsedLog, emulated: ScenarioPrediction) -> Check:
    """``rig predict``'s PVH figures, from the scenario alone, against the boot."""
    p = emulated.pvh
    current = log.init.balloon_kb.get("current_kb")
    if p is None or current is None:
        return Check(CheckName.PREDICTED_PVH, Status.SKIP, message="rig predict has no PVH "
                     "figures for this scenario (no absolute dom0_mem) or the boot no balloon "
                     "figure")
    got = [current // 4, log.xen.dom0_tot_pages]
    want = [list(p.balloon_pages), p.xen_pages]
    if got[0] in p.balloon_pages and got[1] == p.xen_pages:
        return Check(CheckName.PREDICTED_PVH, Status.PASS, want, got,
                     "rig predict's balloon and Xen counts for the PVH dom0")
    if got[0] in p.balloon_pages and got[1] is None:
        # Xen's count comes from its 'q' dump; a dump that is not in the log is no evidence
        # either way (the console or Xen did not answer), so this cannot pass or fail
        return Check(CheckName.PREDICTED_PVH, Status.INCOMPLETE, want, got,
                     "the balloon is rig predict's; Xen's count for dom0 is not in the log "
                     "(no debug-key 'q' dump) to compare")
    return Check(CheckName.PREDICTED_PVH, Status.FAIL, want, got,
                 "the boot differs from rig predict's PVH figures (balloon, Xen's count)")


def seabios_table_check(dropped: int) -> Check | None:
    """SeaBIOS's E820 table (32 entries) was full and dropped entries: the machine is not the
    scenario's, which rig should have refused before it booted (rig.model.firmware counts the
    entries insert by insert). rig's error, never the kernel's."""
    if not dropped:
        return None
    return Check(CheckName.FIRMWARE, Status.ERROR, None, dropped,
                 f"SeaBIOS's E820 table was full and dropped {dropped} entr"
                 f"{'y' if dropped == 1 else 'ies'} (its debug console: \"Unable to allocate "
                 "resource at insert_e820\"): the machine is not the scenario's. rig's model of "
                 "the firmware let a layout through that the firmware cannot make; rig's "
                 "problem, not the kernel's")


def _firmware_check(sp: ScenarioPrediction, emulated: ScenarioPrediction) -> Check | None:
    if sp.firmware_source == emulated.firmware_source or not emulated.firmware_map:
        return None
    got, want = ram_page_differences(sp.firmware_map, emulated.firmware_map)
    if not got and not want:
        return Check(CheckName.FIRMWARE, Status.PASS,
                     message=f"the firmware's map ({sp.firmware_source}) has the RAM of rig's "
                     f"emulation ({emulated.firmware_source})")
    message = (f"the firmware's map ({sp.firmware_source}) differs from rig's emulation in "
               f"whole pages of RAM: firmware only {', '.join(got) or 'nothing'}, emulation "
               f"only {', '.join(want) or 'nothing'}; rig's model of the firmware is off, not "
               "the kernel")
    if (top := _top_reserve_difference(sp.firmware_map, emulated.firmware_map)) is not None:
        message += (f". Known: SeaBIOS kept {top[0]} page(s) at the top of RAM below 4 GiB for "
                    f"its tables where the emulation keeps {top[1]}; what it keeps varies with "
                    "the tables it builds (docs/facts.md), and the verdict uses the map as read")
    return Check(CheckName.FIRMWARE, Status.WARN, want or None, got or None, message)


def _top_reserve_difference(got_map: list[E820Entry],
                            want_map: list[E820Entry]) -> tuple[int, int] | None:
    """(pages the firmware reserved, pages the emulation reserves) at the top of RAM below
    4 GiB, when that is the maps' only RAM difference (the RAM below ends a page or two apart
    and the reservation above it ends at the same address)."""
    a, b = ram_pages(got_map), ram_pages(want_map)
    only_a = [r for r in a if r not in b]
    only_b = [r for r in b if r not in a]
    if len(only_a) != 1 or len(only_b) != 1 or only_a[0].start != only_b[0].start:
        return None
    end_a, end_b = only_a[0].end, only_b[0].end
    if end_a > 0x100000 or abs(end_a - end_b) > 8:
        return None
    top = [pfn_up(e.end) for e in got_map if not e.is_ram and pfn_down(e.start) == end_a]
    top_b = [pfn_up(e.end) for e in want_map if not e.is_ram and pfn_down(e.start) == end_b]
    if not top or top != top_b:
        return None
    return top[0] - end_a, top_b[0] - end_b


def _layout_check(log: ParsedLog, sp: ScenarioPrediction) -> Check:
    """The layout the scenario asked for, in Xen's E820: every hole realised, no RAM where the
    machine has none, and every other page of the machine's RAM either RAM or inside an entry
    of the firmware's own. When GRUB read the firmware's map, Xen's RAM must be exactly that
    map less the holes. A layout that was not realised is rig's or GRUB's failure: the boot
    tested something else, so the result is an error (exit 125), never a FAIL."""
    xen_map = log.xen.e820
    if not sp.requested:
        return Check(CheckName.LAYOUT, Status.SKIP, message="the scenario's machine is not known")
    if not xen_map:
        return Check(CheckName.LAYOUT, Status.INCOMPLETE, len(sp.holes), None,
                     "Xen printed no E820 map: cannot tell whether the layout was realised")
    holes = [PfnRange(pfn_down(h.start), pfn_up(h.end)) for h in sp.holes]
    xen_ram, typed = ram_pages(xen_map), typed_pages(xen_map)
    asked = subtract(ram_pages(sp.requested), holes)
    unrealised = [h for h in sp.holes
                  if any(e.is_ram and e.start < h.end and h.start < e.end for e in xen_map)]
    problems = []
    if unrealised:
        problems.append(f"{len(unrealised)} hole(s) not realised (first at "
                        f"{unrealised[0].start:#x})")
    problems += _typed_entries(xen_map, sp)
    if extra := subtract(xen_ram, ram_pages(sp.requested)):
        problems.append("RAM where the machine has none: " + describe(extra))
    not_ram = subtract(asked, xen_ram)
    if missing := subtract(not_ram, typed):
        problems.append("RAM missing without an entry of the firmware's: " + describe(missing))
    if sp.firmware_source.startswith("GRUB"):
        got, want = ram_page_differences(xen_map, sp.machine_map)
        if got or want:
            problems.append(f"Xen's RAM is not the firmware's map less the holes: Xen only "
                            f"{', '.join(got) or 'nothing'}, expected only "
                            f"{', '.join(want) or 'nothing'}")
    if problems:
        return Check(CheckName.LAYOUT, Status.ERROR, len(sp.holes), len(sp.holes) - len(unrealised),
                     "; ".join(problems) + ": the machine is not the one the scenario asked for")
    kept = total(not_ram)
    n_typed = sum(h.type is not None for h in sp.holes)
    holes_said = (f"{len(sp.holes)} hole(s) realised in Xen's E820"
                  + (f", {n_typed} of them typed entries with their type and exact bounds"
                     if n_typed else "")) if sp.holes else "no holes asked for"
    return Check(CheckName.LAYOUT, Status.PASS, len(sp.holes), len(sp.holes),
                 f"{holes_said}; RAM as the scenario asked, less {kept} page(s) the firmware "
                 "keeps for itself")


def _typed_entries(xen_map: list[E820Entry], sp: ScenarioPrediction) -> list[str]:
    """Each typed hole is in Xen's E820 as the entry the model's map has for it: its type, and
    its bounds to the byte (wider only where it merges with a neighbour of its type)."""
    out = []
    for h in sp.holes:
        if h.type is None:
            continue
        want = next((e for e in sp.machine_map if e.type is h.type
                     and e.start <= h.start and h.end <= e.end), None)
        if want is None or want in xen_map:
            continue
        got = [e for e in xen_map if e.start < h.end and h.start < e.end]
        out.append(f"{h.kind} [{h.start:#x}, {h.end:#x}) should be Xen's {want.type.value} "
                   f"[{want.start:#x}, {want.end:#x}), Xen has "
                   + (", ".join(f"{e.type.value} [{e.start:#x}, {e.end:#x})" for e in got)
                      or "no entry there"))
    return out


def console_check(c: ConsoleRecord, exit_status: int | None, refused: bool) -> Check | None:
    if c.outcome is ConsoleOutcome.DONE:
        return None
    if c.outcome is ConsoleOutcome.CRASH:
        if refused and c.crash_kind in (Kind.E820_CONFLICT.value, Kind.DOM0_HALT.value):
            return Check(CheckName.CONSOLE, Status.PASS, "refusal", c.crash_kind,
                         f"the boot ended when dom0 refused the layout, as predicted: "
                         f"{c.message}")
        return Check(CheckName.CONSOLE, Status.CRASH, "done", c.stage, c.message)
    if c.outcome in (ConsoleOutcome.TIMEOUT, ConsoleOutcome.SILENT):
        return Check(CheckName.CONSOLE, Status.INCOMPLETE, "done", c.stage, c.message)
    # QEMU left early: its own failure (non-zero status) is infrastructure; a clean exit
    # before /init finished means the guest reset or powered off on its own
    if exit_status not in (0, None):
        return Check(CheckName.CONSOLE, Status.ERROR, "done", c.stage,
                     f"{c.message}: QEMU exit status {exit_status}")
    return Check(CheckName.CONSOLE, Status.CRASH, "done", c.stage,
                 f"{c.message}: the guest reset or powered off before rig's /init finished")


#: GRUB errors every boot of rig's machine prints, and why they are harmless
_GRUB_KNOWN = (
    # the multiboot loader probes VBE for a video mode; rig's QEMU has no VGA ("-vga none")
    ("boot", "Can't get controller info"),
)


def grub_checks(parsed: ParsedLog) -> list[Check]:
    """GRUB's errors before Xen: one in a command that shapes the map (lsmmap, cutmem,
    badram) means the machine is not the one asked for (infrastructure, exit 125); others
    (the multiboot loader's VBE probe fails under "-vga none") are reported, not judged."""
    grub = parsed.grub
    errors = [(c, m) for c, m in grub.errors
              if not any(c.startswith(cmd) and m.startswith(msg) for cmd, msg in _GRUB_KNOWN)]
    if not errors:
        return []
    said = "; ".join(f"'{c}': {m}" for c, m in errors[:3])
    if grub.layout_errors:
        command, message = grub.layout_errors[0]
        return [Check(CheckName.GRUB, Status.ERROR, None, f"{command}: {message}",
                      f"GRUB failed in '{command}' ({message}) before it started Xen: the "
                      "machine lacks what the scenario asked for")]
    return [Check(CheckName.GRUB, Status.WARN, None, said,
                  f"GRUB printed errors that do not touch the memory map: {said}")]


def firmware_read(s: Scenario, parsed: ParsedLog,
                  seabios: list[E820Entry] | None = None) -> tuple[list[E820Entry] | None, str]:
    """The firmware's own map as this boot showed it (rig's test firmware's entries in it):
    SeaBIOS's on its debug console, GRUB's ``lsmmap`` before it punched its holes, or Xen's
    map when nothing stood between the firmware and Xen (no GRUB)."""
    if seabios:
        return seabios, "SeaBIOS's debug console on this boot"
    if parsed.grub.mmap:
        return parsed.grub.mmap, "GRUB's lsmmap on this boot"
    if s.boot == "direct" and parsed.xen.e820:
        return parsed.xen.e820, "Xen's E820 on this boot (nothing punched)"
    return None, "none"


def model_kernel(parsed: ParsedLog, s: Scenario, booted: BootedKernel) -> Kernel | None:
    """The kernel as the model sees it for ``rig predict``'s checks: the version it booted,
    the configuration and layout of its artifact."""
    try:
        if parsed.linux.version:
            version = release_version(parsed.linux.version, parsed.linux.upstream_version)
        else:
            version = release_version(booted.release or s.kernel, booted.upstream)
    except ValueError:
        return None
    config = booted.config
    ibft = config.enabled(IBFT_OPTION) if config else None
    return Kernel(version, "the booted kernel", ibft, config.source if config else None,
                  booted.layout, e820_entries=Kernel.e820_entries_of(config),
                  unpopulated_alloc=Kernel.unpopulated_alloc_of(config))
