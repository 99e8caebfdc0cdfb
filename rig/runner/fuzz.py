"""``rig fuzz N --seed S``: random valid layouts (rig.layouts.drawn), each booted, every
disagreement between rig's model, the kernel and Xen kept as a reproducer (the scenario TOML,
its log and its result), the way syzkaller keeps reproducers."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from rig.domain.scenario import Scenario
from rig.domain.units import format_size
from rig.errors import RigError, UsageError
from rig.judge.check import CheckName, Status
from rig.judge.records import ScenarioRecord
from rig.judge.result import Result
from rig.layouts.drawn import MAX_DRAWN_MEMORY, Draw, generate
from rig.machine import build
from rig.model.coverage import BOOTED, coverage
from rig.output.cells import Cell, CellResult
from rig.output.paths import check_output_dir
from rig.parse.crash import Kind
from rig.runner.matrix import expect, run_matrix, shard
from rig.runner.run import results_folder

#: what each check's disagreement means: who disagrees with rig's model (who(): rig, for a
#: check not listed)
WHO = {
    CheckName.REMAPPED: "kernel", CheckName.RELEASED: "kernel", CheckName.POPULATED: "kernel",
    CheckName.NOTHING_LOST: "kernel", CheckName.SETUP: "kernel", CheckName.REFUSAL: "kernel",
    CheckName.CRASH: "kernel", CheckName.NR_PAGES: "Xen", CheckName.XEN_ACCOUNTING: "Xen",
    CheckName.LAYOUT: "Xen (the machine)", CheckName.FIRMWARE: "firmware",
    CheckName.PREDICTED_REMAP: "firmware", CheckName.MODEL: "rig", CheckName.BOOT: "boot",
    CheckName.CONSOLE: "boot", CheckName.PVH_MAP: "Xen", CheckName.LINUX_MAP: "kernel",
    CheckName.PREDICTED_PVH: "rig", CheckName.EXTRA_MEM: "kernel", CheckName.XEN_BUILD: "rig",
    CheckName.XSAVE_FALLBACK: "kernel",
}
#: what the refusal and extra_mem checks say of a kernel that lacks a fix its version predates,
#: or has a bug of rig's findings (rig.judge.pv._known), and xen_build of a map Xen cannot use
KNOWN_FIX = ("Known: this kernel's version predates", "Known: rig's finding",
             "Known: a layout Xen's PV builder cannot boot")
#: the checks that name a known bug (nr_pages: Xen's, rig's fifth finding) or a known layout
#: no kernel can be tested on (xen_build: Xen's PV builder cannot use the map, rig's error)
KNOWN_BY = (CheckName.REFUSAL, CheckName.EXTRA_MEM, CheckName.NR_PAGES, CheckName.XEN_BUILD,
            CheckName.XSAVE_FALLBACK)
#: the checks a known bug leaves failing: the NVS it did not move (rig's fourth finding: the
#: kernel printed its map with the entry where the firmware put it, then faulted), the PVH
#: map it dropped for e801's (rig's seventh)
LEFT_BY = (CheckName.NONRAM_MOVED, CheckName.LINUX_MAP)
#: the statuses that are a disagreement (warnings: rig's own model being off)
DISAGREE = (Status.FAIL, Status.CRASH, Status.ERROR, Status.INCOMPLETE, Status.WARN)


#: what a disagreement's signature keeps of a message: source sites (setup.c:95) as they are,
#: every other number (addresses, counts, sizes, times) as N
_SITE = re.compile(r"\b[\w/.-]+\.[chS]:\d+\b")
#: (hex words too: the kernel prints pfn ranges as 72e1a-74b1d, no 0x)
_NUMBER = re.compile(r"\b(?:0x[0-9a-fA-F]+|[0-9a-fA-F]*\d[0-9a-fA-F]*(?:\.\d+)?)\b")


def signature(checks: list[tuple[str, str, str, str]]) -> str:
    """What makes two disagreements the same (syzkaller's crash title, here per check): each
    disagreeing check's name and status, and its message with the numbers taken out but the
    source sites kept (a BUG at setup.c:95 is not one at p2m.c:873). 12 hex digits."""
    parts = []
    for name, status, _, message in sorted(checks):
        if name == CheckName.CONSOLE:
            # "linux-bug during stage linux: <the line>": the line is quoted as the console
            # had it when the crash pattern matched, sometimes cut short; the crash check
            # holds the whole line
            message = message.split(": ", 1)[0]
        sites = _SITE.findall(message)
        words = _NUMBER.sub("N", _SITE.sub("SITE", message))[:160]
        parts.append(f"{name}={status}:{words}:{','.join(sites)}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


@dataclass
class Disagreement:
    scenario: str
    verdict: str
    #: (check, status, who disagrees with rig's model, message)
    checks: list[tuple[str, str, str, str]]
    folder: str

    @property
    def signature(self) -> str:
        return signature(self.checks)

    @property
    def explained(self) -> bool:
        """Every check is a warning whose cause rig knows and names ("Known: ..."), or the
        kernel refused a layout (or halted, or BUGged) for want of a fix its version predates
        (rig.model.kernel.FIXES: a known bug, fixed later) or by one of rig's findings, and the
        rest is what that leaves: the crash line, the console's end, the counts never
        printed, the entries never moved."""
        known_fix = any(n in KNOWN_BY and st in ("fail", "error")
                        and any(k in m for k in KNOWN_FIX) for n, st, _, m in self.checks)
        return all((st == "warn" and "Known:" in m)
                   or (known_fix and (n in KNOWN_BY or n in LEFT_BY or
                                      st in ("crash", "incomplete")))
                   for n, st, _, m in self.checks)

    def to_json(self) -> dict[str, object]:
        return {"scenario": self.scenario, "verdict": self.verdict, "folder": self.folder,
                "explained": self.explained, "signature": self.signature,
                "checks": [{"name": n, "status": st, "who": w, "message": m}
                           for n, st, w, m in self.checks]}


def disagreements(doc: Result | None) -> list[tuple[str, str, str, str]]:
    """The checks of one boot where the kernel, Xen or the firmware did not do what rig's
    model said (fail, crash, error, incomplete, and warnings: rig's own model being off)."""
    if doc is None:
        return [("result", "error", "rig", "the boot left no result document")]
    return [(c.name, c.status.label, who(c.name, c.message), c.message)
            for c in doc.checks if c.status in DISAGREE]


def who(name: str, message: str = "") -> str:
    """Who disagrees with rig's model when the check of a document's ``name`` disagrees (a
    crash: Xen's when Xen panicked, by the crash check's message, else the kernel's)."""
    known = CheckName.of(name)
    if known is CheckName.CRASH and message.startswith(Kind.XEN_PANIC.value):
        return "Xen"
    return WHO.get(known, "rig") if known is not None else "rig"


@dataclass
class FuzzRequest:
    count: int
    seed: int
    kernel: str = "6.1"
    xen: str = "4.17"
    max_memory: int = MAX_DRAWN_MEMORY
    jobs: int = 1
    results: Path | None = None
    accel: str = "auto"
    offline: bool = False
    mode: str = "pv"
    #: each boot stops once Linux's memory setup is over (``--full``: to the end)
    quick: bool = True
    #: the fuzz run's folder itself (``--output DIR``), not a dated one in ``results``
    folder: Path | None = None
    #: also draw the shapes the plain draw misses (rig.layouts.drawn.Draw)
    aim: bool = False
    #: "I/N": only every Nth scenario from the Ith on (rig.runner.matrix.shard), so that N
    #: CI jobs boot one campaign between them
    shard: str | None = None


@dataclass
class Fuzz:
    """A fuzz run: its scenarios, their cells, and (once booted) results and disagreements."""

    req: FuzzRequest
    folder: Path
    scenarios: list[Scenario]
    cells: list[Cell]
    results: list[CellResult] | None = None
    found: list[Disagreement] | None = None


def prepare(req: FuzzRequest) -> Fuzz:
    """Check the request, generate the scenarios and write them as files (one cell each)."""
    if req.count < 1:
        raise UsageError(f"N = {req.count}: fuzz at least 1 scenario")
    build.check("kernel", req.kernel)
    build.check("xen", req.xen)
    check_output_dir(req.results, "--results")
    draw = Draw(kernel=req.kernel, xen=req.xen, max_memory=req.max_memory, mode=req.mode,
                aim=req.aim, targets=allocation_targets(req) if req.aim else ())
    scenarios = generate(req.seed, req.count, draw)
    if req.shard:
        mine = {c.index for c in shard([Cell(i, ()) for i in range(req.count)], req.shard)}
        scenarios = [s for i, s in enumerate(scenarios) if i in mine]
    folder = req.folder or results_folder(req.results, f"fuzz-{req.seed}")
    cells = []
    for i, s in enumerate(scenarios):
        path = folder / "scenarios" / f"{s.name}.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(s.to_toml())
        seconds, key = expect(s, req.accel)
        cells.append(Cell(i, (), scenario=str(path), label=_label(s), expected_s=seconds,
                          history_key=key))
    return Fuzz(req, folder, scenarios, cells)


def allocation_targets(req: FuzzRequest) -> tuple[tuple[int, int], ...]:
    """What Xen allocates for a PV dom0 of this kernel, pseudo-physical (its image, start info
    and page tables: rig.model.xen_pv, from the kernel's ELF): where --aim puts entries. None
    for PVH, or a kernel rig cannot read before it boots (a tree not built yet)."""
    if req.mode != "pv" or req.kernel.startswith("src:"):
        return ()
    from rig.machine.images import vmlinux
    from rig.model.xen_pv import allocations

    try:
        art = build.resolve("kernel", req.kernel, offline=req.offline)
        layout = vmlinux.kernel_layout(Path(art.path), art.record.sha256)
    except RigError:
        return ()
    if layout is None:
        return ()
    alloc = allocations(layout)
    return tuple(r for r in (alloc.image, alloc.start_info, alloc.page_tables) if r)


def boot(fuzz: Fuzz) -> Fuzz:
    """Boot every scenario (``-j`` at once), keep each disagreement as a reproducer, write
    fuzz.json."""
    req, folder = fuzz.req, fuzz.folder
    args = (["--accel", req.accel] + (["--offline"] if req.offline else [])
            + (["--quick"] if req.quick else []))
    fuzz.results = run_matrix("", fuzz.cells, jobs=req.jobs, results=folder / "runs",
                              run_args=args)
    fuzz.found = []
    kept: set[str] = set()
    for r, s in sorted(zip(fuzz.results, fuzz.scenarios, strict=True),
                       key=lambda rs: _size(rs[1])):
        checks = disagreements(r.doc)
        if not checks:
            continue
        sig = signature(checks)
        # a folder per signature, the smallest layout's, and the others' beside it by name
        where = folder / "disagreements" / (sig if sig not in kept else f"{sig}-{s.name}")
        fuzz.found.append(_keep(where, r, s, checks))
        kept.add(sig)
    fuzz.found.sort(key=lambda d: d.scenario)
    (folder / "fuzz.json").write_text(json.dumps({
        "schema": 1, "seed": req.seed, "count": req.count, "shard": req.shard,
        "kernel": req.kernel,
        "xen": req.xen, "scenarios": [ScenarioRecord.of(s).to_builtins()
                                      for s in fuzz.scenarios],
        "disagreements": [d.to_json() for d in fuzz.found],
        "signatures": signatures(fuzz.found),
        "coverage": campaign_coverage(fuzz.scenarios, fuzz.results)}, indent=2) + "\n")
    return fuzz


def campaign_coverage(scenarios: list[Scenario], results: list[CellResult]) -> dict[str, int]:
    """rig.model.coverage's counts, with the rules that need the kernel's image counted from
    the boots' judgements: a refusal the model required, an NVS entry it moved."""
    counts = coverage(scenarios)
    for r in results:
        checks = {c.name: c for c in r.doc.checks} if r.doc is not None else {}
        refusal = checks.get(CheckName.REFUSAL)
        if refusal is not None and refusal.expected == "refuse":
            counts[BOOTED[0]] += 1
        moved = checks.get(CheckName.NONRAM_MOVED)
        if moved is not None and moved.status is not Status.SKIP:
            counts[BOOTED[1]] += 1
    return counts


def signatures(found: list[Disagreement]) -> list[dict[str, object]]:
    """Each signature once: how many layouts show it, its reproducer, whether it is known."""
    out: dict[str, dict[str, object]] = {}
    for d in found:
        entry = out.setdefault(d.signature, {"signature": d.signature, "count": 0,
                                             "reproducer": d.folder, "explained": d.explained,
                                             "checks": sorted({n for n, *_ in d.checks}),
                                             "scenarios": []})
        entry["count"] = int(str(entry["count"])) + 1
        scenarios = entry["scenarios"]
        assert isinstance(scenarios, list)
        scenarios.append(d.scenario)
    return sorted(out.values(), key=lambda e: -int(str(e["count"])))


def _size(s: Scenario) -> tuple[int, int, str]:
    """Smaller first: fewer entries, less memory."""
    return len(s.holes), s.memory, s.name


def _keep(keep: Path, r: CellResult, s: Scenario,
          checks: list[tuple[str, str, str, str]]) -> Disagreement:
    """A reproducer: the scenario, its result, its console log and rig's output."""
    keep.mkdir(parents=True, exist_ok=True)
    (keep / "scenario.toml").write_text(s.to_toml())
    log = r.doc.log if r.doc else None
    for src in (r.folder / "result.json", Path(str(log or "")), r.folder / "stdout.txt"):
        if src.is_file():
            shutil.copy2(src, keep / src.name)
    return Disagreement(s.name, r.doc.verdict.label if r.doc else "error", checks, str(keep))


def _label(s: Scenario) -> str:
    below = f" below_4g={s.below_4g:#x}" if s.below_4g is not None else ""
    mode = " pvh" if s.dom0_mode == "pvh" else ""
    return (f"{s.name} {s.qemu_machine}{mode} {format_size(s.memory)}{below} "
            f"holes={len(s.holes)} dom0_mem={s.dom0_mem or '-'}")


@dataclass(frozen=True)
class Replayed:
    """``rig fuzz --replay DIR -n N``: how often a reproducer disagrees the same way again."""

    signature: str | None  # the reproducer's own (from its result.json), if it kept one
    #: each boot's signature, None where the boot agreed with the model
    runs: list[str | None]
    folder: Path

    @property
    def same(self) -> int:
        return sum(s is not None and s == self.signature for s in self.runs)

    def to_text(self) -> str:
        others = sorted({s for s in self.runs if s is not None and s != self.signature})
        agreed = self.runs.count(None)
        return (f"replayed  {len(self.runs)} boot(s) of {self.folder}: {self.same} with its "
                f"signature {self.signature or '-'}, {agreed} agreed with the model"
                + (f", {len(self.runs) - self.same - agreed} other ({', '.join(others)})"
                   if others else ""))


def replay(folder: Path, times: int, *, jobs: int = 1, results: Path | None = None,
           run_args: list[str] | None = None) -> Replayed:
    """Boot a kept reproducer ``times`` times (``-j`` at once): a real bug reproduces every
    time, a flaky one some of the times."""
    scenario = folder / "scenario.toml" if folder.is_dir() else folder
    if not scenario.is_file():
        raise UsageError(f"--replay {str(folder)!r}: no scenario.toml there (give a folder "
                         "rig fuzz kept under disagreements/, or a scenario file)")
    own = None
    kept = scenario.parent / "result.json"
    if kept.is_file():
        from rig.judge.result import load

        checks = disagreements(load(kept))
        own = signature(checks) if checks else None
    out = results_folder(results, "fuzz-replay")
    cells = [Cell(i, (), scenario=str(scenario), label=f"replay {i + 1}") for i in range(times)]
    done = run_matrix("", cells, jobs=jobs, results=out, run_args=run_args or [])
    runs = [signature(c) if (c := disagreements(r.doc)) else None for r in done]
    return Replayed(own, runs, folder)
