"""The bench's report: its targets, bench/results.md from bench/results.json, and for each
target not met the measured stage that holds it (scripts/bench.py measures; this says what the
measurements show, from them alone)."""

from __future__ import annotations

from typing import Any

#: the headline figures (issue "A verdict at the speed of the evidence"), with their targets
TARGETS = {"full_ratio": "<= 1.0", "quick_ratio": "<= 0.6", "fixed_cost_s": "<= 0.2",
           "seed_matrix_ratio": "<= 2.0", "parse_vs_grep": ">= 0.1", "fuzz_scaling": ">= 1.8",
           "predict_3000_holes_s": "<= 1.0",
           # issue 32: the bench's fuzz set (10 layouts of seed 7, Debian's 6.1, up to 8 GiB)
           "fuzz_per_hour": ">= 1200"}

def markdown(r: dict[str, Any]) -> str:
    o, m, p = r["overhead"], r["matrix"], r["parse"]
    later = [f"{k} at {v}" for k, v in r.get("measured", {}).items() if v != r["date"]]
    lines = [f"Measured {r['date']} on {r['machine']['cores']} cores ({r['machine']['cpu']}), "
             f"{r['machine']['accelerator'].upper()}, {r['machine']['qemu']}"
             + (f" (measured again later: {', '.join(later)})" if later else "")
             + ". Medians (min–max).", "", "| figure | value | target |", "|---|---|---|"]
    lines += [f"| `{k}` | {r.get(k)} | {t} |" for k, t in TARGETS.items()]
    lines += ["", *(f"- `{k}` not met; held by {v}." for k, v in r.get("held_by", {}).items())]
    down, after = o.get("bare_power_down_s"), o.get("bare_after_power_down_s")
    power_down = [f"| bare QEMU's guest asks to power off | - | at {down['median']} s; its run "
                  f"ends {after['median']} s later ({after['min']}–{after['max']}: Xen's RTC "
                  "wait, QEMU's exit) | - |"] if down and after else []
    lines += ["", "| what | rig | reference | target |", "|---|---|---|---|",
             f"| pci-hole, rig vs bare QEMU to its end ({o['ratio']['n']} pairs) | "
             f"{o['rig_s']['median']} s | {o['bare_qemu_s']['median']} s; ratio "
             f"{o['ratio']['median']} ({o['ratio']['min']}–{o['ratio']['max']}) | "
             f"{TARGETS['full_ratio']} |",
             *power_down,
             f"| pci-hole --quick | {o['quick_s']['median']} s | ratio "
             f"{o['quick_ratio']['median']} | {TARGETS['quick_ratio']} |",
             f"| seed-8g 3-variant matrix | -j 2: {m['j2_s']['median']} s | -j 1: "
             f"{m['j1_s']['median']} s | ≤ 2 × pci-hole |",
             f"| rig parse, {p['log_mb']} MB log | {p['rig_mb_s']} MB/s | grep -c: "
             f"{p['grep_mb_s']} MB/s | ≥ 50 MB/s |"]
    cold = r["presets"].get("pci-hole_cold", {})
    lines += ["", "| preset | warm s | QEMU peak RSS | stages (s from QEMU's start) |",
              "|---|---|---|---|"]
    if cold:
        lines.append(f"| pci-hole, empty cache | {cold['total_s']} | - | artifacts "
                     f"{cold['timings'].get('artifacts_s')} s |")
    for name, v in r["presets"].items():
        if name.endswith("_cold"):
            continue
        st = ", ".join(f"{k} {t}" for k, t in v["stages_s"].items())
        lines.append(f"| {name} | {v['warm_s']['median']} ({v['warm_s']['min']}–"
                     f"{v['warm_s']['max']}) | {v['qemu_peak_rss_mib']} MiB | {st} |")
    lines += ["", "| guest RAM | rig s | bare QEMU s | ratio | rig QEMU RSS | bare RSS |",
              "|---|---|---|---|---|---|"]
    for size, v in r["scale"].items():
        lines.append(f"| {size} | {v['rig_s']['median']} | {v['bare_qemu_s']['median']} | "
                     f"{v['ratio']} | {v['rig_qemu_peak_rss_mib']['median']:.0f} MiB | "
                     f"{v['bare_qemu_peak_rss_mib']['median']:.0f} MiB |")
    return "\n".join(lines) + "\n"


