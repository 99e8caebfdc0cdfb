"""The simplifications ``rig fuzz --minimise`` tries (rig.runner.minimise boots them): each
one step smaller than a layout and allowed by the scenario rules. Pure."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from rig.domain.scenario import Hole, Scenario, ScenarioError, validate
from rig.domain.units import PAGE_SIZE, format_size

#: the smallest machine a try goes down to
MIN_MEMORY = 1 << 30



def tries(s: Scenario) -> Iterator[tuple[str, Scenario]]:
    """Each single simplification of ``s`` that its rules allow, with what it does."""
    return ((what, t) for what, t in _every(s) if _allowed(t))


def _every(s: Scenario) -> Iterator[tuple[str, Scenario]]:
    for i, h in enumerate(s.holes):
        yield f"drop holes[{i}] ({h.kind} at {h.start:#x})", \
            replace(s, holes=s.holes[:i] + s.holes[i + 1:])
    for i, h in enumerate(s.holes):
        start = h.start - h.start % PAGE_SIZE
        end = -(-h.end // PAGE_SIZE) * PAGE_SIZE
        if (start, end) != (h.start, h.end):
            aligned = Hole(start, end - start, h.kind, h.acpi_table)
            yield f"holes[{i}] ({h.kind} at {h.start:#x}) on pages", replace(s, holes=(
                *s.holes[:i], aligned, *s.holes[i + 1:]))
    if s.memory // 2 >= MIN_MEMORY:
        below = None if s.below_4g is None else min(s.below_4g, s.memory // 2)
        yield f"memory {format_size(s.memory // 2)}", replace(s, memory=s.memory // 2,
                                                               below_4g=below)
    if s.dom0_mem:
        parts = s.dom0_mem.split(",")
        for word in ("max:", "min:"):
            kept = [p for p in parts if not p.startswith(word)]
            if kept != parts:
                yield f"dom0_mem {','.join(kept) or '(none)'}", \
                    replace(s, dom0_mem=",".join(kept) or None)
        yield "no dom0_mem", replace(s, dom0_mem=None)
    if s.machine_type == "q35":
        yield "pc machine", replace(s, machine_type="pc")


def _allowed(s: Scenario) -> bool:
    try:
        validate(s)
    except ScenarioError:
        return False
    return True


