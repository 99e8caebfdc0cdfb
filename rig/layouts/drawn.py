"""Random valid layouts for ``rig fuzz`` (rig.runner.fuzz boots them).

Pure and deterministic: scenario ``i`` of seed ``S`` comes from its own random
stream (``"S:i"``), so ``rig fuzz 5 --seed 1`` boots the first five of ``rig fuzz 30 --seed 1``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from rig.domain.qemu_ram import MAX_BELOW_4G, Q35_MAX_BELOW_4G
from rig.domain.scenario import Hole, Scenario, ScenarioError, validate
from rig.domain.units import PAGE_SIZE, GiB, MiB, format_size, parse_size
from rig.model.firmware import emulated_machine, firmware_problem
from rig.model.xen_pv import first_allocation, has_aligned_ram

#: RAM from 1 GiB to this (the issue's range), in 256 MiB steps
MAX_DRAWN_MEMORY = 64 * GiB
MAX_HOLES = 16
#: tries before a scenario's random stream gives up on a valid layout (never reached: each try
#: draws a new machine, and most draws are valid)
TRIES = 1000


@dataclass(frozen=True)
class Draw:
    """What every layout of a campaign is drawn with. ``kernel``, ``xen``: what it boots;
    ``max_memory``: the most RAM drawn; ``mode = "pvh"``: a PVH dom0, which needs q35 (its
    IOMMU), the same stream otherwise. ``aim``: then draw, from a stream of its own (the layouts
    without it stay the same), what the plain draw never gives (rig.model.coverage said so): a
    neighbour sharing an entry's last page, an entry across nr_pages, RAM above nr_pages that
    starts inside a page under ``max:`` = the amount (rig's second finding's shape), relative
    dom0_mem forms, and, given ``targets`` (what Xen allocates for this kernel,
    pseudo-physical: rig.model.xen_pv), a small entry across one of their bounds."""

    kernel: str = "6.1"
    xen: str = "4.17"
    max_memory: int = MAX_DRAWN_MEMORY
    mode: str = "pv"
    aim: bool = False
    targets: tuple[tuple[int, int], ...] = ()


#: rig fuzz's defaults: Debian's 6.1 on Xen 4.17, a PV dom0, the plain draw
PLAIN = Draw()


def generate(seed: int, count: int, draw: Draw = PLAIN) -> list[Scenario]:
    """``count`` valid scenarios, the same ones for the same seed (and draw)."""
    return [one(seed, i, draw) for i in range(count)]


def one(seed: int, index: int, draw: Draw = PLAIN) -> Scenario:
    """Scenario ``index`` of ``seed``, from its own random stream."""
    rng = random.Random(f"{seed}:{index}")
    aimer = random.Random(f"{seed}:{index}:aim")
    name = f"fuzz-{seed}-{index:03d}" + ("-pvh" if draw.mode == "pvh" else "")
    for _ in range(TRIES):
        s = _draw(rng, name, max(1 * GiB, draw.max_memory))
        if draw.aim:
            s = _aimed(aimer, s, draw.targets)
        if draw.mode == "pvh" and s.machine_type != "q35":
            continue
        s = replace(s, kernel=draw.kernel, xen_version=draw.xen, dom0_mode=draw.mode,
                    description=f"rig fuzz --seed {seed}, scenario {index}")
        try:
            validate(s)
        except ScenarioError:
            continue
        if firmware_problem(s) is not None or xen_cannot_build(s, draw):
            continue
        if draw.aim and _refused_by_design(s) and aimer.random() >= KEEP_REFUSALS:
            continue
        return s
    raise RuntimeError(f"{name}: no valid layout in {TRIES} draws")  # pragma: no cover


#: the share of aimed draws kept when every kernel must refuse them by design (a reserved or
#: ACPI data entry where Xen puts the kernel): 8 of the 12 plain draws of seed 4243 on 6.12.118
#: ended so; the rest are drawn again, so boots go where outcomes differ
KEEP_REFUSALS = 0.25


#: where the largest of Debian's kernels' images ends (7.2's, 0x4800000): dom0's first
#: allocation is sized from it when the draw does not know the kernel's own (``targets``)
LARGEST_IMAGE_END = 0x4800000


def xen_cannot_build(s: Scenario, draw: Draw) -> bool:
    """A PV layout whose map has no naturally aligned block of RAM for dom0's first allocation:
    Xen panics before any kernel runs (rig.model.xen_pv.first_allocation), so no boot of it
    tests the kernel (2 of the 12-07 campaign's 1000 layouts)."""
    if draw.mode != "pv":
        return False
    image_end = draw.targets[0][1] if draw.targets else LARGEST_IMAGE_END
    return not has_aligned_ram(emulated_machine(s), first_allocation(image_end))


def _refused_by_design(s: Scenario) -> bool:
    """A typed entry other than NVS (which a 6.12+ kernel swaps away) or unusable (which dom0
    takes as RAM) on the window where Xen puts a PV kernel (ALLOCATIONS): the kernel refuses
    the layout, whatever else it holds."""
    lo, hi = ALLOCATIONS
    return any(h.kind in ("reserved", "acpi") and h.start < hi and lo < h.end
               for h in s.holes)


def _draw(rng: random.Random, name: str, max_memory: int) -> Scenario:
    machine = rng.choice(("pc", "pc", "q35"))
    memory = rng.randint(4, max_memory // (256 * MiB)) * 256 * MiB
    below: int | None = None
    if rng.random() < 0.7:
        top = MAX_BELOW_4G if machine == "pc" else Q35_MAX_BELOW_4G
        below = rng.randrange(0x10000000, top + 1, 2 * MiB)
    s = Scenario(name=name, machine_type=machine, memory=memory, below_4g=below)
    holes = _holes(rng, s)
    return replace(s, holes=tuple(holes), dom0_mem=_dom0_mem(rng, s.memory))


#: the kinds a drawn hole takes, by weight (badram only where GRUB's mask is regular)
DRAWN_KINDS = (("gap", 8), ("reserved", 3), ("acpi", 3), ("nvs", 3), ("unusable", 1))
#: where Xen puts a PV dom0's kernel, start info and page tables for Debian's kernels (16 MiB to
#: past 6.1's 0x4a00000): entries drawn there test the kernel's checks of them
ALLOCATIONS = (0x1000000, 0x4C00000)


def _holes(rng: random.Random, s: Scenario) -> list[Hole]:
    """0–16 holes in RAM below and above 4 GiB, of 4 KiB to 256 MiB, of every kind: typed
    entries sometimes at unaligned bounds, some on Xen's dom0 allocations; badram blocks only
    where GRUB's 32-bit mask is regular (no RAM above 4 GiB)."""
    regions = [(1 * MiB, s.low_ram)]
    if s.high_ram:
        regions.append((s.high_ram_start, s.high_ram_start + s.high_ram))
    holes: list[Hole] = []
    for _ in range(rng.randint(0, MAX_HOLES)):
        hole = _hole(rng, s, regions)
        if hole is None or any(hole.start < h.end and h.start < hole.end for h in holes):
            continue
        holes.append(hole)
    return sorted(holes, key=lambda h: h.start)


def _hole(rng: random.Random, s: Scenario, regions: list[tuple[int, int]]) -> Hole | None:
    lo, hi = rng.choice(regions)
    size = PAGE_SIZE << rng.randint(0, 16)
    if size >= hi - lo:
        return None
    if not s.high_ram and rng.random() < 0.15:
        first = -(-lo // size) * size
        if hi - size < first:
            return None
        return Hole(rng.randrange(first, hi - size + 1, size), size, "badram")
    kind = rng.choices([k for k, _ in DRAWN_KINDS], [w for _, w in DRAWN_KINDS])[0]
    if kind != "gap" and rng.random() < 0.15:
        # on Xen's allocations for dom0: a small entry, as firmware's NVS on the AMD machines
        lo, hi = ALLOCATIONS[0], min(ALLOCATIONS[1], s.low_ram)
        size = PAGE_SIZE << rng.randint(0, 4)
    size = max(PAGE_SIZE, size * rng.randint(1, 3) // 2 // PAGE_SIZE * PAGE_SIZE)
    if size >= hi - lo:
        return None
    start = rng.randrange(lo // PAGE_SIZE, (hi - size) // PAGE_SIZE + 1) * PAGE_SIZE
    if kind != "gap" and rng.random() < 0.3:
        # real firmware's bounds are bytes (0x7ffdff26): an offset into the page, any length
        start += rng.randrange(1, PAGE_SIZE)
        size = rng.randrange(1, size + 1)
        if start + size > hi:
            return None
    return Hole(start, size, kind)


def _dom0_mem(rng: random.Random, memory: int) -> str | None:
    """Absent, absolute, with min: or max:, or both; amounts from 256 MiB to the guest's RAM."""
    def amount() -> str:
        return format_size(rng.randrange(256 * MiB, memory + 1, 64 * MiB))

    form = rng.choice(("none", "amount", "amount,max", "max", "min", "min,max", "amount,min"))
    if form == "none":
        return None
    a, b = sorted((amount(), amount()), key=parse_size)
    return {"amount": a, "amount,max": f"{a},max:{b}", "max": f"max:{a}", "min": f"min:{a}",
            "min,max": f"min:{a},max:{b}", "amount,min": f"{b},min:{a}"}[form]


def _aimed(rng: random.Random, s: Scenario,
           targets: tuple[tuple[int, int], ...] = ()) -> Scenario:
    """One of the shapes the plain draw misses, added to a drawn layout (a try the rules
    refuse is dropped by the caller's validation and drawn again)."""
    holes = list(s.holes)
    shape = rng.choice(("neighbour", "across", "extra", "relative")
                       + (("allocation",) if targets else ()))
    if shape == "allocation":
        # across a bound of what Xen allocated for the kernel (its image's end, the start
        # info, the page tables): the kernel's own checks and the NVS swap meet it there
        bound = rng.choice([b for t in targets for b in t])
        size = rng.choice((rng.randrange(1, PAGE_SIZE), rng.randrange(1, 4) * PAGE_SIZE))
        start = max(1 * MiB, bound - rng.randrange(1, size + 1))
        holes = [h for h in holes if not (h.start < start + size and start < h.end)]
        holes.append(Hole(start, size, rng.choice(("nvs", "nvs", "acpi", "reserved"))))
        return replace(s, holes=tuple(sorted(holes, key=lambda x: x.start)))
    if shape == "neighbour" and holes:
        # another kind from the byte an entry ends at, inside the same page
        h = rng.choice(holes)
        end = h.end if h.end % PAGE_SIZE else h.end - rng.randrange(1, PAGE_SIZE)
        kind = rng.choice([k for k, _ in DRAWN_KINDS if k not in ("gap", h.kind)])
        if end > h.start:
            holes = [x if x is not h else Hole(h.start, end - h.start, h.kind) for x in holes]
            holes.append(Hole(end, rng.randrange(1, 4 * PAGE_SIZE), kind))
        return replace(s, holes=tuple(sorted(holes, key=lambda x: x.start)))
    amount = rng.randrange(256 * MiB, max(257 * MiB, min(s.memory, s.low_ram) - 64 * MiB),
                           MiB)
    if shape == "across":
        holes.append(Hole(amount - rng.randrange(1, 16) * PAGE_SIZE,
                          rng.randrange(17, 64) * PAGE_SIZE, rng.choice(("reserved", "nvs"))))
        return replace(s, holes=tuple(sorted(holes, key=lambda x: x.start)),
                       dom0_mem=format_size(amount))
    if shape == "extra":
        # a non-RAM entry above nr_pages whose end is a byte: the RAM after it starts inside a
        # page. max: = the amount leaves no room for the kernel's rounding (finding 2, the
        # remap's BUG); a max: above it runs the budget out further on, where the kernel
        # walks the rest of the entry 4 KiB at a time (finding 2's table overflow)
        start = amount + rng.randrange(1, 64) * MiB
        holes.append(Hole(start, rng.randrange(1, 64) * PAGE_SIZE + rng.randrange(1, PAGE_SIZE),
                          rng.choice(("reserved", "acpi", "unusable"))))
        over = rng.choice((0, rng.randrange(4, 256) * MiB))
        mem = (f"{format_size(amount)},max:{format_size(amount + over)}" if over
               else f"max:{format_size(amount)}")
        return replace(s, holes=tuple(sorted(holes, key=lambda x: x.start)), dom0_mem=mem)
    relative = rng.choice(("-25%", "75%", "max:-512M", "1G+10%", "max:90%"))
    return replace(s, dom0_mem=relative)