def met(value: float | None, target: str) -> bool | None:
    op, bound = target.split()
    if value is None:
        return None
    return value <= float(bound) if op == "<=" else value >= float(bound)


def held_by(r: dict[str, Any]) -> dict[str, str]:
    """For each target not met, the measured stage that holds it."""
    o, m, p, f = (r.get(k, {}) for k in ("overhead", "matrix", "parse", "fuzz"))
    why: dict[str, str] = {}
    parts = {k: v["median"] for k, v in o.get("fixed_cost_parts", {}).items()}
    if parts:
        text = (f"interpreter, imports and summary {parts['startup_s']} s (the interpreter "
                f"{parts.get('interpreter_s')} s, rig's imports {parts.get('imports_s')} s); "
                f"artifacts, render "
                f"and initramfs before QEMU {parts['before_qemu_s']} s; stopping QEMU, parse, "
                f"judge and write after it {parts['after_qemu_s']} s")
        why["fixed_cost_s"] = why["quick_ratio"] = text
        down, after = o.get("bare_power_down_s"), o.get("bare_after_power_down_s")
        st = o.get("stages_s", {})
        why["full_ratio"] = text + (
            f"; rig's run has /init's last line at {st.get('done')} s and Xen's count at "
            f"{st.get('xen-query')} s of QEMU's time, bare QEMU's guest asks to power off at "
            f"{down['median']} s and its run ends {after['median']} s later ({after['min']}-"
            f"{after['max']}: Xen's power-off waits for the RTC's next whole second of QEMU's "
            "run, then QEMU exits)" if down and after else "")
    if m.get("j2_cell_boot_s"):
        setup = {k: v.get("setup") for k, v in m.get("j2_cell_stages_s", {}).items()}
        why["seed_matrix_ratio"] = (
            f"the cells' own QEMU times {m['j2_cell_boot_s']} s at -j 2 ({m.get('j1_cell_boot_s')}"
            " s one at a time; three cells on two cores are two rounds, so cells as long as "
            "pci-hole's run make the matrix at least twice that), against pci-hole's whole run "
            f"{o.get('rig_s', {}).get('median')} s; Linux's memory setup ends at {setup} s "
            "(dom0_mem: s from QEMU's start), "
            f"pci-hole's at {o.get('stages_s', {}).get('setup')} s")
    st = p.get("stages")
    if st:
        why["parse_vs_grep"] = (
            f"the parsers: {st['parsers_s']} s over {st['fed_lines']} lines fed to them "
            f"({st['parsers_us_per_fed_line']} µs each; {st['hinted_lines']} hinted, the rest "
            f"in the blocks those open); grep's scan {st['scan_s']} s beside them; the "
            f"interpreter's start {st['startup_s']} s")
    if f.get("j1_s"):
        why["fuzz_scaling"] = (f"-j 1 {f['j1_s']} s, -j 2 {f['j2_s']} s for {f['layouts']} "
                               "layouts")
        b1, b2 = f.get("j1_boot_s"), f.get("j2_boot_s")
        if b1 and b2:
            # summed, not medians: the short boots slow down most and a median weighs them
            # most, while the hour is made of the sum
            s1, s2 = sum(b1["values"]), sum(b2["values"])
            why["fuzz_scaling"] += (
                f"; the boots' own QEMU time sums to {s1:.1f} s at -j 1 and {s2:.1f} s at -j 2 "
                f"(medians {b1['median']} and {b2['median']} s): two QEMUs on this host's two "
                f"cores run {s2 / s1:.2f}x slower, so -j 2 gives about {2 * s1 / s2:.2f}x")
    return {k: v for k, v in why.items() if met(r.get(k), TARGETS[k]) is False}
