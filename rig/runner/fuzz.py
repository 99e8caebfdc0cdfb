"""``rig fuzz N --seed S``: random valid layouts, each booted, every disagreement between rig's
model, the kernel and Xen kept as a reproducer (the scenario TOML, its log and its result),
the way syzkaller keeps reproducers.

The generator is pure and deterministic: scenario ``i`` of seed ``S`` comes from its own random
stream (``"S:i"``), so ``rig fuzz 5 --seed 1`` boots the first five of ``rig fuzz 30 --seed 1``.
"""

from __future__ import annotations

import json
import random
import shutil
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rig.domain.e820 import GiB, MiB, format_size, parse_size
from rig.domain.scenario import MAX_BELOW_4G, Q35_MAX_BELOW_4G, Hole, Scenario, ScenarioError, validate

PAGE = 4096
#: RAM from 1 GiB to this (the issue's range), in 256 MiB steps
MAX_MEMORY = 64 * GiB
MAX_HOLES = 16
#: tries before a scenario's random stream gives up on a valid layout (never reached: each try
#: draws a new machine, and most draws are valid)
TRIES = 1000

#: what each check's disagreement means: who disagrees with rig's model
WHO = {
    "remapped": "kernel", "released": "kernel", "populated": "kernel",
    "nothing_lost": "kernel", "setup": "kernel", "refusal": "kernel", "crash": "kernel",
    "nr_pages": "Xen", "xen_accounting": "Xen", "layout": "Xen (the machine)",
    "firmware": "firmware", "predicted_remap": "firmware", "model": "rig", "boot": "boot",
    "console": "boot", "pvh_map": "Xen", "linux_map": "kernel", "predicted_pvh": "rig",
}


def generate(seed: int, count: int, *, kernel: str = "6.1", xen: str = "4.17",
             max_memory: int = MAX_MEMORY, mode: str = "pv") -> list[Scenario]:
    """``count`` valid scenarios, the same ones for the same seed (and limits)."""
    return [one(seed, i, kernel=kernel, xen=xen, max_memory=max_memory, mode=mode)
            for i in range(count)]


def one(seed: int, index: int, *, kernel: str = "6.1", xen: str = "4.17",
        max_memory: int = MAX_MEMORY, mode: str = "pv") -> Scenario:
    """``mode = "pvh"``: a PVH dom0, which needs q35 (its IOMMU); the same stream otherwise."""
    rng = random.Random(f"{seed}:{index}")
    name = f"fuzz-{seed}-{index:03d}" + ("-pvh" if mode == "pvh" else "")
    for _ in range(TRIES):
        s = _draw(rng, name, max(1 * GiB, max_memory))
        if mode == "pvh" and s.machine_type != "q35":
            continue
        s = replace(s, kernel=kernel, xen_version=xen, dom0_mode=mode,
                    description=f"rig fuzz --seed {seed}, scenario {index}")
        try:
            validate(s)
        except ScenarioError:
            continue
        return s
    raise RuntimeError(f"{name}: no valid layout in {TRIES} draws")  # pragma: no cover


