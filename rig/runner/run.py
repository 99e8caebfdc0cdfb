"""One live run: artifacts → rendered files → QEMU → console → saved log → parse → judge.

The verdict comes from parsing the saved console log with the same code as ``rig parse``; what
the console driver saw live only adds how the boot ended (done, crash, hang, QEMU gone).
Whatever happens, the log and a result document are kept and no QEMU process outlives the run.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from rig.machine import build, images, render
from rig.domain import scenario
from rig.judge.checks import Check, Status, judge, scenario_checks
from rig.machine.console import ConsoleResult, Outcome, Stage, drive, silence_for, timeouts_for
from rig.errors import ArtifactError, RigError, UsageError
from rig.machine.images import Artifact, grub, initramfs, vmlinux
from rig.machine.images.store import Store, sha256_file
from rig.domain.kconfig import KernelConfig
from rig.domain.e820 import E820Entry, E820Type
from rig.machine.qemu import Machine, choose_accel, qemu_binary, qemu_version
from rig.model.pv import IBFT_OPTION, Kernel, parse_version
from rig.parse import ParsedLog, parse_file
from rig.parse.crash import Kind
from rig.model.prediction import predict_scenario
from rig.judge.document import document, write
from rig.domain.scenario import Scenario


@dataclass
class RunOptions:
    accel: str = "auto"
    results: Path | None = None
    keep: bool = False
    offline: bool = False
    timeouts: dict[Stage, float] | None = None
    cpu: str = render.DEFAULT_CPU
    #: seconds without console output that count as a hang (default: scaled for the accel)
    silence: float | None = None
    #: extra shell lines for /init before it reports (fault tests make the guest misbehave)
    init_commands: tuple[str, ...] = ()


def results_base() -> Path:
    return Path(os.environ.get("RIG_RESULTS", "rig-results"))


def results_folder(base: Path | None, label: str) -> Path:
    """A new folder ``LABEL-STAMP-PID`` inside ``base`` (default $RIG_RESULTS): the one way rig
    names a results folder. ``label`` is a scenario's validated name or rig's own word; the
    folder must land inside ``base`` whatever it holds."""
    root = (base or results_base()).expanduser().resolve()
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = (root / f"{label}-{stamp}-{os.getpid()}").resolve()
    if folder.parent != root:
        raise UsageError(f"results folder name {label!r} would leave {root}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except NotADirectoryError:
        raise UsageError(f"results folder {root}: a file is in the way") from None
    except OSError as exc:
        raise ArtifactError(f"cannot create the results folder {folder}: {exc.strerror}") \
            from None
    return folder


def validate(s: Scenario) -> None:
    """What the user can fix, before anything is created or booted (exit 2)."""
    if s.firmware == "uefi" and images.is_path(s.xen_version):
        raise UsageError(f"xen.version = {s.xen_version!r}: firmware = \"uefi\" boots Debian's "
                         "xen.efi, so xen.version must be an artifact key (4.17, 4.20)")
    build.check("xen", s.xen_version)
    build.check("kernel", s.kernel)


def _console_check(c: ConsoleResult, exit_status: int | None, refused: bool) -> Check | None:
    if c.outcome is Outcome.DONE:
        return None
    if c.outcome is Outcome.CRASH:
        if refused and c.crash_kind in (Kind.E820_CONFLICT.value, Kind.DOM0_HALT.value):
            return Check("console", Status.PASS, "refusal", c.crash_kind,
                         f"the boot ended when dom0 refused the layout, as predicted: "
                         f"{c.message}")
        return Check("console", Status.CRASH, "done", c.stage.value, c.message)
    if c.outcome in (Outcome.TIMEOUT, Outcome.SILENT):
        return Check("console", Status.INCOMPLETE, "done", c.stage.value, c.message)
    # QEMU left early: its own failure (non-zero status) is infrastructure; a clean exit
    # before /init finished means the guest reset or powered off on its own
    if exit_status not in (0, None):
        return Check("console", Status.ERROR, "done", c.stage.value,
                     f"{c.message}: QEMU exit status {exit_status}")
    return Check("console", Status.CRASH, "done", c.stage.value,
                 f"{c.message}: the guest reset or powered off before rig's /init finished")


def run(s: Scenario, opts: RunOptions) -> tuple[dict[str, Any], Path]:
    """Boot ``s`` once. Returns the result document and the results folder."""
    t0 = time.monotonic()
    validate(s)
    out_dir = results_folder(opts.results, s.name)
    log_path = out_dir / "console.log"
    result_path = out_dir / "result.json"
    timings: dict[str, Any] = {}
    live: dict[str, Any] = {"scenario": s.to_json(), "log": str(log_path), "timings": timings}
    # the QMP socket lives in a private (0700) folder with a short path, always removed; the
    # rendered files live beside it, or in the results folder with --keep
    sock_dir = Path(tempfile.mkdtemp(prefix="rig-"))
    if opts.keep:
        run_dir = out_dir / "run"
        run_dir.mkdir(mode=0o700)
    else:
        run_dir = sock_dir
    try:
        try:
            doc = _boot(s, opts, run_dir, sock_dir / "qmp.sock", log_path, live, timings, t0)
        except UsageError as exc:
            # found late (e.g. a src: tree that does not build): keep what there is, exit 2
            doc = _partial(log_path, live, Check("usage", Status.ERROR, message=str(exc)))
            timings["total_s"] = round(time.monotonic() - t0, 3)
            write(doc, result_path)
            raise
        except RigError as exc:
            doc = _partial(log_path, live, Check("infrastructure", Status.ERROR,
                                                 message=str(exc)))
        except BaseException as exc:
            # Ctrl-C, SIGTERM, a bug: keep what there is, say why, and let it propagate
            why = type(exc).__name__ + (f": {exc}" if str(exc) else "")
            doc = _partial(log_path, live, Check("interrupted", Status.ERROR,
                                                 message=f"the run was stopped ({why})"))
            timings["total_s"] = round(time.monotonic() - t0, 3)
            write(doc, result_path)
            raise
        timings["total_s"] = round(time.monotonic() - t0, 3)
        write(doc, result_path)
        return doc, out_dir
    finally:
        shutil.rmtree(sock_dir, ignore_errors=True)


OVMF_CODE = Path("/usr/share/OVMF/OVMF_CODE_4M.fd")
OVMF_VARS = Path("/usr/share/OVMF/OVMF_VARS_4M.fd")


def _uefi_files(s: Scenario, run_dir: Path, offline: bool) -> dict[str, str]:
    """OVMF's flash (code read-only, a private copy of the variables) and an ESP folder with
    xen.efi as EFI/BOOT/BOOTX64.EFI beside its config, dom0's kernel and the initramfs."""
    for p in (OVMF_CODE, OVMF_VARS):
        if not p.is_file():
            raise ArtifactError(f"{p} is missing (apt-get install ovmf)")
    xen_efi = images.fetch("xen-efi", s.xen_version, offline=offline)
    boot = run_dir / "esp" / "EFI" / "BOOT"
    boot.mkdir(parents=True)
    # real files: QEMU's virtual FAT serves what it finds, and a link is no file to it
    shutil.copyfile(xen_efi.path, boot / "BOOTX64.EFI")
    shutil.copyfile(run_dir / "vmlinuz", boot / "vmlinuz")
    shutil.copyfile(run_dir / "initrd.gz", boot / "initrd.gz")
    (boot / "BOOTX64.cfg").write_text(render.xen_efi_cfg(s))
    shutil.copyfile(OVMF_VARS, run_dir / "OVMF_VARS.fd")
    return {"esp": str(run_dir / "esp"), "ovmf_code": str(OVMF_CODE),
            "ovmf_vars": str(run_dir / "OVMF_VARS.fd")}


