"""``rig replay LOG``: derive a scenario whose QEMU machine makes dom0 do the same work as the
machine that wrote LOG, and say how faithful it is. Pure: parsed log in, scenario and report out.

Every entry of the original that is not RAM is made again by rig's test firmware with its type
and its bounds to the byte (reserved, ACPI data, ACPI NVS, unusable: 6.12+ treats NVS apart),
every range no entry covers becomes a gap, and the PCI hole becomes ``max-ram-below-4g``.
What cannot be expressed is reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from rig.domain.dom0mem import Dom0Mem
from rig.domain.e820 import E820Entry, E820Type, sanitize
from rig.domain.pages import PfnRange, clip, nonram_areas, pfn_down, pfn_up, total
from rig.domain.qemu_ram import GIGABYTE_ALIGN_CAP, LEGACY_PC, MAX_BELOW_4G
from rig.domain.scenario import MAX_MEMORY, TYPED, Hole, Scenario, validate
from rig.domain.units import GiB, MiB
from rig.errors import UsageError
from rig.model import cost
from rig.model.firmware import emulated_machine, firmware_problem, seabios_top_reserve
from rig.model.kernel import parse_version
from rig.model.pv import predict
from rig.parse.collect import ParsedLog

TWO_MIB = 2 * MiB
#: RAM kept above nr_pages + the remap target when the guest must shrink to fit the host
SHRINK_MARGIN = 256 * MiB
#: the guest's RAM ends here at most (rig.domain.scenario.MAX_MEMORY above 4 GiB)
MAX_PFN = (MAX_MEMORY >> 12) + 0x100000


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
        return self.scenario.to_toml()


@dataclass(frozen=True)
class _Request:
    """What a replay is asked for, the same for every dom0 size tried: the original's map and
    which one it is (Xen's or Linux's), and the scenario's name, kernel and Xen."""

    mmap: list[E820Entry]
    source: str
    name: str
    kernel: str
    xen: str


def derive(log: ParsedLog, *, name: str = "replay", dom0_mem: str | None = None,
           kernel: str = "6.1", xen: str = "4.17", budget: int | None = None) -> Replay:
    """``budget``: the bytes this host can give the replay's QEMU (rig.model.cost estimates what a
    replay takes); None: no limit. ``dom0_mem``: dom0's size when the log lacks Xen's lines,
    or a smaller dom0 than the original's (a faithful subset: every area below it kept)."""
    mmap, source = (log.xen.e820, "Xen's E820") if log.xen.e820 else \
        (log.linux.e820, "Linux's E820")
    if not mmap:
        raise ReplayError("the log has no E820 map (neither Xen's nor Linux's)")
    notes: list[str] = [f"layout from {source}; each entry that is not RAM keeps its type and "
                        "exact bounds (rig's test firmware makes it), each range no entry "
                        "covers is a gap"]
    nr = log.xen.dom0_nr_pages
    if dom0_mem:
        try:
            size = Dom0Mem.parse(dom0_mem).with_plenty()
        except ValueError as exc:
            raise ReplayError(f"--dom0-mem {dom0_mem!r}: {exc}") from None
        if size is None:
            raise ReplayError(f"--dom0-mem {dom0_mem!r}: give an amount (e.g. 4G), not only "
                              "a minimum or maximum")
        if nr is None:
            nr = size.nr_pages
        elif size.nr_pages < nr:
            notes.append(f"dom0 gets {size.nr_pages} of the original's {nr} pages (--dom0-mem "
                         f"{dom0_mem}): every area below pfn {size.nr_pages:#x} is kept, the "
                         "counts are the original's for that dom0")
            nr = size.nr_pages
        elif size.nr_pages > nr:
            notes.append(f"--dom0-mem {dom0_mem} is more than the original's dom0 had ({nr} "
                         "pages): the original's is kept")
    if nr is None:
        raise ReplayError("dom0's nr_pages is not in the log (no Xen 'Dom0 alloc.' lines): "
                          "give --dom0-mem, e.g. --dom0-mem 4G")
    req = _Request(mmap, source, name, kernel, xen)
    scenario, layout_notes = _layout(req, nr, budget)
    if budget is not None and (need := _cost(scenario, mmap, nr)) > budget:
        fits = _largest_dom0(req, nr, budget)
        what = (f"--dom0-mem {fits}G (every area below that boundary stays as it was)" if fits
                else "a host with more free memory")
        raise ReplayError(f"this replay needs about {need / GiB:.1f} GiB of host memory (dom0 "
                          f"{nr} pages, {nr * 4096 / GiB:.1f} GiB; rig.model.cost) and this host "
                          f"can give {budget / GiB:.1f} GiB now. Replay the largest faithful "
                          f"subset with {what}")
    # below 1 MiB SeaBIOS keeps pfn 0x9f-0x100 (97 pages) for itself, whatever the original had
    low = total(clip(nonram_areas(mmap), 0x100))
    if low != 0x100 - 0x9F:
        layout_notes.append(f"below 1 MiB the original has {low} non-RAM page(s), SeaBIOS "
                            f"{0x100 - 0x9F}: the firmware's own area differs by "
                            f"{low - (0x100 - 0x9F):+d} page(s), which no cut can change")
    return Replay(scenario, list(mmap), source, nr, notes + layout_notes)


