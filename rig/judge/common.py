"""The checks common to every judgement, PV or PVH, and what it ends with: the crash check,
whether rig's /init ran to the end, LAVA's own verdict when the log is a LAVA job's, and the
evidence rule for a PASS. Pure. (The verdict, the worst status that decides, is
rig.judge.check.verdict_of.)"""

from __future__ import annotations

from collections.abc import Sequence

from rig.judge.check import ACCOUNTING, COUNT, Check, CheckName, Status, verdict_of
from rig.judge.expect import Expect
from rig.parse.collect import ParsedLog
from rig.parse.crash import LINUX_CRASHES, Kind
from rig.parse.lava import INFRASTRUCTURE as LAVA_INFRASTRUCTURE
from rig.parse.lava import LavaInfo


def close(log: ParsedLog, checks: Sequence[Check], expect: Expect, refused: bool) -> list[Check]:
    """What every judgement ends with, PV or PVH, after ``checks``: whether rig's /init ran to
    the end, LAVA's own verdict when the log is a LAVA job's, and the evidence rule for a PASS
    (of ``checks`` and these)."""
    closing: list[Check] = []
    if expect is Expect.QUICK:
        closing.append(Check(CheckName.BOOT, Status.SKIP, None, None,
                             "quick mode: rig stopped once Linux's memory setup was over (its "
                             "last remap line, or Memory:) and Xen had given its count; /init, "
                             "the balloon and "
                             "what dom0 holds after boot were not judged"))
    if expect.init:
        closing.append(_init(log, refused))
    if log.lava is not None:
        closing.append(_lava(log.lava))
    if log.boot_starts:
        closing.append(_boots(log))
    evidence = _evidence([*checks, *closing], refused)
    if evidence is not None:
        closing.append(evidence)
    return closing


def _init(log: ParsedLog, refused: bool) -> Check:
    """Whether rig's /init ran to the end."""
    init = log.init
    if refused:
        return Check(CheckName.BOOT, Status.SKIP, "done", None,
                     "rig's /init never runs after dom0 refused the layout")
    if init.done:
        return Check(CheckName.BOOT, Status.PASS, "done", "done", "rig's /init ran to the end")
    seen = init.stages[-1] if init.stages else "none"
    return Check(CheckName.BOOT, Status.INCOMPLETE, "done", seen,
                 f"rig's /init did not finish (last stage: {seen})")


def _boots(log: ParsedLog) -> Check:
    """A log of several boots is judged by its last: the checks above are that boot's alone
    (judging a mix, one boot's dom0_mem against another's nr_pages, failed boots that were
    fine). The boots before it do not change the verdict; their crashes are said."""
    n, last = len(log.boot_starts) + 1, log.boot_starts[-1]
    fatal = [h for h in log.earlier_crashes if h.fatal]
    said = (f"; {len(fatal)} crash line(s) in the boots before it, the first {fatal[0].kind.value}"
            f" at line {fatal[0].line_no}: {fatal[0].text}") if fatal else \
        "; no crash line in the boots before it"
    return Check(CheckName.BOOTS, Status.WARN, 1, n, f"the log holds {n} boots: the last one, "
                 f"from line {last}, is judged{said}")


def _lava(info: LavaInfo) -> Check:
    """LAVA's own verdict on the job: a failure of the lab (its error types Infrastructure,
    Configuration, Bug, or a cancel) means the boot tested nothing (an error, exit 125); any
    other failure is the boot's, which the console's checks judge."""
    job = info.job
    failed = [r for r in info.results if r.result == "fail"]
    lab = [r for r in failed if r.error_type in LAVA_INFRASTRUCTURE]
    if lab:
        r = lab[0]
        return Check(CheckName.LAVA, Status.ERROR, "pass", r.result,
                     f"LAVA: {r.definition}/{r.case} failed with a {r.error_type} error "
                     f"({r.error_msg or 'no message'}): the lab failed, not the kernel")
    if job is None:
        return Check(CheckName.LAVA, Status.SKIP, message=f"LAVA's results ({info.source}) have no "
                     "job result (the job had not finished when the log was saved)")
    if failed:
        names = ", ".join(f"{r.definition}/{r.case}" for r in failed)
        return Check(CheckName.LAVA, Status.WARN, "pass", job.result,
                     f"LAVA reports {names} failed ({failed[0].error_type or 'no error type'}: "
                     f"{failed[0].error_msg or 'no message'}); rig judges the console itself")
    return Check(CheckName.LAVA, Status.PASS, "pass", job.result,
                 f"LAVA finished the job ({len(info.results)} result(s), none failed)")