def _recorded_map(s: Scenario, parsed: ParsedLog, boot_files: list[Path]
                  ) -> list[E820Entry] | None:
    """OVMF's map for this machine, RAM size and boot files (OVMF's own allocations move with
    the size of what it loads): the one recorded before, or (first time) the one this boot
    printed, which is recorded now."""
    if s.firmware != "uefi":
        return None
    h = hashlib.sha256()
    for p in [OVMF_CODE, *boot_files]:
        h.update(sha256_file(p).encode() if p.is_file() else b"none")
    path = (Store().root / "maps" /
            f"ovmf-{s.machine_type}-{s.memory:#x}-{s.below_4g or 0:#x}-{h.hexdigest()[:16]}.json")
    if path.is_file():
        return [E820Entry(e["start"], e["end"], E820Type(e["type"]))
                for e in json.loads(path.read_text())]
    if parsed.xen.e820:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps([e.to_json() for e in parsed.xen.e820]))
        tmp.replace(path)
    return None


def dom0_image(s: Scenario, kernel: Artifact) -> vmlinux.Image:
    """What Xen loads as dom0's kernel: on a direct boot the ELF inside the bzImage (Xen's own
    unpacking costs seconds under TCG; QEMU reads the ELF from the host), else the bzImage
    (GRUB reads a big ELF slowly from the CD, OVMF's boot is the user's shape). rig.images.
    vmlinux says why, with the measurements."""
    if s.boot != "direct":
        return vmlinux.Image(kernel.path, "bzImage", why=f"{s.boot} boots load the bzImage")
    return vmlinux.elf_for_xen(kernel.path, kernel.record.sha256)


