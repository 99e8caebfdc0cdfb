"""`rig fuzz`'s generator: valid scenarios, the same ones for the same seed, and every kind of
layout the issue asks for appears."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from rig.domain.scenario import validate
from rig.domain.scenario_file import load
from rig.judge.check import CheckName, Status
from rig.judge.records import CheckRecord
from rig.layouts.drawn import Draw, generate, one
from rig.model.firmware import firmware_problem
from rig.runner.fuzz import Disagreement, disagreements
from tests.conftest import LOGS
from tests.corpus import judged
from tests.recorded import BOOTS, rejudge


def test_same_seed_same_scenarios_and_prefixes_agree() -> None:
    a = [s.to_toml() for s in generate(1, 12)]
    assert a == [s.to_toml() for s in generate(1, 12)]
    assert a[:5] == [s.to_toml() for s in generate(1, 5)]
    assert a != [s.to_toml() for s in generate(2, 12)]
    assert one(1, 7).to_toml() == a[7]


def test_every_scenario_is_valid_and_loads_back(tmp_path: Path) -> None:
    for s in generate(3, 60):
        validate(s)
        path = tmp_path / f"{s.name}.toml"
        path.write_text(s.to_toml())
        assert load(str(path)) == s
        assert 1 << 30 <= s.memory <= 64 << 30


def test_the_draws_cover_the_space() -> None:
    scenarios = generate(5, 200)
    holes = [h for s in scenarios for h in s.holes]
    assert {s.machine_type for s in scenarios} == {"pc", "q35"}
    assert any(s.qemu_machine == "pc-i440fx-1.7" for s in scenarios)  # low RAM past 3 GiB
    assert any(h.start >= 1 << 32 for h in holes)  # holes above 4 GiB
    assert any(h.kind == "badram" for h in holes)
    assert {h.kind for h in holes} == {"gap", "badram", "reserved", "acpi", "nvs", "unusable"}
    assert any(h.start % 4096 or h.size % 4096 for h in holes)  # typed entries at bytes
    # entries on Xen's allocations for dom0 (16 MiB to past 6.1's image)
    assert any(h.kind != "gap" and 0x1000000 <= h.start < 0x4C00000 for h in holes)
    assert all(firmware_problem(s) is None for s in scenarios)
    assert min(len(s.holes) for s in scenarios) == 0
    assert max(len(s.holes) for s in scenarios) >= 12
    forms = {("none" if s.dom0_mem is None else
              ",".join(sorted(p.split(":")[0] if ":" in p else "amount"
                              for p in s.dom0_mem.split(","))))
             for s in scenarios}
    assert forms >= {"none", "amount", "amount,max", "max", "min", "max,min", "amount,min"}


def test_disagreements_name_who_disagrees() -> None:
    doc = judged(LOGS / "rig-pci-hole-6.1.log")[1]
    doc.checks = [CheckRecord(name=n, status=Status(st), message=m) for n, st, m in (
        (CheckName.REMAPPED, "fail", "m"), (CheckName.NR_PAGES, "pass", ""),
        (CheckName.FIRMWARE, "warn", "f"), (CheckName.LAYOUT, "error", "l"))]
    got = [(n, who) for n, _, who, _ in disagreements(doc)]
    assert got == [(CheckName.REMAPPED, "kernel"), (CheckName.FIRMWARE, "firmware"),
                   (CheckName.LAYOUT, "Xen (the machine)")]
    doc.checks = [CheckRecord(name="x", status=Status.PASS)]
    assert disagreements(doc) == []
    assert disagreements(None)[0][1] == "error"


def test_a_refusal_for_want_of_a_later_fix_is_explained() -> None:
    """A kernel whose version predates a fix refuses what a correct kernel boots: a known bug,
    fixed later; the crash and the counts never printed are what it leaves."""
    known = ("dom0 refused a layout a correct kernel boots: ... (line 141: ...). Known: this "
             "kernel's version predates be35d91c8880 (6.1.192)")
    checks: list[tuple[str, str, str, str]] = [
        (CheckName.CRASH, "crash", "kernel", "e820-conflict at line 141"),
        (CheckName.REFUSAL, "fail", "kernel", known),
        (CheckName.REMAPPED, "incomplete", "kernel", "no 'Remapped N page(s)' line"),
        (CheckName.CONSOLE, "crash", "boot", "e820-conflict during stage linux")]
    assert Disagreement("s", "crash", checks, "f").explained
    unknown = [(n, st, w, m.replace("Known:", "")) for n, st, w, m in checks]
    assert not Disagreement("s", "crash", unknown, "f").explained
    # a count that differs is never explained by a refusal elsewhere
    assert not Disagreement("s", "crash", [*checks, (CheckName.RELEASED, "fail", "kernel", "x")],
                            "f").explained


def test_a_bug_of_rigs_findings_is_explained() -> None:
    """The extra-memory BUG (tests/recorded/extra-mem-unaligned-6.12): a known bug, rig's own
    finding, not a disagreement to chase again."""
    [folder] = [b for b in BOOTS if b.name == "extra-mem-unaligned-6.12"]
    doc = rejudge(folder)[0]
    checks: list[tuple[str, str, str, str]] = [
        (c.name, str(c.status.value), "kernel", c.message) for c in doc.checks
        if c.status.value in ("fail", "crash", "incomplete", "error", "warn")]
    assert (CheckName.EXTRA_MEM, "fail") in [(n, st) for n, st, _, _ in checks]
    assert Disagreement("s", "crash", checks, "f").explained


def test_pvh_mode_draws_q35_layouts_only() -> None:
    pvh = Draw(kernel="6.12", xen="4.20", mode="pvh")
    scenarios = generate(1, 20, pvh)
    assert {s.machine_type for s in scenarios} == {"q35"}
    assert {s.dom0_mode for s in scenarios} == {"pvh"}
    assert [s.to_toml() for s in scenarios] == [s.to_toml() for s in generate(1, 20, pvh)]
    for s in scenarios:
        validate(s)


def test_aimed_draws_thin_the_by_design_refusal_and_reach_the_table_overflow() -> None:
    """--aim redraws three in four layouts that every kernel must refuse (a reserved or ACPI
    data entry where Xen puts the kernel), and draws finding 2's table-overflow shape
    (dom0_mem=X,max:Y above an entry whose end is a byte). Counted on 200 layouts of the
    12-06 campaign's seed: 64 refusals plain, 24 aimed; 5 overflows plain, 23 aimed."""
    from rig.layouts.drawn import _refused_by_design
    from rig.model.coverage import coverage

    plain = generate(20261206, 200, Draw(kernel="7.2", xen="4.20"))
    aimed = generate(20261206, 200, Draw(kernel="7.2", xen="4.20", aim=True))
    assert sum(map(_refused_by_design, aimed)) * 2 < sum(map(_refused_by_design, plain))
    rule = "model: E820 table overflows (finding 2)"
    assert coverage(aimed)[rule] > 3 * coverage(plain)[rule]


