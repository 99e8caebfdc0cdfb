"""Judge a parsed log: the one judge of ``rig parse`` (a log from anywhere) and ``rig run``
(rig's own saved console log). Pure.

The first rule: every expected value comes from what the machine gave dom0 (rig.judge.inputs),
never from what the judged kernel printed. A PASS needs evidence (rig.judge.common): the era's
counts predicted and observed equal, and dom0's pages accounted for.
"""

from __future__ import annotations

from rig.judge.expect import Expect
from rig.judge.inputs import inputs
from rig.judge.judgement import Judgement
from rig.judge.pv import judge_pv
from rig.judge.pvh import judge_pvh
from rig.model.kernel import BootedKernel
from rig.parse.collect import ParsedLog


def judge(
    log: ParsedLog,
    *,
    dom0_mem: str | None = None,
    expect: Expect = Expect.SAVED,
    booted: BootedKernel | None = None,
) -> Judgement:
    """Judge a parsed log. ``dom0_mem`` stands in for Xen's command line when the log has none;
    ``booted``: what a live run knows of the kernel from its artifact (configuration, release,
    the image's layout); ``expect`` says what the log must hold (rig's own boots: /init's
    report and Xen's count, or in quick mode Xen's count after Linux's setup)."""
    inp = inputs(log, dom0_mem, booted or BootedKernel())
    if log.xen.dom0_kind == "PVH":
        return judge_pvh(log, inp, expect)
    return judge_pv(log, inp, expect)