def _partial(log_path: Path, live: dict[str, Any], why: Check) -> dict[str, Any]:
    """The document of a run that ended early: whatever the log holds, plus why."""
    log_path.touch()
    parsed = parse_file(log_path)
    doc = document(parsed, judge(parsed), [why], **live)
    doc["verdict"] = Status.ERROR.label
    return doc


def _boot(s: Scenario, opts: RunOptions, run_dir: Path, qmp_socket: Path, log_path: Path,
          live: dict[str, Any], timings: dict[str, Any], t0: float) -> dict[str, Any]:
    binary = qemu_binary()
    xen = build.resolve("xen", s.xen_version, offline=opts.offline)
    kernel = build.resolve("kernel", s.kernel, offline=opts.offline)
    busybox = images.fetch("busybox", "default", offline=opts.offline)
    live["artifacts"] = {"xen": xen.to_json(), "kernel": kernel.to_json(),
                         "busybox": busybox.to_json()}
    timings["artifacts_s"] = round(time.monotonic() - t0, 3)
    choice = choose_accel(opts.accel, xen.path, binary)
    live["accelerator"] = {"accel": choice.accel, "reason": choice.reason,
                           "qemu_version": qemu_version(binary), "cpu": opts.cpu}

    image = dom0_image(s, kernel)
    live["artifacts"]["kernel"]["loaded"] = image.to_json()
    # short, space-free names inside the private run folder for the multiboot module lines
    for name, path in (("xen", xen.path), ("vmlinuz", image.path)):
        (run_dir / name).symlink_to(path)
    init_text = render.init_script(list(opts.init_commands))
    (run_dir / "init").write_text(init_text)
    initramfs.build(busybox.path, init_text, run_dir / "initrd.gz")
    uefi: dict[str, str] = {}
    if s.boot == "uefi":
        uefi = _uefi_files(s, run_dir, opts.offline)
    iso = None
    if s.boot == "grub":
        cfg = render.grub_cfg(s)
        (run_dir / "grub.cfg").write_text(cfg)
        iso = grub.build_iso(cfg, run_dir / "xen", run_dir / "vmlinuz", run_dir / "initrd.gz",
                             run_dir / "rig.iso")
        timings["iso_s"] = round(time.monotonic() - t0 - timings["artifacts_s"], 3)
    spec = render.machine_spec(s, accel=choice.accel, xen=str(run_dir / "xen"),
                               kernel=str(run_dir / "vmlinuz"), initrd=str(run_dir / "initrd.gz"),
                               qmp_socket=str(qmp_socket), cpu=opts.cpu,
                               iso=str(iso) if iso else None, **uefi)
    argv = [binary, *render.qemu_args(spec)]
    live["accelerator"].update(cpu=spec.cpu, machine_type=spec.machine_type,
                               machine_reasons=render.machine_reasons(s, spec))
    (run_dir / "qemu.args").write_text("\n".join(argv) + "\n")
    live["machine"] = {"argv": argv, "rerun": render.without_qmp(argv)}

    t_boot = time.monotonic()
    with open(log_path, "wb") as log, Machine(argv, log, qmp_socket) as m:
        try:
            kvm = m.query("query-kvm")
            live["accelerator"]["kvm_enabled"] = bool(kvm.get("enabled"))
        except RigError:
            pass  # QEMU already gone: the console result says why
        console = drive(m.console, timeouts_for(choice.accel, opts.timeouts),
                        opts.silence or silence_for(choice.accel))
        m.stop()
        timings["qemu_stopped_s"] = round(time.monotonic() - t_boot, 3)
        timings["qemu_peak_rss_kb"] = m.peak_rss_kb
        exit_status = m.exit_status
    timings["boot_s"] = round(time.monotonic() - t_boot, 3)
    timings["stages"] = console.timeline
    live["console"] = console.to_json()

    parsed = parse_file(log_path)
    recorded = _recorded_map(s, parsed, [
        Path(uefi["esp"]) / "EFI" / "BOOT" / name
        for name in ("BOOTX64.EFI", "vmlinuz", "initrd.gz")] if uefi else [])
    config = None
    if kernel.config:
        rec = kernel.record
        config = KernelConfig.load(kernel.config, f"{rec.config_file} of {rec.package}"
                                   if rec.config_file else str(kernel.config))
    release = images.kernel_release(kernel.path)
    judgement = judge(parsed, expect_init=True, kernel_config=config, kernel_release=release)
    model_kernel = _model_kernel(parsed, s, config, release)
    fw_map, fw_source = firmware_read(s, parsed)
    emulated = predict_scenario(s, recorded, kernel=model_kernel)
    sp = predict_scenario(s, recorded, firmware_map=fw_map, firmware_source=fw_source,
                          kernel=model_kernel) if fw_map else emulated
    live["scenario_prediction"] = emulated.to_json()
    extra = scenario_checks(parsed, sp, emulated, judgement)
    extra += grub_checks(parsed)
    extra += [c for c in [_console_check(console, exit_status, judgement.refused)]
              if c is not None]
    return document(parsed, judgement, extra, **live)


