"""``rig replay LOG``: derive a scenario whose QEMU machine makes dom0 do the same work as the
machine that wrote LOG, and say how faithful it is. Pure: parsed log in, scenario and report out.

The rule that makes this possible: Linux's Xen setup treats reserved/ACPI ranges and gaps alike
(non-RAM areas), so every non-RAM area of the original below 4 GiB becomes a GRUB ``cutmem``
gap; the PCI hole becomes ``max-ram-below-4g``. What cannot be expressed is reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rig.dom0mem import Dom0Mem
from rig.errors import UsageError
from rig.firmware import HoleSpec, punch, seabios_map, seabios_top_reserve
from rig.layout import E820Entry, GiB, MiB, PfnRange, clip, nonram_areas, pfn_down, pfn_up
from rig.model import parse_version, predict
from rig.parse import ParsedLog
from rig.scenario import MAX_BELOW_4G, Hole, Scenario, validate

TWO_MIB = 2 * MiB
#: above this much guest RAM the replay shrinks the RAM above dom0's pages (boot time, host RSS)
SHRINK_ABOVE = 64 * GiB
#: RAM kept above nr_pages + the remap target when shrinking
SHRINK_MARGIN = 256 * MiB
class ReplayError(UsageError):
    """The log cannot be replayed here; the message says why and what would work (exit 2)."""


@dataclass
class Replay:
    scenario: Scenario
    original_map: list[E820Entry]
    map_source: str
    nr_pages: int
    notes: list[str] = field(default_factory=list)

    def to_toml(self) -> str:
        s = self.scenario
        lines = [f"name = {_q(s.name)}", f"description = {_q(s.description)}", "",
                 "[machine]", f"type = {_q(s.machine_type)}", f"memory = {_q(_size(s.memory))}"]
        if s.below_4g is not None:
            lines.append(f"below_4g = {_q(hex(s.below_4g))}")
        lines += [f"firmware = {_q(s.firmware)}", f"cpus = {s.cpus}", ""]
        for h in s.holes:
            lines += ["[[holes]]", f"start = {_q(hex(h.start))}", f"size = {_q(hex(h.size))}",
                      f"kind = {_q(h.kind)}", ""]
        lines += ["[xen]", f"version = {_q(s.xen_version)}"]
        if s.dom0_mem:
            lines.append(f"dom0_mem = {_q(s.dom0_mem)}")
        lines += ["", "[dom0]", f"kernel = {_q(s.kernel)}", ""]
        return "\n".join(lines)


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _size(n: int) -> str:
    return f"{n // MiB}M" if n % MiB == 0 else hex(n)


def derive(log: ParsedLog, *, name: str = "replay", dom0_mem: str | None = None,
           kernel: str = "6.1", xen: str = "4.17", max_dom0: int = 16 * GiB) -> Replay:
    """``max_dom0``: the most memory this host can give the replay's dom0 (bytes)."""
    mmap, source = (log.xen.e820, "Xen's E820") if log.xen.e820 else \
        (log.linux.e820, "Linux's E820")
    if not mmap:
        raise ReplayError("the log has no E820 map (neither Xen's nor Linux's)")
    ram = [(pfn_up(e.start), pfn_down(e.end)) for e in mmap if e.is_ram and pfn_down(e.end) >
           pfn_up(e.start)]
    nr = log.xen.dom0_nr_pages
    notes: list[str] = [f"layout from {source}; reserved and ACPI ranges become gaps: Linux's "
                        "Xen setup treats both alike (non-RAM areas)"]
    if nr is None and dom0_mem:
        # what the user asks the replay to give dom0, as Xen sizes it given enough memory
        size = Dom0Mem.parse(dom0_mem).with_plenty()
        nr = size.nr_pages if size else None
    if nr is None:
        raise ReplayError("dom0's nr_pages is not in the log (no Xen 'Dom0 alloc.' lines): "
                          "give --dom0-mem, e.g. --dom0-mem 4G")
    if nr * 4096 > max_dom0:
        raise ReplayError(f"dom0 had {nr} pages ({nr * 4096 / GiB:.1f} GiB); this machine can "
                          f"give a TCG guest's dom0 at most {max_dom0 // GiB} GiB. Replay the "
                          f"largest faithful subset with --dom0-mem {max_dom0 // GiB}G (the "
                          "areas below that boundary stay as they were)")
    below4 = [(a, b) for a, b in ram if a >= 0x100 and b <= 0x100000]
    above4 = [(a, b) for a, b in ram if a >= 0x100000]
    if not below4:
        raise ReplayError("no RAM between 1 MiB and 4 GiB in the map")
    top = below4[-1][1] << 12  # end of RAM below 4 GiB
    high = sum(b - a for a, b in above4) << 12
    if above4:
        span = (above4[-1][1] - 0x100000) << 12
        gaps_above = span - high
        if gaps_above:
            hole_pfns = [r for r in clip(nonram_areas(mmap), nr) if r.start >= 0x100000]
            effect = (f"{sum(r.pages for r in hole_pfns)} of their pages lie below nr_pages: "
                      "the replay cannot reproduce those") if hole_pfns else \
                "all lie above nr_pages, so they change no count"
            notes.append(f"{gaps_above // MiB} MiB of holes above 4 GiB are left out (GRUB "
                         f"cannot cut there): {effect}")
        high = span
    if top + high > SHRINK_ABOVE:
        need = max(nr, 0x100000) + sum(r.pages for r in clip(nonram_areas(mmap), nr))
        keep_high = max(0, (need << 12) + SHRINK_MARGIN - (1 << 32))
        keep_high = -(-keep_high // GiB) * GiB
        if keep_high < high:
            notes.append(f"RAM above 4 GiB shrunk from {high // GiB} GiB to {keep_high // GiB} "
                         "GiB: dom0's pages and the remap target are kept, the rest is RAM "
                         "nobody touches")
            high = keep_high
    # QEMU: RAM below 4 GiB ends at below_4g, of which SeaBIOS keeps the top for its tables
    reserve = seabios_top_reserve(top + high)
    below_4g = -(-(top + reserve) // TWO_MIB) * TWO_MIB
    if below_4g > MAX_BELOW_4G:
        below_4g = MAX_BELOW_4G
        notes.append(f"RAM below 4 GiB reached {top:#x}; QEMU stops it at {MAX_BELOW_4G:#x}")
    reserve = seabios_top_reserve(below_4g + high)
    holes: list[Hole] = []
    # every page between 1 MiB and the top of low RAM that is not RAM in the original: a gap
    cursor = 0x100
    for a, b in below4:
        if a > cursor:
            holes.append(Hole(cursor << 12, (a - cursor) << 12, "gap"))
        cursor = max(cursor, b)
    usable_top = pfn_down(below_4g - reserve)
    if usable_top > cursor:
        holes.append(Hole(cursor << 12, (usable_top - cursor) << 12, "gap"))
    memory = below_4g + high
    first_ram_end = ram[0][1] if ram and ram[0][0] == 0 else 0
    if first_ram_end and first_ram_end != 0x9F:
        notes.append(f"below 1 MiB the original's first RAM ends at pfn {first_ram_end:#x}; "
                     "SeaBIOS's ends at pfn 0x9f: the firmware's own area differs by "
                     f"{abs(0x9F - first_ram_end)} page(s)")
    amount = f"{nr * 4}K"
    scenario = Scenario(
        name=name, description=f"replay of a machine's layout ({source}, dom0 {nr} pages)",
        machine_type="pc", memory=memory, below_4g=below_4g, holes=tuple(holes),
        xen_version=xen, dom0_mem=f"{amount},max:{amount}", kernel=kernel)
    validate(scenario)
    return Replay(scenario, list(mmap), source, nr, notes)


@dataclass
class Fidelity:
    rows: list[tuple[str, str, str]]  # (original area, replayed area, remark)
    original_count: int
    replayed_count: int | None
    kernel_version: tuple[int, ...]

    def to_text(self) -> str:
        width = max((len(r[0]) for r in self.rows), default=10)
        lines = [f"{'original area (pfn)':<{width}}  {'replayed':<22}  remark"]
        lines += [f"{a:<{width}}  {b:<22}  {c}" for a, b, c in self.rows]
        version = ".".join(map(str, self.kernel_version))
        lines.append(f"model, original map, kernel {version}: remaps {self.original_count}; "
                     f"replayed boot printed: {self.replayed_count}")
        return "\n".join(lines)


def fidelity(rp: Replay, replayed: ParsedLog | None, kernel_version: str) -> Fidelity:
    """Per area of the original map below nr_pages: what the replay has there; and the model's
    count for the original map vs what the replayed kernel printed."""
    version = parse_version(kernel_version)
    orig = clip(nonram_areas(rp.original_map), rp.nr_pages)
    s = rp.scenario
    if replayed is not None and replayed.xen.e820:
        replay_map = replayed.xen.e820
    else:  # not booted: the map the scenario will make
        replay_map = punch(seabios_map(s.low_ram, s.high_ram, s.boot, s.machine_type),
                           [HoleSpec(h.start, h.end, h.kind) for h in s.holes])
    mine = clip(nonram_areas(replay_map), rp.nr_pages)
    rows = []
    for area in orig:
        match = [r for r in mine if r.start < area.end and area.start < r.end]
        got = ", ".join(str(r) for r in match) or "-"
        if match == [area]:
            remark = "same"
        elif area.start < 0x100:
            remark = "firmware's own area below 1 MiB"
        elif area.start >= 0x100000:
            remark = "above 4 GiB: GRUB cannot cut there"
        else:
            remark = "differs: " + _why(area, match)
        rows.append((str(area), got, remark))
    extra = [r for r in mine if not any(r.start < a.end and a.start < r.end for a in orig)]
    rows += [("-", str(r), "only in the replay") for r in extra]
    original = predict(rp.original_map, rp.nr_pages, rp.nr_pages, version).remapped_pages
    replayed_count = replayed.linux.remapped_pages if replayed else None
    return Fidelity(rows, original, replayed_count, version)


def _why(area: PfnRange, match: list[PfnRange]) -> str:
    if not match:
        return "not reproduced"
    lo, hi = min(r.start for r in match), max(r.end for r in match)
    return f"{lo - area.start:+d} / {hi - area.end:+d} pages at start / end"
