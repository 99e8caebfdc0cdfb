"""The balloon's target at /init against the model (rig.model.balloon). Pure."""

from __future__ import annotations

from rig.judge.check import Check, CheckName, Status
from rig.judge.expect import Expect
from rig.parse.collect import ParsedLog
from rig.parse.crash import Kind


def balloon_target(log: ParsedLog, want: dict[int, str], expect: Expect,
                   own_kb: int | None = None, lacking: str = "",
                   driver: bool | None = None) -> Check:
    """``want``: the targets a correct kernel may start from, in kB, each with the rule that
    gives it (no toolstack sets another: it is what dom0_mem's amount gave dom0); ``own_kb``:
    the model's for a kernel with only the fixes its version carries (``lacking``: the
    balloon fixes it has not), to say what a wrong target is; ``driver``: the kernel is built
    with CONFIG_XEN_BALLOON (None: its configuration is not known)."""
    balloon = log.init.balloon_kb
    target = balloon.get("target_kb")
    gave_up = next((h for h in log.crashes if h.kind is Kind.BALLOON_UNDERFLOW), None)
    if gave_up is not None:
        return Check(CheckName.BALLOON_TARGET, Status.FAIL, next(iter(want), None), None,
                     f"the balloon driver gave up at boot (line {gave_up.line_no}: "
                     f"{gave_up.text}): dom0 has no balloon")
    expected: object = next(iter(want)) if len(want) == 1 else sorted(want)
    if not want:
        return Check(CheckName.BALLOON_TARGET, Status.SKIP, None, target,
                     "the balloon's start is not modelled for this kernel")
    if expect is Expect.QUICK:
        return Check(CheckName.BALLOON_TARGET, Status.SKIP, expected, target,
                     "quick mode: rig stopped before the balloon driver ran")
    if target is None and driver and log.init.done and "target_kb" in log.init.balloon_missing:
        # balloon_init() returned before it made the device: e.g. balloon_add_regions() with
        # the extra regions reaching the current pages (-ERANGE, a kernel without 5d00a11d484e
        # and CONFIG_XEN_UNPOPULATED_ALLOC); its WARN is printed only with CONFIG_BUG, which
        # rig's minimal dom0 leaves out, so the missing device may be all that shows
        return Check(CheckName.BALLOON_TARGET, Status.FAIL, expected, None,
                     "dom0's kernel is built with CONFIG_XEN_BALLOON but has no balloon: /init "
                     "found no xen_memory0 (balloon_init() gave up at boot)")
    if target is None:
        status = Status.INCOMPLETE if expect.init else Status.SKIP
        return Check(CheckName.BALLOON_TARGET, status, expected, None,
                     "no balloon target in the log (rig's /init prints target_kb)")
    current = balloon.get("current_kb")
    settled = ("" if current is None or current == target else
               f"; the balloon had not reached it after {log.init.settle_s or 0} s "
               f"(current_kb {current})")
    if target in want:
        return Check(CheckName.BALLOON_TARGET, Status.PASS, expected, target,
                     f"the balloon's target is {target} kB, what dom0_mem's amount gave dom0 "
                     f"({want[target]}){settled}")
    why = ""
    if own_kb is not None and own_kb == target and lacking:
        why = (f"; it is what the model gives a kernel without {lacking}. Known: this kernel's "
               "version predates them")
    rules = "; ".join(f"{kb} kB: {rule}" for kb, rule in sorted(want.items()))
    return Check(CheckName.BALLOON_TARGET, Status.FAIL, expected, target,
                 f"the balloon's target is {target} kB, not what dom0_mem's amount gave dom0 "
                 f"({rules}){why}{settled}")