#: GRUB errors every boot of rig's machine prints, and why they are harmless
_GRUB_KNOWN = (
    # the multiboot loader probes VBE for a video mode; rig's QEMU has no VGA ("-vga none")
    ("boot", "Can't get controller info"),
)


def grub_checks(parsed: ParsedLog) -> list[Check]:
    """GRUB's errors before Xen: one in a command that shapes the map (lsmmap, cutmem,
    badram) means the machine is not the one asked for (infrastructure, exit 125); others
    (the multiboot loader's VBE probe fails under "-vga none") are reported, not judged."""
    grub = parsed.grub
    errors = [(c, m) for c, m in grub.errors
              if not any(c.startswith(cmd) and m.startswith(msg) for cmd, msg in _GRUB_KNOWN)]
    if not errors:
        return []
    said = "; ".join(f"'{c}': {m}" for c, m in errors[:3])
    if grub.layout_errors:
        command, message = grub.layout_errors[0]
        return [Check("grub", Status.ERROR, None, f"{command}: {message}",
                      f"GRUB failed in '{command}' ({message}) before it started Xen: the "
                      "machine lacks what the scenario asked for")]
    return [Check("grub", Status.WARN, None, said,
                  f"GRUB printed errors that do not touch the memory map: {said}")]


def firmware_read(s: Scenario, parsed: ParsedLog) -> tuple[list[E820Entry] | None, str]:
    """The firmware's own map as this boot showed it: GRUB's ``lsmmap`` before it punched the
    holes, or Xen's map when nothing stood between the firmware and Xen (no holes)."""
    if parsed.grub.mmap:
        return parsed.grub.mmap, "GRUB's lsmmap on this boot"
    if s.boot == "direct" and parsed.xen.e820:
        return parsed.xen.e820, "Xen's E820 on this boot (nothing punched)"
    return None, "none"


def _model_kernel(parsed: ParsedLog, s: Scenario, config: KernelConfig | None,
                  release: str | None) -> Kernel | None:
    """The kernel as the model sees it for ``rig predict``'s checks: the version it booted,
    the configuration of its artifact."""
    try:
        version = parse_version(parsed.linux.version or release or s.kernel)
    except ValueError:
        return None
    ibft = config.enabled(IBFT_OPTION) if config else None
    return Kernel(version, "the booted kernel", ibft, config.source if config else None)


