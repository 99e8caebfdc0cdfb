"""`rig regressions`: the registry (every entry's layout loads, its check exists, its sides are
whole), the plan of boots, and how the outcome of each entry is decided."""

from __future__ import annotations

from pathlib import Path

import pytest

from rig.cli import main
from rig.errors import UsageError
from rig.judge.check import CheckName, Status
from rig.judge.records import CheckRecord
from rig.judge.registry import (
    CHECKS,
    RegistryError,
    Regression,
    registry,
    registry_folder,
    select,
)
from rig.machine import build
from rig.model.kernel import FIX
from rig.output.cells import Cell, CellResult
from rig.output.regressions import Outcome, Report, Run, exit_code, junit_case
from rig.runner import regressions as rg
from tests.conftest import LOGS
from tests.corpus import judged


def test_the_registry_names_at_least_fourteen_fixes_with_their_commits() -> None:
    entries = registry()
    assert len(entries) >= 14
    assert sum(bool(e.commit) for e in entries) >= 11
    # rig's own findings: no commit, the fix a patch of rig's on the fixed side
    assert {e.id for e in entries if e.finding} == {
        "nvs-swap-target-unaligned", "extra-mem-unaligned", "extra-mem-table-full",
        "acpi-in-swapped-nvs", "start-info-page", "pvh-unusable-subpage",
        "pvh-unusable-partial-page"}
    # each Linux fix the model knows by name is in the registry with the same commit
    commits = {e.commit for e in entries}
    for name in ("nvs-swap", "nvs-swap-offset", "resolve-restart", "balloon-pvh-target",
                 "balloon-pv-partial-revert"):
        assert FIX[name].commit in commits, name
    for e in entries:
        assert e.layout.is_file() and e.check in CHECKS
        assert e.broken.cannot or e.broken.kernel or e.broken.source or e.broken.xen


def test_prove_boots_both_sides_where_it_can() -> None:
    default = rg.plan(rg.Request())
    assert [r.side for r in default] == ["fixed"] * len(registry())
    proof = rg.plan(rg.Request(prove=True))
    broken = {r.entry.id for r in proof if r.side == "broken"}
    # every entry is proven both ways here: none says it cannot be had
    assert broken == {e.id for e in registry()}
    given = rg.plan(rg.Request(kernel="6.1", only="amd-nvs-swap"))
    assert [(r.side, r.kernel, r.xen) for r in given] == [("given", "6.1", "4.20")]



def test_an_unknown_entry_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="no entry nope"):
        select(registry(), "nope")


def _run(entry: Regression, side: str, status: str, verdict: str = "fail") -> Run:
    doc = judged(LOGS / "rig-pci-hole-6.1.log")[1]
    doc.verdict = Status(verdict)
    doc.checks = [CheckRecord(name=entry.check, status=Status(status), message="m")]
    run = Run(entry, side, None, None)
    run.result = CellResult(Cell(0, ()), Path("/nonexistent"), 1, 1.0, doc)
    return run


def test_the_outcome_of_an_entry() -> None:
    e = next(x for x in registry() if x.id == "amd-nvs-swap")
    caught = Report(e, [_run(e, "fixed", "pass", "pass"), _run(e, "broken", "fail")])
    assert caught.outcome is Outcome.CAUGHT
    back = Report(e, [_run(e, "given", "fail")])
    assert back.outcome is Outcome.BACK and exit_code([back]) == 1
    missed = Report(e, [_run(e, "fixed", "pass", "pass"), _run(e, "broken", "pass")])
    assert missed.outcome is Outcome.MISSED
    unjudged = Report(e, [_run(e, "fixed", "incomplete")])
    assert unjudged.outcome is Outcome.UNJUDGED
    error = Report(e, [_run(e, "fixed", "pass", "error")])
    assert error.outcome is Outcome.ERROR and exit_code([caught, error]) == 125
    assert exit_code([caught]) == 0
    # a regression found back outweighs another entry's failed machine: git bisect run must
    # mark the commit bad, not skip it (issue 31)
    assert exit_code([back, error]) == 1 and exit_code([error, back, caught]) == 1
    name, _, kind, message = junit_case(missed)
    assert (name, kind) == ("amd-nvs-swap", "failure") and "be35d91c8880" in message


def test_list_names_every_entry(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["regressions", "--list"]) == 0
    out = capsys.readouterr().out
    for e in registry():
        assert e.id in out
    # a chain taken out of a source is listed in its order, with the options it is built with
    assert ("6.12 source − revert-5d00a11d484e − revert-b13cd24c15d7 − revert-0949c646d646 − "
            "revert-74287971dbb3 − revert-87af633689ce, pvh.config") in out
    assert "6.12 source + fix-swap-target-aligned" in out
    assert main(["regressions", "--only", "nope"]) == 2
    assert main(["regressions", "--prove", "--kernel", "6.1"]) == 2