def _draw(rng: random.Random, name: str, max_memory: int) -> Scenario:
    machine = rng.choice(("pc", "pc", "q35"))
    memory = rng.randint(4, max_memory // (256 * MiB)) * 256 * MiB
    below: int | None = None
    if rng.random() < 0.7:
        top = MAX_BELOW_4G if machine == "pc" else Q35_MAX_BELOW_4G
        below = rng.randrange(0x10000000, top + 1, 2 * MiB)
    s = Scenario(name=name, machine_type=machine, memory=memory, below_4g=below)
    holes = _holes(rng, s)
    return replace(s, holes=tuple(holes), dom0_mem=_dom0_mem(rng, s.memory))


def _holes(rng: random.Random, s: Scenario) -> list[Hole]:
    """0–16 holes in RAM below and above 4 GiB, of 4 KiB to 256 MiB; badram blocks only where
    GRUB's 32-bit mask is regular (no RAM above 4 GiB)."""
    regions = [(1 * MiB, s.low_ram)]
    if s.high_ram:
        regions.append((s.high_ram_start, s.high_ram_start + s.high_ram))
    holes: list[Hole] = []
    for _ in range(rng.randint(0, MAX_HOLES)):
        lo, hi = rng.choice(regions)
        size = PAGE << rng.randint(0, 16)
        if size >= hi - lo:
            continue
        if not s.high_ram and rng.random() < 0.15:
            start = rng.randrange(-(-lo // size) * size, hi - size + 1, size) \
                if hi - size >= -(-lo // size) * size else -1
            kind = "badram"
        else:
            size = max(PAGE, size * rng.randint(1, 3) // 2 // PAGE * PAGE)
            if size >= hi - lo:
                continue
            start = rng.randrange(lo // PAGE, (hi - size) // PAGE + 1) * PAGE
            kind = "gap"
        if start < 0 or any(start < h.end and h.start < start + size for h in holes):
            continue
        holes.append(Hole(start, size, kind))
    return sorted(holes, key=lambda h: h.start)


def _dom0_mem(rng: random.Random, memory: int) -> str | None:
    """Absent, absolute, with min: or max:, or both; amounts from 256 MiB to the guest's RAM."""
    def amount() -> str:
        return format_size(rng.randrange(256 * MiB, memory + 1, 64 * MiB))

    form = rng.choice(("none", "amount", "amount,max", "max", "min", "min,max", "amount,min"))
    if form == "none":
        return None
    a, b = sorted((amount(), amount()), key=parse_size)
    return {"amount": a, "amount,max": f"{a},max:{b}", "max": f"max:{a}", "min": f"min:{a}",
            "min,max": f"min:{a},max:{b}", "amount,min": f"{b},min:{a}"}[form]


# -- running them ------------------------------------------------------------------------------

@dataclass
class Disagreement:
    scenario: str
    verdict: str
    #: (check, status, who disagrees with rig's model, message)
    checks: list[tuple[str, str, str, str]]
    folder: str

    @property
    def explained(self) -> bool:
        """Every check is a warning whose cause rig knows and names ("Known: ...")."""
        return all(st == "warn" and "Known:" in m for _, st, _, m in self.checks)

    def to_json(self) -> dict[str, object]:
        return {"scenario": self.scenario, "verdict": self.verdict, "folder": self.folder,
                "explained": self.explained,
                "checks": [{"name": n, "status": st, "who": w, "message": m}
                           for n, st, w, m in self.checks]}


def disagreements(doc: dict[str, Any] | None) -> list[tuple[str, str, str, str]]:
    """The checks of one boot where the kernel, Xen or the firmware did not do what rig's
    model said (fail, crash, error, incomplete, and warnings: rig's own model being off)."""
    if doc is None:
        return [("result", "error", "rig", "the boot left no result document")]
    out = []
    for c in doc.get("checks") or []:
        if c.get("status") in ("fail", "crash", "error", "incomplete", "warn"):
            out.append((str(c["name"]), str(c["status"]), WHO.get(str(c["name"]), "rig"),
                        str(c.get("message", ""))))
    return out


@dataclass
class FuzzRequest:
    count: int
    seed: int
    kernel: str = "6.1"
    xen: str = "4.17"
    max_memory: int = MAX_MEMORY
    jobs: int = 1
    results: Path | None = None
    accel: str = "auto"
    offline: bool = False
    mode: str = "pv"


def main_fuzz(req: FuzzRequest) -> int:
    """Generate, boot every scenario (``-j`` at once), keep the disagreements. Exit 0 when
    every boot agreed with the model or disagreed only in ways rig knows and names, 1
    otherwise."""
    from rig.machine import build
    from rig.runner.matrix import Cell, expect, run_matrix, table
    from rig.runner.run import results_folder

    if req.count < 1:
        from rig.errors import UsageError

        raise UsageError(f"N = {req.count}: fuzz at least 1 scenario")
    build.check("kernel", req.kernel)
    build.check("xen", req.xen)
    scenarios = generate(req.seed, req.count, kernel=req.kernel, xen=req.xen,
                         max_memory=req.max_memory, mode=req.mode)
    folder = results_folder(req.results, f"fuzz-{req.seed}")
    cells = []
    for i, s in enumerate(scenarios):
        path = folder / "scenarios" / f"{s.name}.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(s.to_toml())
        seconds, key = expect(s, req.accel)
        cells.append(Cell(i, (), scenario=str(path), label=_label(s), expected_s=seconds,
                          history_key=key))
    print(f"rig: fuzz seed {req.seed}: {len(cells)} scenario(s), {req.jobs} at a time, results "
          f"in {folder}", file=sys.stderr)
    args = ["--accel", req.accel] + (["--offline"] if req.offline else [])
    results = run_matrix("", cells, jobs=req.jobs, results=folder / "runs", run_args=args)
    print(table(results))
    found: list[Disagreement] = []
    for r, s in zip(results, scenarios, strict=True):
        checks = disagreements(r.doc)
        if not checks:
            continue
        keep = folder / "disagreements" / s.name
        keep.mkdir(parents=True, exist_ok=True)
        (keep / "scenario.toml").write_text(s.to_toml())
        for src in (r.folder / "result.json", Path(str((r.doc or {}).get("log") or "")),
                    r.folder / "stdout.txt"):
            if src.is_file():
                shutil.copy2(src, keep / src.name)
        found.append(Disagreement(s.name, str((r.doc or {}).get("verdict", "error")), checks,
                                  str(keep)))
    (folder / "fuzz.json").write_text(json.dumps({
        "schema": 1, "seed": req.seed, "count": req.count, "kernel": req.kernel,
        "xen": req.xen, "scenarios": [s.to_json() for s in scenarios],
        "disagreements": [d.to_json() for d in found]}, indent=2) + "\n")
    for d in found:
        known = " (explained)" if d.explained else ""
        print(f"disagreement {d.scenario} ({d.verdict}){known}: reproduce with "
              f"`rig run {d.folder}/scenario.toml`")
        for name, status, who, message in d.checks:
            print(f"  {status.upper():<10} {name:<15} {who}: {message}")
    open_ones = [d for d in found if not d.explained]
    print(f"fuzz      {len(results)} boot(s), {len(found)} disagreement(s), {len(open_ones)} "
          f"not explained; {folder}/fuzz.json")
    return 1 if open_ones else 0


def _label(s: Scenario) -> str:
    below = f" below_4g={s.below_4g:#x}" if s.below_4g is not None else ""
    mode = " pvh" if s.dom0_mode == "pvh" else ""
    return (f"{s.name} {s.qemu_machine}{mode} {format_size(s.memory)}{below} "
            f"holes={len(s.holes)} dom0_mem={s.dom0_mem or '-'}")


__all__ = ["Disagreement", "FuzzRequest", "disagreements", "generate", "main_fuzz", "one"]