def _cost(s: Scenario, mmap: list[E820Entry], nr: int) -> int:
    """The replay's peak host memory: its guest, its dom0, and the pages dom0 will remap (the
    non-RAM pages below nr_pages, as era E does)."""
    return cost.peak_rss(s.memory, nr, total(clip(nonram_areas(mmap), nr)))


def _largest_dom0(req: _Request, nr: int, budget: int) -> int:
    """The largest whole number of GiB of dom0 (below the original's) whose replay fits."""
    for gib in range(nr * 4096 // GiB, 0, -1):
        pages = gib * GiB // 4096
        try:
            s, _ = _layout(req, pages, budget)
        except ReplayError:
            continue
        if _cost(s, req.mmap, pages) <= budget:
            return gib
    return 0


def _layout(req: _Request, nr: int, budget: int | None) -> tuple[Scenario, list[str]]:
    """The scenario that gives dom0 ``nr`` pages on the original's map: RAM below 4 GiB to the
    original's top, every non-RAM area a gap (above 4 GiB too), guest RAM shrunk above what dom0
    and its remap need only when the host cannot hold the whole machine."""
    notes: list[str] = []
    mmap = req.mmap
    ram = [PfnRange(pfn_up(e.start), pfn_down(e.end)) for e in mmap
           if e.is_ram and pfn_down(e.end) > pfn_up(e.start)]
    below4 = [r for r in ram if r.start >= 0x100 and r.end <= 0x100000]
    above4 = [PfnRange(r.start, min(r.end, MAX_PFN)) for r in ram
              if r.start >= 0x100000 and r.start < MAX_PFN]
    if not below4:
        raise ReplayError("no RAM between 1 MiB and 4 GiB in the map")
    top = below4[-1].end << 12  # end of RAM below 4 GiB
    end = above4[-1].end if above4 else 0x100000  # end of RAM above 4 GiB (pfn)
    if budget is not None and above4:
        need = max(nr, 0x100000) + total(clip(nonram_areas(mmap), nr))
        keep_end = max(0x100000, -(-((need << 12) + SHRINK_MARGIN) // GiB) * GiB >> 12)
        probe, _ = _scenario(req, nr, top, end)
        if keep_end < end and _cost(probe, mmap, nr) > budget:
            notes.append(f"guest RAM above 4 GiB shrunk from {((end - 0x100000) << 12) // GiB} "
                         f"GiB to {((keep_end - 0x100000) << 12) // GiB} GiB for this host: "
                         "dom0's pages and the remap target are kept, the rest is RAM nobody "
                         "touches")
            end = keep_end
    s, scenario_notes = _scenario(req, nr, top, end)
    return s, notes + scenario_notes


#: how a replay spells the original's types (rig.domain.scenario.TYPED); a type no firmware
#: of rig's makes (persistent, soft reserved, unknown) is reserved to Linux's Xen setup too
KIND_OF = {t: k for k, t in TYPED.items()}


def _holes(original: list[E820Entry], lo: int, hi: int) -> tuple[list[Hole], list[str]]:
    """The holes that make [lo, hi) of the guest's RAM look like the original's: each entry
    that is not RAM at its exact bounds, and a gap wherever no entry is. A gap is whole pages:
    a page it shares with a typed entry stays that entry's, one it shares with RAM is gap (the
    partial page was never RAM to dom0: Linux counts whole pages). And what could not be made
    as it was."""
    notes: list[str] = []
    inside = [e for e in sanitize(original) if e.start < hi and lo < e.end]
    holes: list[Hole] = []
    prev_typed = False
    cursor = lo
    for e in [*inside, E820Entry(hi, hi + 1, E820Type.RAM)]:
        start, end = max(e.start, lo), min(e.end, hi)
        if start > cursor:
            a = (pfn_up(cursor) if prev_typed else pfn_down(cursor)) << 12
            b = (pfn_down(start) if not e.is_ram else pfn_up(start)) << 12
            if b > a:
                holes.append(Hole(a, b - a, "gap"))
        if not e.is_ram and end > start:
            kind = KIND_OF.get(e.type, "reserved")
            if kind == "reserved" and e.type is not E820Type.RESERVED:
                notes.append(f"{e.type.value} [{e.start:#x}, {e.end:#x}) is made as reserved "
                             "(rig's test firmware makes the four types dom0's setup tells "
                             "apart)")
            holes.append(Hole(start, end - start, kind))
        prev_typed = not e.is_ram
        cursor = max(cursor, end)
    return holes, notes


def _scenario(req: _Request, nr: int, top: int, end: int) -> tuple[Scenario, list[str]]:
    """The scenario of dom0 ``nr`` pages whose RAM below 4 GiB ends at ``top`` (bytes) and
    above it at ``end`` (pfn); and what it could not keep as it was."""
    notes: list[str] = []
    high = (end - 0x100000) << 12 if end > 0x100000 else 0
    # QEMU: RAM below 4 GiB ends at below_4g, of which SeaBIOS keeps the top for its tables
    # (less on the legacy machine type that a split past 3 GiB needs)
    machine = "pc"
    below_4g = -(-(top + seabios_top_reserve(top + high)) // TWO_MIB) * TWO_MIB
    if high and below_4g > GIGABYTE_ALIGN_CAP:  # rig.domain.qemu_ram picks the legacy machine
        machine = LEGACY_PC
        below_4g = -(-(top + seabios_top_reserve(top + high, machine)) // TWO_MIB) * TWO_MIB
    if below_4g > MAX_BELOW_4G:
        below_4g = MAX_BELOW_4G
        notes.append(f"RAM below 4 GiB reached {top:#x}; rig's QEMU stops it at "
                     f"{MAX_BELOW_4G:#x}")
    reserve = seabios_top_reserve(below_4g + high, machine)
    usable_top = pfn_down(below_4g - reserve) << 12
    # between 1 MiB and the top of low RAM, and above 4 GiB to the end of the guest's RAM
    holes, made_as = _holes(req.mmap, 1 * MiB, usable_top)
    notes += made_as
    if end > 0x100000:
        high_holes, made_as = _holes(req.mmap, 4 * GiB, end << 12)
        holes += high_holes
        notes += made_as
    amount = f"{nr * 4}K"
    scenario = Scenario(
        name=req.name,
        description=f"replay of a machine's layout ({req.source}, dom0 {nr} pages)",
        machine_type="pc", memory=below_4g + high, below_4g=below_4g, holes=tuple(holes),
        xen_version=req.xen, dom0_mem=f"{amount},max:{amount}", kernel=req.kernel)
    validate(scenario)
    if firmware_problem(scenario) is not None and any(h.kind == "gap" for h in holes):
        # more entries than SeaBIOS holds: GRUB cuts the gaps, the firmware makes the rest
        grub = replace(scenario, loader="grub")
        validate(grub)
        if firmware_problem(grub) is None:
            notes.append("the map has more entries than SeaBIOS holds: its gaps are cut by GRUB "
                         "(machine.loader = \"grub\"), its typed entries made by rig's firmware")
            scenario = grub
    if (problem := firmware_problem(scenario)) is not None:
        raise ReplayError(f"rig's test firmware cannot make this machine's map: {problem}")
    return scenario, notes


@dataclass
class Fidelity:
    rows: list[tuple[str, str, str]]  # (original area, replayed area, remark)
    #: the model's count on the original map, with the replay's dom0 and kernel
    original_count: int
    #: the model's count on the replay's map (as booted, or as the scenario will make it)
    replay_model_count: int
    #: what the replayed kernel printed (None: not booted)
    replayed_count: int | None
    kernel_version: tuple[int, ...]
    #: pages of non-RAM areas below 1 MiB that the original's firmware and SeaBIOS place
    #: differently (original's minus the replay's): the difference rig explains
    firmware_pages: int = 0

    @property
    def unexplained(self) -> int | None:
        """Pages by which the replayed kernel's count differs from the original's beyond the
        firmware's own area below 1 MiB (None: not booted)."""
        if self.replayed_count is None:
            return None
        return self.original_count - self.replayed_count - self.firmware_pages

    def to_text(self) -> str:
        width = max((len(r[0]) for r in self.rows), default=10)
        lines = [f"{'original area (pfn)':<{width}}  {'replayed':<22}  remark"]
        lines += [f"{a:<{width}}  {b:<22}  {c}" for a, b, c in self.rows]
        version = ".".join(map(str, self.kernel_version))
        lines.append(f"model, kernel {version}: the original remaps {self.original_count}, the "
                     f"replay {self.replay_model_count}; replayed boot printed: "
                     f"{self.replayed_count}")
        if self.replayed_count is not None:
            lines.append(f"difference {self.original_count - self.replayed_count}: "
                         f"{self.firmware_pages} in the firmware's own area below 1 MiB, "
                         f"{self.unexplained} unexplained")
        return "\n".join(lines)

    def to_json(self) -> dict[str, object]:
        return {"rows": [{"original": a, "replayed": b, "remark": c} for a, b, c in self.rows],
                "original_count": self.original_count,
                "replay_model_count": self.replay_model_count,
                "replayed_count": self.replayed_count, "firmware_pages": self.firmware_pages,
                "unexplained": self.unexplained,
                "kernel_version": ".".join(map(str, self.kernel_version))}


def fidelity(rp: Replay, replayed: ParsedLog | None, kernel_version: str) -> Fidelity:
    """Per area of the original map below nr_pages: what the replay has there; and the model's
    count for the original map vs what the replayed kernel printed."""
    version = parse_version(kernel_version)
    orig = clip(nonram_areas(rp.original_map), rp.nr_pages)
    s = rp.scenario
    if replayed is not None and replayed.xen.e820:
        replay_map = replayed.xen.e820
    else:  # not booted: the map the scenario will make
        replay_map = emulated_machine(s)
    mine = clip(nonram_areas(replay_map), rp.nr_pages)
    rows = []
    for area in orig:
        match = [r for r in mine if r.start < area.end and area.start < r.end]
        got = ", ".join(str(r) for r in match) or "-"
        if match == [area]:
            remark = "same"
        elif area.start < 0x100:
            remark = "firmware's own area below 1 MiB"
        else:
            remark = "differs: " + _why(area, match)
        rows.append((str(area), got, remark))
    extra = [r for r in mine if not any(r.start < a.end and a.start < r.end for a in orig)]
    rows += [("-", str(r), "only in the replay") for r in extra]
    low = 0x100
    firmware = total(clip(orig, low)) - total(clip(mine, low))
    original = predict(rp.original_map, rp.nr_pages, rp.nr_pages, version).remapped_pages
    mine_count = predict(replay_map, rp.nr_pages, rp.nr_pages, version).remapped_pages
    replayed_count = replayed.linux.remapped_pages if replayed else None
    return Fidelity(rows, original, mine_count, replayed_count, version, firmware)


def _why(area: PfnRange, match: list[PfnRange]) -> str:
    if not match:
        return "not reproduced"
    lo, hi = min(r.start for r in match), max(r.end for r in match)
    return f"{lo - area.start:+d} / {hi - area.end:+d} pages at start / end"
