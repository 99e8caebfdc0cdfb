"""One live run: artifacts → rendered files → QEMU → console → saved log → parse → judge.

The verdict comes from parsing the saved console log with the same code as ``rig parse``; what
the console driver saw live only adds how the boot ended (done, crash, hang, QEMU gone).
Whatever happens, the log and a result document are kept and no QEMU process outlives the run.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from msgspec import UNSET

from rig import progress
from rig.domain.scenario import Scenario
from rig.errors import OS_ERRORS, ArtifactError, MachineError, RigError, UsageError, os_error
from rig.judge.check import Check, CheckName, Status
from rig.judge.records import (
    AcceleratorRecord,
    ArtifactRecord,
    ArtifactsRecord,
    ConsoleOutcome,
    ConsoleRecord,
    Live,
    LoadedRecord,
    QemuCommand,
    ScenarioRecord,
    TimingsRecord,
)
from rig.machine import build, images, render
from rig.machine.cpu import DEFAULT_CPU
from rig.machine.images import Artifact, grub, initramfs, seabios, vmlinux
from rig.machine.images.store import Store
from rig.machine.qemu import (
    AccelChoice,
    Echo,
    Machine,
    choose_accel,
    qemu_binary,
    qemu_version,
)
from rig.machine.timeouts import Limits, Stage, silence_for, timeouts_for
from rig.model.firmware import firmware_problem
from rig.runner import ovmf

if TYPE_CHECKING:
    from rig.judge.result import Result

#: what comes after a boot (parsers, model, judge): imported while QEMU boots (rig.runner.judged)
AFTER_BOOT = "rig.runner.judged"


@dataclass
class RunOptions:
    accel: str = "auto"
    results: Path | None = None
    keep: bool = False
    offline: bool = False
    timeouts: dict[Stage, float] | None = None
    cpu: str = DEFAULT_CPU
    #: seconds without console output that count as a hang (default: scaled for the accel)
    silence: float | None = None
    #: extra shell lines for /init before it reports (fault tests make the guest misbehave)
    init_commands: tuple[str, ...] = ()
    #: called with the result however the run ends (a pass, a failure, SIGTERM), once
    #: result.json is written: ``rig run`` writes --json-out and --html there
    on_result: Callable[[Result], None] | None = None
    #: stop once Linux's memory setup is over and Xen has given its count (``--quick``)
    quick: bool = False
    #: the results folder itself (``--output DIR``: fixed names), not a dated one in ``results``
    folder: Path | None = None
    #: the QEMU binary (``--qemu``); else $RIG_QEMU, else PATH's
    qemu: str | None = None
    #: stream the serial console to standard output as it arrives (``-v``)
    verbose: bool = False


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
    if (problem := firmware_problem(s)) is not None:
        raise UsageError(problem)


def run(s: Scenario, opts: RunOptions) -> tuple[Result, Path]:
    """Boot ``s`` once. Returns the result and the results folder."""
    t0 = time.monotonic()
    validate(s)
    out_dir = opts.folder or results_folder(opts.results, s.name)
    log_path = out_dir / "console.log"
    result_path = out_dir / "result.json"
    live = Live(scenario=ScenarioRecord.of(s), log=str(log_path), timings=TimingsRecord(),
                mode="quick" if opts.quick else UNSET)
    # the QMP socket lives in a private (0700) folder with a short path, always removed; the
    # rendered files live beside it, or in the results folder with --keep
    sock_dir = Path(tempfile.mkdtemp(prefix="rig-"))
    if opts.keep:
        run_dir = out_dir / "run"
        run_dir.mkdir(mode=0o700)
    else:
        run_dir = sock_dir
    boot = _Boot(s, opts, run_dir, sock_dir / "qmp.sock", log_path, live, t0)
    try:
        try:
            result = boot.run()
        except UsageError as exc:
            # found late (e.g. a src: tree that does not build): keep what there is, exit 2
            boot.settle()
            result = _partial(log_path, live, Check(CheckName.USAGE, Status.ERROR,
                                                    message=str(exc)))
            boot.finish(result, result_path)
            raise
        except RigError as exc:
            boot.settle()
            result = _partial(log_path, live, Check(CheckName.INFRASTRUCTURE, Status.ERROR,
                                                    message=str(exc)))
        except OSError as exc:
            if exc.errno not in OS_ERRORS:
                raise
            # a full or read-only results disk: said once, as rig.errors' table says it;
            # the partial result is kept if the disk takes it, and no temporary file is left
            if exc.filename is None:  # a write() names no file: the run's folder is the place
                exc.filename = str(out_dir)
            err = os_error(exc, {"RIG_RESULTS": str(opts.results or results_base())})
            boot.settle()
            with contextlib.suppress(OSError):
                boot.finish(_partial(log_path, live, Check(CheckName.INFRASTRUCTURE, Status.ERROR,
                                                           message=str(err))), result_path)
            raise err from None
        except BaseException as exc:
            # Ctrl-C, SIGTERM, a bug: keep what there is, say why, and let it propagate
            why = type(exc).__name__ + (f": {exc}" if str(exc) else "")
            boot.settle()
            result = _partial(log_path, live, Check(CheckName.INTERRUPTED, Status.ERROR,
                                                    message=f"the run was stopped ({why})"))
            boot.finish(result, result_path)
            raise
        boot.finish(result, result_path)
        return result, out_dir
    finally:
        shutil.rmtree(sock_dir, ignore_errors=True)


def dom0_image(s: Scenario, kernel: Artifact) -> vmlinux.Image:
    """What Xen loads as dom0's kernel: on a direct boot the ELF inside the bzImage (Xen's own
    unpacking costs seconds under TCG; QEMU reads the ELF from the host), else the bzImage
    (GRUB reads a big ELF slowly from the CD, OVMF's boot is the user's shape).
    rig.machine.images.vmlinux says why, with the measurements."""
    if s.boot != "direct":
        return vmlinux.Image(kernel.path, "bzImage", why=f"{s.boot} boots load the bzImage")
    return vmlinux.elf_for_xen(kernel.path, kernel.record.sha256)


def _partial(log_path: Path, live: Live, why: Check) -> Result:
    from rig.runner import judged

    return judged.partial(log_path, live, why)


def _artifact(art: Artifact) -> ArtifactRecord:
    r = art.record
    return ArtifactRecord(key=r.key, package=r.package, version=r.version, suite=r.suite,
                          sha256=r.sha256, path=str(art.path), note=art.note,
                          config=str(art.config) if art.config else None)


def _loaded(image: vmlinux.Image) -> LoadedRecord:
    return LoadedRecord(form=image.form, path=str(image.path), unpacked_from=image.unpacked_from,
                        why=image.why)


class _Boot:
    """The steps of one boot, each filling ``live`` as it goes (a partial result keeps what
    the steps before the failure found)."""

    def __init__(self, s: Scenario, opts: RunOptions, run_dir: Path, qmp_socket: Path,
                 log_path: Path, live: Live, t0: float) -> None:
        self.s, self.opts, self.run_dir, self.qmp_socket = s, opts, run_dir, qmp_socket
        self.log_path, self.live, self.t0 = log_path, live, t0
        assert live.timings is not None
        self.timings: TimingsRecord = live.timings
        #: rig's test firmware, when the scenario has entries only it makes
        self.bios: Path | None = None
        #: what Xen was handed as dom0's kernel (found while rendering)
        self.image: vmlinux.Image | None = None
        #: the kernel artifact as given (a bzImage's header names its release)
        self.kernel_path: Path | None = None
        #: SeaBIOS's debug console, kept beside the console log
        self.firmware_log = log_path.with_name("firmware.log")
        #: the thread importing what comes after the boot, once QEMU runs
        self.imports: threading.Thread | None = None
        self.binary: str | None = None

    def settle(self) -> None:
        """What a result needs before it is made: the imports made while QEMU booted (one
        import of a module at a time), and QEMU's version when QMP did not give it."""
        if self.imports is not None:
            self.imports.join()
        acc = self.live.accelerator
        if acc is not None and not acc.qemu_version and self.binary:
            try:
                acc.qemu_version = qemu_version(self.binary)
            except MachineError:
                acc.qemu_version = "unknown"

    def _since(self, t: float) -> float:
        return round(time.monotonic() - t, 3)

    def finish(self, result: Result, path: Path) -> None:
        from rig.judge.result import write

        self.timings.total_s = self._since(self.t0)
        write(result, path)
        if self.opts.on_result is not None:
            self.opts.on_result(result)

    def run(self) -> Result:
        binary = qemu_binary(self.opts.qemu)
        s, opts, live = self.s, self.opts, self.live
        xen = build.resolve("xen", s.xen_version, offline=opts.offline)
        kernel = build.resolve("kernel", s.kernel, offline=opts.offline)
        busybox = images.fetch("busybox", "default", offline=opts.offline)
        live.artifacts = ArtifactsRecord(xen=_artifact(xen), kernel=_artifact(kernel),
                                         busybox=_artifact(busybox))
        if s.firmware_entries:
            record, path = seabios.firmware(offline=opts.offline)
            self.bios = path
            live.artifacts.firmware = _artifact(Artifact(record, path))
        self.timings.artifacts_s = self._since(self.t0)
        choice = choose_accel(opts.accel, xen.path, binary)
        self.binary = binary
        # QEMU's version comes from QMP once it runs (query-version): `qemu --version` cost
        # every run ~25 ms before QEMU started
        live.accelerator = AcceleratorRecord(accel=choice.accel, reason=choice.reason,
                                             qemu_version="", cpu=opts.cpu, qemu=binary)
        argv, esp = self._render(binary, choice, xen, kernel, busybox)
        with progress.step(f"booting {s.name} ({choice.accel})"):
            console, exit_status = self._boot(argv, choice)
        result = self._judge(kernel, console, exit_status, esp)
        self.timings.judged_s = self._since(self.t0)
        return result

    def _render(self, binary: str, choice: AccelChoice, xen: Artifact, kernel: Artifact,
                busybox: Artifact) -> tuple[list[str], Path | None]:
        """The run folder's files and QEMU's command line; the ESP folder of a UEFI boot."""
        s, run_dir, live = self.s, self.run_dir, self.live
        assert live.artifacts is not None and live.accelerator is not None
        image = dom0_image(s, kernel)
        self.image, self.kernel_path = image, Path(kernel.path)
        live.artifacts.kernel.loaded = _loaded(image)
        # short, space-free names inside the private run folder for the multiboot module lines
        for name, path in (("xen", xen.path), ("vmlinuz", image.path)):
            (run_dir / name).symlink_to(path)
        init_text = render.init_script(list(self.opts.init_commands))
        (run_dir / "init").write_text(init_text)
        initramfs.build_cached(busybox.path, busybox.record.sha256, init_text,
                               run_dir / "initrd.gz", Store())
        uefi = ovmf.uefi_files(s, run_dir, self.opts.offline) if s.boot == "uefi" else None
        iso = None
        if s.boot == "grub":
            cfg = render.grub_cfg(s)
            (run_dir / "grub.cfg").write_text(cfg)
            iso = grub.build_iso(cfg, run_dir / "xen", run_dir / "vmlinuz",
                                 run_dir / "initrd.gz", run_dir / "rig.iso")
            assert isinstance(self.timings.artifacts_s, float)
            self.timings.iso_s = round(self._since(self.t0) - self.timings.artifacts_s, 3)
        firmware = None
        if self.bios is not None:
            for name, data in render.firmware_files(s).items():
                (run_dir / name).write_bytes(data)
            firmware = render.FirmwareFiles(str(self.bios), str(run_dir / render.E820_ENTRIES))
        files = render.BootFiles(xen=str(run_dir / "xen"), kernel=str(run_dir / "vmlinuz"),
                                 initrd=str(run_dir / "initrd.gz"),
                                 qmp_socket=str(self.qmp_socket),
                                 iso=str(iso) if iso else None, uefi=uefi, firmware=firmware,
                                 debug_log=str(self.firmware_log))
        spec = render.machine_spec(s, files, accel=choice.accel, cpu=self.opts.cpu)
        if spec.debug_log:
            live.firmware_log = spec.debug_log
        argv = [binary, *render.qemu_args(spec)]
        acc = live.accelerator
        acc.cpu, acc.machine_type = spec.cpu, spec.machine_type
        acc.machine_reasons = render.machine_reasons(s, spec)
        (run_dir / "qemu.args").write_text("\n".join(argv) + "\n")
        live.machine = QemuCommand(argv=argv, rerun=render.without_qmp(argv))
        return argv, Path(uefi.esp) if uefi else None

    def _boot(self, argv: list[str], choice: AccelChoice) -> tuple[ConsoleRecord, int | None]:
        """QEMU from start to stop; how the console saw the boot end, and QEMU's status."""
        live, timings, opts = self.live, self.timings, self.opts
        assert live.accelerator is not None
        t_boot = time.monotonic()
        timings.qemu_start_s = self._since(self.t0)
        with open(self.log_path, "wb") as file, \
                Machine(argv, Echo(file, sys.stdout.buffer) if opts.verbose else file,
                        self.qmp_socket) as m:
            self.imports = _import_after_boot()
            # the console's stage and crash patterns (the parsers' tables, compiled on import)
            # are needed only once QEMU prints: its output waits in the pty meanwhile
            from rig.machine.console import StopAt, drive

            try:
                kvm = m.query("query-kvm")
                live.accelerator.kvm_enabled = bool(kvm.get("enabled"))
                live.accelerator.qemu_version = m.version() or ""
            except RigError:
                pass  # QEMU already gone: the console result says why
            # the model is imported once QEMU runs (its output waits in the pty meanwhile)
            from rig.model.cost import limit_scale

            scale = limit_scale(self.s)
            limits = Limits(timeouts_for(choice.accel, opts.timeouts, scale),
                            opts.silence or silence_for(choice.accel, scale))
            console = drive(m.console, limits, started_at=m.started_at,
                            stop_at=StopAt(Stage.SETUP, self._quick_end()) if opts.quick
                            else None)
            given = (opts.silence is not None if console.outcome is ConsoleOutcome.SILENT
                     else console.waited_for in (opts.timeouts or {}))
            if console.outcome in (ConsoleOutcome.TIMEOUT, ConsoleOutcome.SILENT) \
                    and scale > 1 and not given:
                console.message += (f" (limits scaled x{scale:.2f}: rig.model.cost expects this "
                                     "machine's boot to take that much longer than pci-hole's)")
            m.stop()
            timings.qemu_stopped_s = self._since(t_boot)
            timings.qemu_peak_rss_kb = m.peak_rss_kb
            exit_status = m.exit_status
        timings.boot_s = self._since(t_boot)
        timings.stages = console.timeline
        live.console = console.record()
        return live.console, exit_status

    def _quick_end(self) -> bytes:
        """The line after which a quick boot's checks have their evidence, from the booted
        kernel's release (its image's header); a PVH dom0 never remaps (xen_remap_memory()
        is PV's), and ends at Memory:."""
        path = self.kernel_path
        if path is None or self.s.dom0_mode == "pvh":
            return quick_end(None, None)
        return quick_end(vmlinux.kernel_release(path), vmlinux.kernel_upstream(path))

    def _judge(self, kernel: Artifact, console: ConsoleRecord, exit_status: int | None,
               esp: Path | None) -> Result:
        self.settle()
        from rig.runner import judged

        return judged.finished(self.s, self.live,
                               judged.BootLogs(self.log_path, self.firmware_log),
                               judged.Dom0Kernel(kernel, self.image),
                               judged.BootEnd(console, exit_status), esp, self.opts.quick)