def render_folder(s: Scenario, dest: Path, accel: str = "tcg") -> list[Path]:
    """Write every generated file of ``s`` to ``dest`` (``rig render``): the QEMU arguments,
    grub.cfg, both command lines, /init and the prediction. Artifacts already in the cache are
    linked in, so the folder boots by hand; missing ones are named in README.txt."""
    dest.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {
        "xen.cmdline": render.xen_cmdline(s) + "\n",
        "dom0.cmdline": render.dom0_cmdline(s) + "\n",
        "init": render.init_script(),
        "prediction.json": json.dumps(predict_scenario(s).to_json(), indent=2) + "\n",
    }
    if s.boot == "grub":
        files["grub.cfg"] = render.grub_cfg(s)
    missing = []
    unpacked: str | None = None
    for kind, name, target in (("xen", s.xen_version, "xen"), ("kernel", s.kernel, "vmlinuz"),
                               ("busybox", "default", "busybox")):
        link = dest / target
        link.unlink(missing_ok=True)
        try:
            art = build.resolve(kind, name, offline=True)
            points_to = art.path
            if kind == "kernel":
                image = dom0_image(s, art)
                points_to, unpacked = image.path, image.unpacked_from
            link.symlink_to(points_to)
        except RigError:
            missing.append(f"{target}: {kind}={name} (run `rig images fetch` or `rig run` once)")
    uefi: dict[str, str] = {}
    if not missing:
        initramfs.build(dest / "busybox", files["init"], dest / "initrd.gz")
        if s.boot == "grub":
            grub.build_iso(files["grub.cfg"], dest / "xen", dest / "vmlinuz", dest / "initrd.gz",
                           dest / "rig.iso")
        if s.boot == "uefi":
            shutil.rmtree(dest / "esp", ignore_errors=True)
            uefi = _uefi_files(s, dest, offline=True)
    spec = render.machine_spec(s, accel=accel, xen=str(dest / "xen"),
                               kernel=str(dest / "vmlinuz"), initrd=str(dest / "initrd.gz"),
                               qmp_socket=str(dest / "qmp.sock"),
                               iso=str(dest / "rig.iso") if s.boot == "grub" else None, **uefi)
    files["qemu.args"] = "\n".join(render.qemu_args(spec)) + "\n"
    readme = ["Files rendered by `rig render` for scenario " + s.name + ".",
              "qemu.args holds one argument per line; run it with:",
              "  mapfile -t A < qemu.args && qemu-system-x86_64 \"${A[@]}\""]
    if unpacked:
        readme.append(f"vmlinuz is the ELF unpacked from the kernel's bzImage ({unpacked}), as "
                      "rig run hands it to Xen on a direct boot: Xen's own unpacking is slow "
                      "under TCG")
    if missing:
        readme += ["Not in the cache, so not linked here:", *(f"  {m}" for m in missing)]
    files["README.txt"] = "\n".join(readme) + "\n"
    written = []
    for name, text in files.items():
        (dest / name).write_text(text)
        written.append(dest / name)
    return written


@dataclass
class RunRequest:
    """What ``rig run`` was asked for."""

    scenario: str
    sets: list[str]
    options: RunOptions
    kernel: str | None = None
    xen: str | None = None
    json_out: Path | None = None
    html: Path | None = None


def main_run(req: RunRequest) -> int:
    """``rig run``: boot once, print the summary, write the documents asked for."""
    from rig.output import html
    from rig.judge.document import check_output, summary, verdict

    s = scenario.load(req.scenario, scenario.overrides_from(req.sets, kernel=req.kernel,
                                                             xen=req.xen))
    check_output(req.json_out, "--json-out")
    check_output(req.html, "--html")
    doc, out_dir = run(s, req.options)
    print(summary(doc))
    if req.json_out:
        write(doc, req.json_out)
    if req.html:
        html.write_page([(s.name, doc)], req.html, f"rig run {s.name}")
    if req.options.keep and doc.get("machine"):
        print(f"kept      {out_dir / 'run'}")
        print("rerun     " + shlex.join(doc["machine"]["rerun"]))
    return verdict(doc).exit_code


def main_render(name: str, sets: list[str], dest: Path, accel: str) -> int:
    """``rig render``: every generated file of a scenario into ``dest``."""
    s = scenario.load(name, scenario.overrides_from(sets))
    if dest.exists() and not dest.is_dir():
        raise UsageError(f"-o {str(dest)!r} is a file: give a folder")
    for path in render_folder(s, dest, accel=accel):
        print(path)
    return 0
