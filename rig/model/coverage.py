"""What a fuzz campaign's layouts exercised, rule by rule of rig's model (issue 32): the
machines, the kinds and places of entries, the dom0_mem forms, and what the model predicts of
each layout (its era's remap, a refusal, an NVS swap, rig's second finding). Counted from the
scenarios and the model alone, before or without a boot; a rule at 0 is what a campaign has not
tried yet. Pure."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from rig.domain.dom0mem import Dom0Mem
from rig.domain.scenario import HOLE_KINDS, Scenario
from rig.domain.units import GIB4, PAGE_SIZE
from rig.model.kernel import ALL_FIXES
from rig.model.prediction import ScenarioPrediction, predict_scenario
from rig.model.pv import predict

#: every rule counted, in the order a summary lists them (a rule never hit still shows)
RULES: tuple[str, ...] = (
    "machine pc", "machine q35", "dom0 pv", "dom0 pvh",
    *(f"entry {k}" for k in HOLE_KINDS),
    "entry below 4 GiB", "entry above 4 GiB", "entry bound inside a page",
    "entries sharing a page", "entry below nr_pages", "entry across nr_pages",
    "dom0_mem none", "dom0_mem amount", "dom0_mem min:", "dom0_mem max:",
    "dom0_mem negative", "dom0_mem percent",
    "model remaps pages", "model refuses (a non-NVS entry in dom0's place)",
    "model swaps NVS", "model: extra memory a page short (finding 2)",
    "model: E820 table overflows (finding 2)",
)
#: the rules that need the kernel's image (where Xen puts it): a key's layout is known once
#: booted, so a campaign counts them from its boots' judgements (rig.runner.fuzz)
BOOTED = ("model refuses (a non-NVS entry in dom0's place)", "model swaps NVS")


def rules_of(s: Scenario) -> set[str]:
    """The rules one layout exercises."""
    out = {f"machine {s.machine_type}", f"dom0 {s.dom0_mode}"}
    out |= {f"entry {h.kind}" for h in s.holes}
    out |= {"entry below 4 GiB" if h.start < GIB4 else "entry above 4 GiB" for h in s.holes}
    if any(h.start % PAGE_SIZE or h.end % PAGE_SIZE for h in s.holes):
        out.add("entry bound inside a page")
    ordered = sorted(s.holes, key=lambda h: h.start)
    if any((b.start // PAGE_SIZE) == ((a.end - 1) // PAGE_SIZE)
           for a, b in itertools.pairwise(ordered)):
        out.add("entries sharing a page")
    out |= _dom0_mem(s.dom0_mem)
    if s.dom0_mode != "pv":
        return out
    sp = predict_scenario(s)
    if sp.nr_pages is not None:
        top = sp.nr_pages * PAGE_SIZE
        if any(h.start < top for h in s.holes):
            out.add("entry below nr_pages")
        if any(h.start < top < h.end for h in s.holes):
            out.add("entry across nr_pages")
    return out | _model_rules(sp)


def _model_rules(sp: ScenarioPrediction) -> set[str]:
    """The rules of the model a layout's prediction exercises."""
    out: set[str] = set()
    p = sp.prediction
    if p is None:
        return out
    if p.remapped_pages:
        out.add("model remaps pages")
    if p.kernel_conflict is not None or p.conflict is not None:
        out.add("model refuses (a non-NVS entry in dom0's place)")
    if p.resolution is not None and p.resolution.swaps:
        out.add("model swaps NVS")
    # rig's second finding: where a kernel without its fix would BUG or overflow its table
    # (a correct one not)
    lacking = predict(sp.machine_map, p.nr_pages, p.max_pages, p.kernel_version, None,
                      ALL_FIXES - {"extra-mem-whole-pages"})
    if lacking.short_region is not None:
        out.add("model: extra memory a page short (finding 2)")
    if lacking.table_full is not None:
        out.add("model: E820 table overflows (finding 2)")
    return out


def _dom0_mem(text: str | None) -> set[str]:
    if not text:
        return {"dom0_mem none"}
    m = Dom0Mem.parse(text)
    out = set()
    for part, rule in ((m.amount, "dom0_mem amount"), (m.min, "dom0_mem min:"),
                       (m.max, "dom0_mem max:")):
        if part is not None:
            out.add(rule)
            if part.minus:
                out.add("dom0_mem negative")
            if part.percent:
                out.add("dom0_mem percent")
    return out


def coverage(scenarios: Iterable[Scenario]) -> dict[str, int]:
    """How many layouts exercised each rule (every rule listed, 0 included)."""
    counts = dict.fromkeys(RULES, 0)
    for s in scenarios:
        for rule in rules_of(s):
            counts[rule] = counts.get(rule, 0) + 1
    return counts
