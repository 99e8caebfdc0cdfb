"""rig's benchmarks: how fast a verdict comes, and how the cost grows.

Writes bench/results.json and bench/results.md (docs/speed.md explains them). Every figure is a
median of several runs, with min and max; comparisons are measured side by side, alternating.
BENCH_RUNS (default 3) and BENCH_PAIRS (default 5) set the repetitions.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

from bench_report import TARGETS, held_by, markdown

TOP = Path(__file__).resolve().parent.parent
RIG = [sys.executable, "-m", "rig.cli"]
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
PAIRS = int(os.environ.get("BENCH_PAIRS", "5"))
OUT = TOP / "bench"
KEYS = (*TARGETS, "seed_matrix_j2_s", "parse_mb_s", "bench_s",
        "partial_bench_s")


def stats(values: list[float]) -> dict[str, Any]:
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3),
            "max": round(max(values), 3), "n": len(values), "values": [round(v, 3) for v in values]}


def timed(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str]:
    t0 = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env)
    return time.monotonic() - t0, proc.returncode, proc.stdout + proc.stderr


def rig_run(args: list[str], results: Path, env: dict[str, str] | None = None
            ) -> tuple[float, dict[str, Any]]:
    out = results / f"r{time.monotonic_ns()}.json"
    seconds, code, text = timed([*RIG, "run", *args, "--accel", "tcg", "--results", str(results),
                                 "--json-out", str(out)], env)
    if not out.exists():
        raise SystemExit(f"rig run {args} gave no result (exit {code}):\n{text[-2000:]}")
    return seconds, json.loads(out.read_text())


def bare_qemu(argv: list[str]) -> tuple[float, int]:
    """The same QEMU command without rig, stopped where rig stops it: when /init has printed
    its last line (rig then reads Xen's count, about 0.01 s, and stops QEMU; /init itself would
    wait 20 s for that). /usr/bin/time reports the peak RSS."""
    t0 = time.monotonic()
    proc = subprocess.Popen(["/usr/bin/time", "-f", "RSS %M", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    assert proc.stdout is not None and proc.stderr is not None
    for line in proc.stdout:
        if b"RIG: stage done" in line:
            break
    seconds = time.monotonic() - t0
    subprocess.run(["pkill", "-TERM", "-P", str(proc.pid)], check=False)
    proc.stdout.read()
    err = proc.stderr.read().decode(errors="replace")
    proc.wait()
    m = re.search(r"RSS (\d+)", err)
    return seconds, int(m.group(1)) if m else 0


def kept_command(args: list[str], results: Path) -> list[str]:
    """`rig run --keep` prints the exact QEMU command; keep its files for the bare runs."""
    _seconds, _code, text = timed([*RIG, "run", *args, "--accel", "tcg", "--keep", "--results",
                                 str(results)])
    m = re.search(r"^kept\s+(\S+)$", text, re.M)
    if not m:
        raise SystemExit(f"rig run --keep printed no folder:\n{text[-2000:]}")
    argv = (Path(m.group(1)) / "qemu.args").read_text().splitlines()
    # drop the QMP socket (its folder is gone); everything else is the very same command
    i = argv.index("-qmp")
    return argv[:i] + argv[i + 2:]


#: Linux's last line before it asks Xen to power off (kernel/reboot.c, kernel_power_off)
POWER_DOWN = b"reboot: Power down"
#: a bare run that has not ended by then is stuck
BARE_LIMIT_S = 600


def bare_to_end(argv: list[str]) -> tuple[float, float | None]:
    """The same QEMU command without rig, run to its end: the guest's /init waits for nothing
    (rig.hold=0: no one asks Xen for its count) and powers off; QEMU then exits. Also when
    Linux printed its power-down line: what follows is Xen's power-off, which waits for the
    RTC's next second (ACPI S5: enter_state → device_power_down → time_suspend →
    get_cmos_time, xen/arch/x86/acpi/power.c:89 and time.c:1211-1221 in RELEASE-4.17.7), and
    QEMU's RTC ticks whole seconds from QEMU's own start (hw/rtc/mc146818rtc.c,
    rtc_set_date_from_host: offset 0), so a bare run ends a whole number of seconds after it
    began, plus QEMU's exit."""
    t0 = time.monotonic()
    stamps: list[float] = []
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL)

    def read(out: IO[bytes]) -> None:
        for line in out:
            if not stamps and POWER_DOWN in line:
                stamps.append(time.monotonic() - t0)

    # read in a thread, so that the time limit holds even for a guest that hangs silent
    assert proc.stdout is not None
    reader = threading.Thread(target=read, args=(proc.stdout,), daemon=True)
    reader.start()
    try:
        proc.wait(timeout=BARE_LIMIT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise SystemExit(f"bare QEMU still ran after {BARE_LIMIT_S} s: {argv}") from None
    end = time.monotonic() - t0
    reader.join(timeout=5)
    return end, stamps[0] if stamps else None


def overhead(results: Path) -> dict[str, Any]:
    """rig run (the full verdict) and rig run --quick against bare QEMU running the same
    machine to its end, in pairs, alternating; and rig's fixed cost: its wall time less the
    time QEMU ran (timings.boot_s)."""
    argv = kept_command(["pci-hole", "--set", "dom0.cmdline=rig.hold=0"], results)
    rig_t, quick_t, bare_t, fixed, quick_fixed = [], [], [], [], []
    bare_down: list[float] = []  # when bare QEMU's guest asked to power off
    bare_after: list[float] = []  # and what its run took after that
    parts: dict[str, list[float]] = {"startup_s": [], "before_qemu_s": [], "after_qemu_s": []}
    for _ in range(PAIRS):
        a, doc = rig_run(["pci-hole"], results)
        q, qdoc = rig_run(["pci-hole", "--quick"], results)
        b, down = bare_to_end(argv)
        if down is not None:
            bare_down.append(down)
            bare_after.append(b - down)
        rig_t.append(a)
        quick_t.append(q)
        bare_t.append(b)
        t = doc["timings"]
        fixed.append(a - float(t["boot_s"]))
        quick_fixed.append(q - float(qdoc["timings"]["boot_s"]))
        # where the fixed cost goes: the interpreter, imports and the summary around the run;
        # artifacts, render and initramfs before QEMU; stopping QEMU, parse, judge and write
        parts["startup_s"].append(a - float(t["total_s"]))
        parts["before_qemu_s"].append(float(t.get("qemu_start_s", 0.0)))
        parts["after_qemu_s"].append(float(t["total_s"]) - float(t.get("qemu_start_s", 0.0))
                                     - float(t["boot_s"]))
    # the start alone: the interpreter, and the imports a run makes before QEMU starts
    for _ in range(PAIRS):
        # both end as rig does (rig.cli.entry: no teardown), so the difference is the imports
        bare_py, _, _ = timed([sys.executable, "-c", "import os; os._exit(0)"])
        imports, _, _ = timed([sys.executable, "-c",
                               "import os, rig.cli.parser, rig.runner.run; os._exit(0)"])
        parts.setdefault("interpreter_s", []).append(bare_py)
        parts.setdefault("imports_s", []).append(imports - bare_py)
    return {"stages_s": doc["timings"].get("stages", {}),  # the last full run's
            "rig_s": stats(rig_t), "quick_s": stats(quick_t), "bare_qemu_s": stats(bare_t),
            "bare_power_down_s": stats(bare_down) if bare_down else None,
            "bare_after_power_down_s": stats(bare_after) if bare_after else None,
            "ratio": stats([a / b for a, b in zip(rig_t, bare_t, strict=True)]),
            "quick_ratio": stats([q / b for q, b in zip(quick_t, bare_t, strict=True)]),
            "fixed_cost_s": stats(fixed), "quick_fixed_cost_s": stats(quick_fixed),
            "fixed_cost_parts": {k: stats(v) for k, v in parts.items()},
            "note": "bare QEMU runs the guest to its power-off (rig.hold=0); rig stops QEMU "
                    "once it has Xen's count after /init (--quick: after Linux's memory setup)"}


def fuzz(results: Path) -> dict[str, Any]:
    """Layouts an hour with rig fuzz (quick boots, its default) at -j 1 and -j 2."""
    out: dict[str, Any] = {}
    count = int(os.environ.get("BENCH_FUZZ", "10"))  # 6 packed too unevenly on 2 cores
    for jobs in (1, 2):
        folder = results / f"fuzz-j{jobs}"
        seconds, _code, text = timed([*RIG, "fuzz", str(count), "--seed", "7", "-j", str(jobs),
                                      "--accel", "tcg", "--max-memory", "8G",
                                      "--results", str(folder)])
        if "boot(s)" not in text:
            raise SystemExit(f"fuzz -j {jobs} failed:\n{text[-2000:]}")
        out[f"j{jobs}_s"] = round(seconds, 1)
        out[f"j{jobs}_per_hour"] = round(count * 3600 / seconds, 1)
        # each boot's own QEMU time: two QEMUs at once may each run slower than one alone
        boots = [json.loads(p.read_text())["timings"].get("boot_s") for p in
                 folder.rglob("result.json") if not (p.parent / "console.log").exists()]
        out[f"j{jobs}_boot_s"] = stats([b for b in boots if b]) if any(boots) else None
    out["layouts"] = count
    return out


def presets(results: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    cold_cache = Path(tempfile.mkdtemp(prefix="rig-cold-"))
    try:
        env = dict(os.environ, RIG_CACHE=str(cold_cache))
        seconds, doc = rig_run(["pci-hole"], results, env)
        out["pci-hole_cold"] = {"total_s": round(seconds, 3), "timings": doc["timings"],
                                "verdict": doc["verdict"]}
    finally:
        shutil.rmtree(cold_cache, ignore_errors=True)
    names = subprocess.run([*RIG, "scenarios"], capture_output=True, text=True).stdout.split()
    for name in [n for n in names if n in ("pci-hole", "seed-8g", "many-holes", "large-64g",
                                           "q35")]:
        times, stages, verdicts, rss = [], [], [], []
        for _ in range(RUNS):
            seconds, doc = rig_run([name], results)
            times.append(seconds)
            stages.append(doc["timings"].get("stages", {}))
            verdicts.append(doc["verdict"])
            rss.append(doc["timings"].get("qemu_peak_rss_kb") or 0)
        out[name] = {"warm_s": stats(times), "stages_s": stages[len(stages) // 2],
                     "qemu_peak_rss_mib": round(statistics.median(rss) / 1024),
                     "verdicts": verdicts}
    return out


def matrix(results: Path) -> dict[str, Any]:
    sets = ["--set", "xen.dom0_mem=", "--set", "xen.dom0_mem=3G", "--set", "xen.dom0_mem=max:3G"]
    out: dict[str, Any] = {}
    for jobs in (1, 2):
        times: list[float] = []
        cells: list[list[float]] = []
        stages: list[dict[str, Any]] = []
        for _ in range(max(1, RUNS - 1)):
            folder = results / f"matrix-j{jobs}-{len(times)}"
            seconds, code, text = timed([*RIG, "matrix", "seed-8g", *sets, "-j", str(jobs),
                                         "--accel", "tcg", "--results", str(folder)])
            if code != 0:
                raise SystemExit(f"matrix -j {jobs} failed:\n{text[-2000:]}")
            times.append(seconds)
            # each cell's --json-out, beside its results folder (which holds the console log)
            docs = [json.loads(p.read_text()) for p in folder.rglob("result.json")
                    if not (p.parent / "console.log").exists()]
            cells.append(sorted(d["timings"]["boot_s"] for d in docs))
            # where each cell's time goes: its stages (s from QEMU's start), by dom0_mem
            stages.append({(d["scenario"]["xen"].get("dom0_mem") or "(none)"):
                           d["timings"].get("stages", {}) for d in docs})
        out[f"j{jobs}_s"] = stats(times)
        # what holds it: each cell's own QEMU time (three cells on two cores: the longest pair
        # and the third after it), against one pci-hole boot
        # (those of the run whose wall time is the median, the lower of two)
        median = times.index(statistics.median_low(times))
        out[f"j{jobs}_cell_boot_s"] = cells[median]
        out[f"j{jobs}_cell_stages_s"] = stages[median]
    return out


SCALE_SIZES = ["4G", "16G", "64G", "256G", "1T"]


def scale(results: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    scenario = results / "scale.toml"
    for size in SCALE_SIZES:
        scenario.write_text(
            'name = "scale"\n[machine]\ntype = "pc"\n'
            f'memory = "{size}"\nbelow_4g = "2G"\n'
            '[[holes]]\nstart = "0x20000000"\nsize = "2M"\n'
            '[[holes]]\nstart = "0x30000000"\nsize = "2M"\n'
            '[xen]\ndom0_mem = "1G,max:1G"\ncmdline = "bootscrub=false"\n')
        argv = kept_command([str(scenario)], results)
        rig_t, bare_t, rig_rss, bare_rss, verdicts = [], [], [], [], []
        for _ in range(max(1, RUNS - 1)):
            a, doc = rig_run([str(scenario)], results)
            b, rss = bare_qemu(argv)
            rig_t.append(a)
            bare_t.append(b)
            rig_rss.append((doc["timings"].get("qemu_peak_rss_kb") or 0) / 1024)
            bare_rss.append(rss / 1024)
            verdicts.append(doc["verdict"])
        out[size] = {"rig_s": stats(rig_t), "bare_qemu_s": stats(bare_t),
                     "ratio": round(statistics.median(rig_t) / statistics.median(bare_t), 3),
                     "rig_qemu_peak_rss_mib": stats(rig_rss),
                     "bare_qemu_peak_rss_mib": stats(bare_rss), "verdicts": verdicts}
    return out


def predict_holes(results: Path) -> dict[str, Any]:
    """``rig predict`` of a scenario with 3000 one-page entries of every kind (issue 34: the
    firmware model was cubic in them, 19.5 s for 1000)."""
    lines = ['name = "holes-3000"', "[machine]", 'memory = "8G"', 'below_4g = "2G"']
    for i in range(3000):
        lines += ["[[holes]]", f'start = "{0x40000000 + i * 0x2000:#x}"', 'size = "4K"',
                  f'kind = "{("gap", "reserved", "nvs", "acpi")[i % 4]}"']
    lines += ["[xen]", 'dom0_mem = "1G"']
    scenario = results / "holes-3000.toml"
    scenario.write_text("\n".join(lines) + "\n")
    times = [timed([*RIG, "predict", str(scenario)])[0] for _ in range(RUNS)]
    return {"holes": 3000, "predict_s": stats(times)}


def parse_speed(results: Path) -> dict[str, Any]:
    source = sorted((TOP / "tests" / "logs").glob("rig-pci-hole-6.1-meminfo-line.log"))[0]
    body = source.read_bytes().split(b"\n\n", 1)[1]
    big = results / "big.log"
    with open(big, "wb") as f:
        for _ in range(200_000_000 // len(body) + 1):
            f.write(body)
    size_mb = big.stat().st_size / 1e6
    rig_t, grep_t = [], []
    pattern = ("RAM map|Xen version|Command line|System RAM|Dom0 al|Released|Remapped|RIG:"
               "|BIOS-|Linux version|Memory:|Panic|Oops|BUG|WARNING")
    for _ in range(RUNS):
        a, _code, _ = timed([*RIG, "parse", str(big)])
        b, _, _ = timed(["grep", "-c", "-E", pattern, str(big)])
        rig_t.append(a)
        grep_t.append(b)
    # which stage holds it: the interpreter's start; grep's scan for the hinted lines (it runs
    # beside the parsers: rig's time is about the start plus the longer of the two); the
    # parsers over the lines fed to them (the hinted ones and the blocks they open)
    startup, _, _ = timed([*RIG, "--version"])
    # the log is read into memory (a mapping's reader dies of SIGBUS when the file is cut
    # while read): the peak is the file's size and rig's own
    rss = subprocess.run(["/usr/bin/time", "-f", "%M", *RIG, "parse", str(big)],
                         capture_output=True, text=True).stderr.strip().splitlines()[-1]
    one = results / "one-boot.log"
    one.write_bytes(body)
    probe = subprocess.run([sys.executable, str(TOP / "scripts" / "bench_scan.py"), str(big),
                            str(one)], capture_output=True, text=True, check=True)
    scan_s, parsers_s, hinted, fed, full_s, full_fed, one_ms = json.loads(probe.stdout)
    big.unlink()
    rig_s = statistics.median(rig_t)
    return {"log_mb": round(size_mb, 1), "rig_parse_s": stats(rig_t), "grep_c_s": stats(grep_t),
            "rig_parse_peak_rss_mib": round(int(rss) / 1024) if rss.isdigit() else None,
            "rig_mb_s": round(size_mb / rig_s, 1),
            "grep_mb_s": round(size_mb / statistics.median(grep_t), 1),
            "stages": {"startup_s": round(startup, 3), "scan_s": round(scan_s, 3),
                       "parsers_s": round(parsers_s, 3), "hinted_lines": hinted,
                       "fed_lines": fed,
                       "parsers_us_per_fed_line": round(parsers_s / max(fed, 1) * 1e6, 1),
                       # the log is one boot's, many times: rig judges the last and reads the
                       # boots before only for their markers and crash lines; read in full,
                       # every boot costs what one log of one boot costs
                       "every_boot_in_full_s": round(full_s, 3),
                       "every_boot_fed_lines": full_fed,
                       "every_boot_us_per_fed_line": round(full_s / max(full_fed, 1) * 1e6, 1),
                       "boots": int(size_mb * 1e6) // len(body),
                       "one_boot_parse_ms": round(one_ms, 2), "one_boot_kb": len(body) // 1000}}


def machine() -> dict[str, Any]:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text()
                .splitlines() if ln.startswith("model name")), platform.processor())
    qemu = subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True,
                          text=True).stdout.splitlines()[0]
    return {"cores": os.cpu_count(), "cpu": cpu, "accelerator": "tcg", "qemu": qemu,
            "python": platform.python_version(), "kernel": platform.release()}


def main() -> int:
    os.chdir(TOP)
    OUT.mkdir(exist_ok=True)
    results = Path(tempfile.mkdtemp(prefix="rig-bench-"))
    t0 = time.monotonic()
    only = set(sys.argv[1:])
    r: dict[str, Any] = {}
    if only and (OUT / "results.json").exists():
        # a partial run updates the sections it measures and keeps the others
        r = json.loads((OUT / "results.json").read_text())
    # "date" is the last whole run's; a partial run says when it measured its sections only
    r.update({"machine": machine()} if only else
             {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": machine(), "measured": {}})
    def save() -> None:
        # after every section: a section that fails must not lose the ones measured before it
        o, m, p, f = (r.get(k, {}) for k in ("overhead", "matrix", "parse", "fuzz"))
        r["overhead_ratio"] = r["full_ratio"] = o.get("ratio", {}).get("median")
        r["quick_ratio"] = o.get("quick_ratio", {}).get("median")
        r["fixed_cost_s"] = o.get("fixed_cost_s", {}).get("median")
        r["seed_matrix_j2_s"] = m.get("j2_s", {}).get("median")
        rig_s = o.get("rig_s", {}).get("median")
        r["seed_matrix_ratio"] = (round(r["seed_matrix_j2_s"] / rig_s, 3)
                                  if r["seed_matrix_j2_s"] and rig_s else None)
        r["parse_mb_s"] = p.get("rig_mb_s")
        r["parse_vs_grep"] = (round(p["rig_mb_s"] / p["grep_mb_s"], 3)
                              if p.get("rig_mb_s") and p.get("grep_mb_s") else None)
        r["fuzz_per_hour"] = f.get("j2_per_hour")
        r["fuzz_scaling"] = (round(f["j2_per_hour"] / f["j1_per_hour"], 3)
                             if f.get("j1_per_hour") and f.get("j2_per_hour") else None)
        r["predict_3000_holes_s"] = r.get("predict", {}).get("predict_s", {}).get("median")
        r["held_by"] = held_by(r)
        r["bench_s" if not only else "partial_bench_s"] = round(time.monotonic() - t0, 1)
        (OUT / "results.json").write_text(json.dumps(r, indent=2) + "\n")

    try:
        for name, fn in (("predict", predict_holes), ("parse", parse_speed),
                         ("overhead", overhead), ("presets", presets), ("matrix", matrix),
                         ("fuzz", fuzz), ("scale", scale)):
            if only and name not in only:
                continue
            t = time.monotonic()
            print(f"bench: {name} ...", file=sys.stderr, flush=True)
            r[name] = fn(results)
            # a partial run keeps the other sections: each says when it was measured
            r.setdefault("measured", {})[name] = time.strftime("%Y-%m-%d %H:%M")
            print(f"bench: {name} took {time.monotonic() - t:.0f} s", file=sys.stderr)
            save()
    finally:
        shutil.rmtree(results, ignore_errors=True)
    save()
    if all(k in r for k in ("parse", "overhead", "presets", "matrix", "scale")):
        (OUT / "results.md").write_text(markdown(r))
    print(json.dumps({k: r.get(k) for k in KEYS}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