def _evidence(checks: Sequence[Check], refused: bool) -> Check | None:
    """PASS needs the era's counts compared and dom0's pages accounted for."""
    if refused or verdict_of(checks) is not Status.PASS:
        return None
    passed = {c.evidence for c in checks if c.status is Status.PASS and c.evidence}
    lacking = []
    if COUNT not in passed:
        lacking.append("no count of the era's setup messages was compared with the model")
    if ACCOUNTING not in passed:
        lacking.append("dom0's pages were not accounted for (no balloon figure, no Xen 'q' "
                       "dump, no complete set of setup messages)")
    if not lacking:
        return None
    return Check(CheckName.EVIDENCE, Status.INCOMPLETE, message="a PASS needs evidence: "
                 + "; ".join(lacking))


def crash_check(log: ParsedLog, refusal: Check | None, expect: Expect,
                refused_by: tuple[Kind, ...] = (Kind.E820_CONFLICT, Kind.DOM0_HALT),
                explained: Check | None = None) -> Check:
    """``refusal``: a predicted refusal; when it passed, the crash lines of ``refused_by`` are
    the refusal (PV: Linux's BUG() and Xen's halt; PVH: Xen's panic when it cannot place a
    kernel that cannot be moved). ``explained``: a failed check that names the kernel bug
    behind the crash. A quick run's PASS says how far it looked: its log ends at Linux's memory
    setup, and a crash after it was never seen."""
    hits = [h for h in log.crashes if h.fatal]
    if refusal is not None and refusal.status is Status.PASS:
        # the refusal (and the halt that follows it) is what a correct machine does
        hits = [h for h in hits if h.kind not in refused_by]
    if not hits:
        return Check(CheckName.CRASH, Status.PASS, None, None, "no crash line" if expect is not
                     Expect.QUICK else "no crash line up to Linux's memory setup (its last "
                     "remap line, or Memory:, where a quick run stops; a crash after it is not "
                     "looked for)")
    hit = hits[0]
    if explained is None and refusal is not None and refusal.status is Status.FAIL \
            and (hit.kind in refused_by or hit.text in refusal.message):
        explained = refusal  # a refusal, or the fault the refusal check names by its line
    why = _says_why(explained) if explained is not None else ""
    return Check(CheckName.CRASH, Status.CRASH, None, hit.text,
                 f"{hit.kind.value} at line {hit.line_no}: {hit.text}{why}")


def _says_why(explained: Check) -> str:
    return f"; the {explained.name} check says why"


def explain_crash(checks: list[Check], explained: Check) -> None:
    """A check judged after the log's own (a live run's) that names the kernel bug behind a
    crash the crash check left unexplained: the crash check says so, as it does for its own."""
    for c in checks:
        if c.name == CheckName.CRASH and c.status is Status.CRASH \
                and "check says why" not in c.message:
            c.message += _says_why(explained)




#: the kernels whose XSAVE fallback writes through x86_task_fpu(init_task): 22aafe3bcb67
#: ("x86/fpu: Remove init_task FPU state dependencies, add debugging warning for PF_KTHREAD
#: tasks", Linux 6.16) left fpu__init_disable_system_xstate()'s fpstate_reset() behind
XSAVE_FALLBACK_BROKEN = (6, 16)


def xsave_fallback_check(log: ParsedLog, version: tuple[int, ...] | None) -> Check | None:
    """The kernel found the CPU's XSAVE sizes inconsistent ("XSAVE consistency problem"), took
    its fallback without XSAVE, and crashed: on 6.16+ that fallback resets init_task's FPU
    state, which it no longer has (a NULL write with CONFIG_X86_DEBUG_FPU): rig's sixth
    finding, docs/findings.md. The inconsistency itself is rig's machine's (QEMU 7.2's TCG does
    not honour Xen's XSETBV intercept, so Xen's CPUID leaf 0xD reports a stale size); 6.12
    goes on without XSAVE there. None when the kernel did not take the fallback or went on."""
    crashed = [h for h in log.crashes if h.fatal and h.kind in LINUX_CRASHES]
    if not log.linux.xsave_disabled or not crashed:
        return None
    if version is None or version < XSAVE_FALLBACK_BROKEN:
        return Check(CheckName.XSAVE_FALLBACK, Status.FAIL, "boot without XSAVE", crashed[0].text,
                     "the kernel found the CPU's XSAVE sizes inconsistent and crashed after "
                     "taking its fallback without XSAVE, which a kernel before 6.16 survives "
                     "(rig knows no bug there)")
    return Check(CheckName.XSAVE_FALLBACK, Status.FAIL, "boot without XSAVE", crashed[0].text,
                 "the kernel found the CPU's XSAVE sizes inconsistent (\"XSAVE consistency "
                 "problem\": the machine's CPUID leaf 0xD, rig's QEMU's doing) and crashed in "
                 "the fallback that should boot it without XSAVE: since 22aafe3bcb67 (6.16) "
                 "fpu__init_disable_system_xstate() still calls "
                 "fpstate_reset(x86_task_fpu(current)) for init_task, which has no FPU state "
                 "(x86_task_fpu() returns NULL with CONFIG_X86_DEBUG_FPU: a write at 0x10). "
                 "Known: rig's finding (README, Findings), which no kernel fixes yet: "
                 "rig/regressions/fix-fpu-xsave-disable.patch")