def test_a_side_names_its_files_and_they_must_exist(tmp_path: Path) -> None:
    layouts = registry_folder() / "layouts"
    entry = (f'[[regression]]\nid = "x"\nyear = 2026\ncommit = "c"\ntitle = "t"\n'
             f'landed = "l"\nlayout = "{next(layouts.glob("*.toml")).stem}"\n'
             'check = "refusal"\nfixed = { kernel = "6.12" }\n')
    good = tmp_path / "good.toml"
    good.write_text(entry + 'broken = { source = "6.12", patch = ["revert-5d00a11d484e.patch", '
                    '"revert-b13cd24c15d7.patch"], config = "pvh.config" }\n')
    [e] = registry(good)
    assert e.broken.patches == ("revert-5d00a11d484e.patch", "revert-b13cd24c15d7.patch")
    assert e.broken.config == "pvh.config"
    bad = tmp_path / "bad.toml"
    bad.write_text(entry + 'broken = { source = "6.12", patch = "revert-5d00a11d484e.patch", '
                   'config = "nope.config" }\n')
    with pytest.raises(RegistryError, match=r"config = 'nope\.config': no such file"):
        registry(bad)
    alone = tmp_path / "alone.toml"
    alone.write_text(entry + 'broken = { kernel = "6.1", config = "pvh.config" }\n')
    with pytest.raises(RegistryError, match="only a side built from source"):
        registry(alone)


def test_a_xen_given_alone_boots_the_fixed_sides_build(monkeypatch: pytest.MonkeyPatch) -> None:
    """For a finding the fixed side is Debian's source with rig's patch: a Xen given alone
    boots that build, never the layout's Debian binary (which has the bug)."""
    built: list[tuple[Path, tuple[str, ...]]] = []

    def fake_build(src: Path, recipe: build.BuildRecipe) -> object:
        built.append((src, tuple(p.name for p in recipe.patches)))
        return type("Built", (), {"bzimage": Path("/built/bzImage")})()

    monkeypatch.setattr(build, "debian_source", lambda name, offline=False: Path(f"/src/{name}"))
    monkeypatch.setattr(build, "build", fake_build)
    runs = rg.plan(rg.Request(xen="4.17", only="extra-mem-unaligned"))
    rg.build_kernels(runs, rg.Request(xen="4.17"))
    assert built == [(Path("/src/6.12"), ("fix-extra-mem-whole-pages.patch",))]
    assert [(r.side, r.kernel, r.xen) for r in runs] == [("given", "/built/bzImage", "4.17")]


def _one_entry(tmp_path: Path, check: str) -> Path:
    """A registry of one entry, whole but for what it says its check is (``check``: TOML)."""
    layout = next((registry_folder() / "layouts").glob("*.toml")).stem
    path = tmp_path / "registry.toml"
    path.write_text('[[regression]]\nid = "typo"\nyear = 2026\ncommit = "c"\ntitle = "t"\n'
                    f'landed = "l"\nlayout = "{layout}"\ncheck = {check}\n'
                    'fixed = { kernel = "6.12" }\nbroken = { kernel = "6.1" }\n')
    return path


def test_an_entrys_check_is_one_of_rigs_when_the_registry_loads(tmp_path: Path) -> None:
    [e] = registry(_one_entry(tmp_path, '"refusal"'))
    assert e.check is CheckName.REFUSAL
    # a typo fails as the registry loads, naming the entry, the field and the value
    with pytest.raises(RegistryError) as typo:
        registry(_one_entry(tmp_path, '"nothing_los"'))
    assert str(typo.value) == (
        "registry.toml: regression[0].check = 'nothing_los' (entry 'typo'): rig makes no such "
        "check; expected one of " + ", ".join(CHECKS))
    assert "nothing_lost, refusal, " in str(typo.value)
    # a check rig makes, but not of a kernel or Xen against the model
    with pytest.raises(RegistryError, match=r"check = 'boot' \(entry 'typo'\): that check "
                       "does not judge a kernel"):
        registry(_one_entry(tmp_path, '"boot"'))
    # a value of the wrong type, or a field rig does not know, is named by msgspec's place
    with pytest.raises(RegistryError, match=r"Expected `str`, got `int` - at "
                       r"`\$\.regression\[0\]\.check`"):
        registry(_one_entry(tmp_path, "3"))
    unknown = _one_entry(tmp_path, '"refusal"')
    unknown.write_text(unknown.read_text().replace('check = "refusal"',
                                                   'check = "refusal"\ncheks = 1'))
    with pytest.raises(RegistryError, match=r"unknown field `cheks`"):
        registry(unknown)
