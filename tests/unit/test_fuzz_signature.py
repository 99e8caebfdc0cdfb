"""Disagreements deduplicated by signature (issue 32), as syzkaller names a crash by its title:
the same check failing the same way is one signature whatever the numbers; a BUG at another
source line is another."""

from __future__ import annotations

from rig.judge.check import CheckName
from rig.runner.fuzz import Disagreement, disagreements, signature, signatures
from tests.recorded import BOOTS, rejudge

#: a disagreeing check: (name, status, who, message)
Seen = tuple[str, str, str, str]

BUG_95: Seen = (CheckName.CRASH, "crash", "kernel", "linux-bug at line 412: kernel BUG at "
                "arch/x86/xen/setup.c:95!; the extra_mem check says why")
EXTRA: Seen = (CheckName.EXTRA_MEM, "fail", "kernel", "line 412: kernel BUG at "
               "arch/x86/xen/setup.c:95!: the remap puts a page at pfn 0x913e0, but the "
               "extra-memory region 72e1a-74b1d holds 7427 page(s)")


def test_numbers_do_not_split_a_signature_but_sites_do() -> None:
    other_numbers = [(n, s, w, m.replace("412", "977").replace("0x913e0", "0x7f")
                      .replace("72e1a-74b1d", "7ffde-82000"))
                     for n, s, w, m in (BUG_95, EXTRA)]
    assert signature([BUG_95, EXTRA]) == signature(other_numbers)
    assert signature([EXTRA, BUG_95]) == signature([BUG_95, EXTRA])  # order is no part
    other_site = [(n, s, w, m.replace("setup.c:95", "setup.c:136")) for n, s, w, m in
                  (BUG_95, EXTRA)]
    assert signature(other_site) != signature([BUG_95, EXTRA])
    assert signature([BUG_95]) != signature([BUG_95, EXTRA])  # another set of checks


def test_signatures_count_layouts_and_keep_the_first_reproducer() -> None:
    found = [Disagreement(f"fuzz-1-00{i}", "crash", [BUG_95, EXTRA], f"/r/{i}") for i in range(3)]
    found.append(Disagreement("fuzz-1-009", "fail", [(CheckName.REMAPPED, "fail", "kernel", "x")],
                              "/r/9"))
    sigs = signatures(found)
    assert [s["count"] for s in sigs] == [3, 1]
    assert sigs[0]["reproducer"] == "/r/0"
    assert sigs[0]["checks"] == [CheckName.CRASH, CheckName.EXTRA_MEM]
    assert sigs[0]["scenarios"] == ["fuzz-1-000", "fuzz-1-001", "fuzz-1-002"]


def test_a_console_line_cut_short_is_the_same_signature() -> None:
    """The console check quotes the live line when the crash pattern matched, sometimes before
    the rest of it arrived (seed 4242's BUG: "... at arch/x86/xen/setup" once, "setup.c:95!"
    on a replay): the minimiser took the two for different outcomes."""
    cut: list[Seen] = [(CheckName.CONSOLE, "crash", "boot", "linux-bug during stage linux: "
                        "[    4.613521] kernel BUG at arch/x86/xen/setup")]
    whole: list[Seen] = [(CheckName.CONSOLE, "crash", "boot", "linux-bug during stage linux: "
                          "[    4.039787] kernel BUG at arch/x86/xen/setup.c:95!")]
    assert signature(cut) == signature(whole)
    halt: list[Seen] = [(CheckName.CONSOLE, "crash", "boot",
                         "dom0-halt during stage linux: (XEN) Hardware Dom0")]
    assert signature(cut) != signature(halt)


def test_xens_bug_is_xens_and_explained() -> None:
    """rig's fifth finding as a campaign sees it: the crash is Xen's, and the nr_pages check
    that names the bug explains the checks the kernel never got to."""
    [folder] = [b for b in BOOTS if b.name == "xen-dom0-mem-all-free-4.20.4"]
    found = disagreements(rejudge(folder)[0])
    who = {name: w for name, _, w, _ in found}
    assert who[CheckName.CRASH] == "Xen" and who[CheckName.NR_PAGES] == "Xen"
    assert Disagreement("s", "crash", found, "f").explained
    # without the check that names it, the same crash is open
    unnamed = [c for c in found if c[0] != CheckName.NR_PAGES]
    assert not Disagreement("s", "crash", unnamed, "f").explained
