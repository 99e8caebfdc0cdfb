"""What a scenario must produce, from the scenario alone (``rig predict``).

Pure. The scenario gives the machine (through rig.model.firmware's emulation of the firmware, or a
map read from the firmware on a live boot), the holes, dom0_mem (through rig.domain.dom0mem, Xen's
own sizing) and the kernel; rig.model.pv says what a correct kernel does with them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rig.domain.dom0mem import Dom0Mem, Dom0Size
from rig.domain.e820 import E820Entry, sanitize
from rig.domain.pages import ram_pages, total
from rig.domain.scenario import Scenario
from rig.model import pvh, xen_pv
from rig.model.firmware import HoleSpec, punch, requested_ram, seabios_map, with_entries
from rig.model.kernel import Kernel, parse_version
from rig.model.pv import Prediction, predict


@dataclass
class ScenarioPrediction:
    scenario: str
    boot: str
    #: the firmware's own map (emulated, recorded, or read on this boot) and where it came from
    firmware_map: list[E820Entry]
    firmware_source: str
    #: the map Xen must print: the firmware's with the scenario's holes punched
    machine_map: list[E820Entry]
    #: the RAM the scenario's machine has before any firmware takes its share
    requested: list[E820Entry]
    holes: list[HoleSpec]
    nr_pages: int | None
    max_pages: int | None
    kernel_version: tuple[int, ...] | None
    prediction: Prediction | None
    #: the same layout on a kernel without the seed's fix (era B): what dom0 would lose
    without_fix: Prediction | None
    notes: list[str] = field(default_factory=list)
    #: a PVH dom0 (dom0.mode = "pvh"): Xen's map for it and the pages Linux and Xen count
    pvh: pvh.PvhPrediction | None = None


def dom0_size(dom0_mem: str | None, machine_map: Sequence[E820Entry]) -> tuple[Dom0Size | None,
                                                                              str]:
    """Xen's sizing of dom0 on this machine, when it does not depend on Xen's free memory at
    dom0 build time (which Xen does not print), and a note saying which case this is."""
    mem = Dom0Mem.parse(dom0_mem) if dom0_mem else Dom0Mem()
    size = size_on(mem, machine_map)
    if size is not None:
        return size, f"dom0_mem={dom0_mem} gives {size.nr_pages} pages on any Xen of this machine"
    what = f"dom0_mem={dom0_mem}" if dom0_mem else "Xen's default (no dom0_mem)"
    return None, (f"{what} depends on Xen's free memory when it builds dom0, which Xen does not "
                  "print: the counts are known from a boot's Dom0 alloc. lines")


def size_on(mem: Dom0Mem, machine_map: Sequence[E820Entry]) -> Dom0Size | None:
    """Xen's sizing of dom0 on the machine of ``machine_map``, when determined."""
    pages = ram_pages(machine_map)
    if not pages:
        return None
    return mem.for_machine(total(pages), pages[-1].end)


def predict_scenario(s: Scenario, recorded: Sequence[E820Entry] | None = None, *,
                     firmware_map: Sequence[E820Entry] | None = None,
                     firmware_source: str | None = None,
                     kernel: Kernel | None = None) -> ScenarioPrediction:
    """``recorded``: for OVMF, whose own ranges are its business, the map an earlier boot of
    the same firmware, machine and RAM size printed. ``firmware_map``: the firmware's map as
    read on a live boot (replaces the emulation). ``kernel``: what is known of the kernel (its
    configuration once the artifact is fetched); by default the scenario's kernel key."""
    holes = [HoleSpec(h.start, h.end, h.kind) for h in sorted(s.holes, key=lambda h: h.start)]
    entries = [HoleSpec(h.start, h.end, h.kind) for h in s.firmware_entries]
    cuts = [HoleSpec(h.start, h.end, h.kind) for h in s.grub_holes]
    notes: list[str] = []
    if firmware_map:
        # as the firmware gives it: rig's test firmware's entries are in it already
        fw, source = sanitize(firmware_map), firmware_source or "read from the firmware"
    elif s.firmware == "bios":
        fw = with_entries(seabios_map(s.low_ram, s.high_ram, s.boot, s.qemu_machine), entries)
        source = "rig's emulation of SeaBIOS" + (" with rig's test firmware's entries"
                                                 if entries else "")
    elif recorded:
        fw, source = sanitize(recorded), "OVMF's map recorded from an earlier boot"
        notes.append("OVMF's map as recorded from an earlier boot of the same firmware, machine "
                     "and RAM size (OVMF places its own NVS and reserved ranges)")
    else:
        fw, source = [], "none"
        notes.append("no OVMF map recorded for this machine and RAM size yet: the first "
                     "`rig run` records it")
    mmap = punch(fw, cuts) if fw else []
    nr_pages = max_pages = None
    if mmap:
        size, why = dom0_size(s.dom0_mem, mmap)
        if size is not None:
            nr_pages, max_pages = size.nr_pages, size.max_pages
        else:
            notes.append(why)
    version: tuple[int, ...] | None
    if kernel is not None:
        version = kernel.version
    else:
        try:
            version = parse_version(s.kernel)
            kernel = Kernel(version, "the scenario's kernel key")
        except ValueError:
            version = None
            notes.append(f"dom0.kernel {s.kernel!r} is not a version: the era is known after "
                         "boot")
    pred = without = pvh_pred = None
    if s.dom0_mode == "pvh":
        # Xen sizes a PVH dom0 after its IOMMU and paging reservations, which it does not
        # print: only an absolute dom0_mem is known beforehand (if Xen has that much free)
        mem = Dom0Mem.parse(s.dom0_mem) if s.dom0_mem else Dom0Mem()
        plenty = mem.with_plenty()
        nr_pages = plenty.nr_pages if plenty else None
        max_pages = plenty.max_pages if plenty else None
        if nr_pages is not None and mmap:
            window = pvh.grant_window(kernel is not None and kernel.unpopulated_alloc is False,
                                      s.xen_cmdline)
            pvh_pred = pvh.predict(mmap, nr_pages, window=window)
            notes.append("PVH dom0: Xen's ACPI tables for it take a few hundred bytes of its "
                         "last RAM below 4 GiB, which costs Linux the page they start in; "
                         "Linux's shared info displaces one RAM page Xen then frees")
        else:
            notes.append("PVH dom0 without an absolute dom0_mem: its size is known from Xen's "
                         "Dom0 memory map after boot")
    elif nr_pages is not None and mmap:
        if kernel is not None:
            alloc = xen_pv.allocations(kernel.layout) if kernel.layout is not None else None
            pred = predict(mmap, nr_pages, max_pages, kernel, alloc)
        without = predict(mmap, nr_pages, max_pages, (3, 2))
    requested = requested_ram(s.low_ram, s.high_ram, s.qemu_machine)
    return ScenarioPrediction(s.name, s.boot, fw, source, mmap, requested, holes, nr_pages,
                              max_pages, version, pred, without, notes, pvh_pred)