def quick_end(release: str | None, upstream: str | None) -> bytes:
    """The live pattern of the last line of Linux's memory setup a quick boot's checks need,
    for a kernel of ``release`` (rig.parse.stages.QUICK_END): 6.12+ (the NVS swap's kernels)
    "Remapped N non-RAM page(s)", 3.19+ (era E) "Remapped N page(s)", else, or undated,
    Memory:."""
    from rig.model.kernel import Era, era_for, fixes_of, release_version
    from rig.parse.stages import QUICK_END

    try:
        version = release_version(release or "", upstream)
    except ValueError:
        return QUICK_END["memory"].live
    if "nvs-swap" in fixes_of(version):
        return QUICK_END["nonram"].live
    # era D (3.18) prints "Remapped N page(s), last_pfn=M" inside xen_memory_setup(), before
    # Released and the E820: only era E's comes after them (xen_pagetable_init())
    return QUICK_END["remapped" if era_for(version) is Era.E else "memory"].live


def _import_after_boot() -> threading.Thread:
    """Import what judging needs in a thread, started once QEMU runs: the console's reader
    waits on QEMU most of the time, so the imports cost the run nothing (they cost ~0.1 s
    before QEMU started). A failed import fails again where it is used, and says so there."""
    def work() -> None:
        with contextlib.suppress(Exception):  # raised again, with its traceback, where used
            importlib.import_module(AFTER_BOOT)

    t = threading.Thread(target=work, name="rig-after-boot-imports", daemon=True)
    t.start()
    return t
