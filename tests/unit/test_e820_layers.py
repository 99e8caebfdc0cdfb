"""The firmware model's map algebra (rig.domain.e820.sanitize, rig.model.firmware.with_entries
and punch) against a brute force over every elementary piece: the sweep must give the same
maps on random layouts (issue 34: the old per-bound scan was cubic in the entries)."""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence

from rig.domain.e820 import E820Entry, E820Type, sanitize
from rig.domain.scenario import TYPED
from rig.model.firmware import HoleSpec, punch, with_entries

KIND: dict[E820Type | None, str] = {t: k for k, t in TYPED.items()}
TYPES = [E820Type.RAM, E820Type.RESERVED, E820Type.ACPI, E820Type.NVS, E820Type.UNUSABLE]
RANK = {t: i for i, t in enumerate(E820Type)}


Layer = tuple[int, int, int, E820Type | None]


def brute(layers: Sequence[Layer]) -> list[E820Entry]:
    """Highest priority wins at each piece between bounds (later in the list on a tie)."""
    bounds = sorted({b for _, lo, hi, _ in layers for b in (lo, hi)})
    out: list[E820Entry] = []
    for lo, hi in itertools.pairwise(bounds):
        over = [(p, i, t) for i, (p, a, b, t) in enumerate(layers) if a <= lo and b >= hi]
        if not over or (kind := max(over, key=lambda x: (x[0], x[1]))[2]) is None:
            continue
        if out and out[-1].type is kind and out[-1].end == lo:
            out[-1] = E820Entry(out[-1].start, hi, kind)
        else:
            out.append(E820Entry(lo, hi, kind))
    return out


def entries(rng: random.Random, n: int) -> list[E820Entry]:
    out = []
    for _ in range(n):
        a = rng.randrange(0, 64) * 0x1000
        out.append(E820Entry(a, a + rng.randrange(1, 16) * 0x1000, rng.choice(TYPES)))
    return out


def test_sanitize_lets_the_larger_type_win() -> None:
    rng = random.Random(34)
    for _ in range(300):
        es = entries(rng, rng.randrange(0, 12))
        assert sanitize(es) == brute([(RANK[e.type], e.start, e.end, e.type) for e in es])


def test_entries_apply_in_order_over_the_firmware() -> None:
    rng = random.Random(35)
    for _ in range(300):
        fw = entries(rng, 4)
        holes = [HoleSpec(e.start, e.end, KIND.get(rng.choice([*TYPES[1:], None]), "gap"))
                 for e in entries(rng, rng.randrange(0, 10))]
        want = brute([(0, e.start, e.end, e.type) for e in sanitize(fw)]
                     + [(i, h.start, h.end, h.type) for i, h in enumerate(holes, 1)])
        assert with_entries(fw, holes) == want


def test_punch_takes_ram_only() -> None:
    rng = random.Random(36)
    for _ in range(300):
        fw = entries(rng, 5)
        holes = [HoleSpec(e.start, e.end, "gap") for e in entries(rng, rng.randrange(0, 8))]
        base = sanitize(fw)
        cut: list[Layer] = [(0, e.start, e.end, e.type) for e in base]
        # a gap over RAM only: typed entries stay
        cut += [(1, max(h.start, e.start), min(h.end, e.end), None) for h in holes for e in base
                if e.is_ram and h.start < e.end and h.end > e.start]
        assert punch(fw, holes) == brute(cut)