def test_a_shard_takes_every_nth_scenario(tmp_path: Path) -> None:
    """`rig fuzz N --seed S --shard I/N`: CI jobs with the same seed boot one campaign between
    them, each scenario once."""
    from rig.runner.fuzz import FuzzRequest, prepare

    names = [[s.name for s in prepare(FuzzRequest(10, 5, folder=tmp_path / str(i),
                                                  shard=f"{i}/3")).scenarios]
             for i in (1, 2, 3)]
    assert names[1] == ["fuzz-5-001", "fuzz-5-004", "fuzz-5-007"]
    assert sorted(n for shard in names for n in shard) == [f"fuzz-5-{i:03d}" for i in range(10)]


def test_aimed_draws_cross_what_xen_allocates_for_the_kernel() -> None:
    """Given the kernel's allocations (rig.model.xen_pv; Debian's 7.2.13: image to 0x4800000,
    start info, page tables to 0x482a000, as its boots' Xen logs say), aimed draws put small
    entries across their bounds; the plain draw is not changed by them."""
    targets = ((0x1000000, 0x4800000), (0x4800000, 0x4801000), (0x4801000, 0x482A000))
    bounds = {b for t in targets for b in t}
    draw = Draw(kernel="7.2", xen="4.20")
    aimed = generate(20261207, 200, replace(draw, aim=True, targets=targets))
    across = [s for s in aimed if any(h.start < b < h.end or h.start == b for h in s.holes
                                      for b in bounds)]
    assert len(across) > 20, len(across)
    assert generate(20261207, 20, replace(draw, targets=targets)) == generate(20261207, 20, draw)
