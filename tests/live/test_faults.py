"""The fault suite: every bad day is short, classified, logged and leaves no QEMU behind.

Each test asserts the result class, the exit code, that the console log was kept, and that no
QEMU process of the run remains."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from rig.domain import scenario_file
from rig.judge.check import CheckName
from rig.machine import images
from rig.machine.images.store import Store
from rig.machine.qemu import kvm_probe, qemu_binary
from rig.runner.run import RunOptions, run
from tests.live.conftest import boot_qemu, qemu_pids

pytestmark = [pytest.mark.boot, pytest.mark.usefixtures("no_leaked_qemu")]
RIG = [sys.executable, "-m", "rig.cli"]


def only_result(results: Path) -> tuple[dict[str, Any], Path]:
    (folder,) = [p for p in results.iterdir() if p.is_dir()]
    assert (folder / "console.log").exists(), "the console log must be kept"
    return json.loads((folder / "result.json").read_text()), folder


def boot(tmp_path: Path, **opts: Any) -> tuple[dict[str, Any], float]:
    t0 = time.monotonic()
    result, folder = run(scenario_file.load("pci-hole"),
                         RunOptions(accel="tcg", results=tmp_path, **opts))
    doc = result.to_json()
    assert (folder / "console.log").stat().st_size > 0
    return doc, time.monotonic() - t0


def test_guest_kernel_panic(tmp_path: Path) -> None:
    # /init exits: "Kernel panic - not syncing: Attempted to kill init!"
    doc, elapsed = boot(tmp_path, init_commands=("exit 1",))
    assert doc["verdict"] == "crash"
    assert doc["console"]["crash_kind"] == "linux-panic"
    assert elapsed < 60


def test_dom0_crash_under_xen(tmp_path: Path) -> None:
    doc, elapsed = boot(tmp_path, cpu="max")  # emulated SMAP: dom0's first #PF kills it
    assert doc["verdict"] == "crash"
    assert doc["console"]["crash_kind"] == "dom0-crash"
    assert elapsed < 60  # QEMU would idle forever after it (noreboot)


def test_silent_hang(tmp_path: Path) -> None:
    doc, elapsed = boot(tmp_path, init_commands=("sleep 100000",), silence=6.0)
    assert doc["verdict"] == "incomplete"
    assert doc["console"]["outcome"] == "silent"
    console = next(c for c in doc["checks"] if c["name"] == CheckName.CONSOLE)
    assert "no output for 6 s" in console["message"] and "last lines" in console["message"]
    assert elapsed < 60


def test_qemu_killed_mid_boot(tmp_path: Path) -> None:
    proc = subprocess.Popen([*RIG, "run", "pci-hole", "--accel", "tcg", "--results",
                             str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    victims = _booting_qemu(proc.pid)
    assert victims, "rig never started the machine's QEMU"
    for pid in victims:
        os.kill(pid, signal.SIGKILL)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 125, out.decode() + err.decode()  # QEMU dying is infrastructure
    doc, _ = only_result(tmp_path)
    assert doc["verdict"] == "error"


def _booting_qemu(rig_pid: int) -> set[int]:
    """The QEMU that boots rig's machine, once it runs: rig also runs `qemu --version`, which
    may be seen alive for a moment and is gone before a signal reaches it."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = boot_qemu(qemu_pids() & _children(rig_pid))
        if found:
            return found
        time.sleep(0.2)
    return set()


def _children(pid: int) -> set[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    kids = {int(p) for p in out.stdout.split()}
    for kid in list(kids):
        kids |= _children(kid)
    return kids


def _default_signals() -> None:
    """In the child, SIGINT as a terminal gives it: a shell's background job (CI's) starts
    with SIGINT ignored, which rig, like any program, then keeps."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_rig_interrupted(tmp_path: Path, sig: signal.Signals) -> None:
    proc = subprocess.Popen([*RIG, "run", "pci-hole", "--accel", "tcg", "--results",
                             str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=_default_signals)
    assert _booting_qemu(proc.pid), "rig never started the machine's QEMU"
    time.sleep(1.0)
    proc.send_signal(sig)
    proc.communicate(timeout=60)
    if sig == signal.SIGKILL:
        # no handler runs: the parent-death signal must take QEMU down by itself
        (folder,) = [p for p in tmp_path.iterdir() if p.is_dir()]
        assert (folder / "console.log").exists()
        return
    assert proc.returncode == 128 + sig
    doc, _ = only_result(tmp_path)
    assert doc["verdict"] == "error"
    assert any(c["name"] == CheckName.INTERRUPTED for c in doc["checks"])


def test_sigterm_keeps_the_documents_asked_for(tmp_path: Path) -> None:
    """A CI job reads the file it asked for: --json-out and --html are written on every
    ending, a SIGTERM's too."""
    out, page = tmp_path / "r.json", tmp_path / "r.html"
    proc = subprocess.Popen([*RIG, "run", "pci-hole", "--accel", "tcg", "--results",
                             str(tmp_path / "results"), "--json-out", str(out), "--html",
                             str(page)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert _booting_qemu(proc.pid), "rig never started the machine's QEMU"
    time.sleep(3.0)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err.decode()
    doc = json.loads(out.read_text())
    assert doc["verdict"] == "error" and doc["log"]
    assert any(c["name"] == CheckName.INTERRUPTED and "SIGTERM" in c["message"]
               for c in doc["checks"])
    assert CheckName.INTERRUPTED in page.read_text()
    assert "interrupted (SIGTERM)" in err.decode()


def test_a_frozen_qemu_ends_within_the_silence_limit(tmp_path: Path) -> None:
    """QEMU stopped (SIGSTOP) 1.5 s after it started, as a host under memory pressure or a
    wedged QEMU leaves it: every wait on it is bounded, so the run ends as silent within the
    silence limit (and the fixture finds no QEMU left: a stopped one is killed too)."""
    frozen: list[int] = []

    def freeze() -> None:
        victims = _booting_qemu(os.getpid())
        time.sleep(1.5)
        for pid in victims:
            os.kill(pid, signal.SIGSTOP)
            frozen.append(pid)

    thread = threading.Thread(target=freeze, daemon=True)
    thread.start()
    doc, elapsed = boot(tmp_path, silence=6.0)
    thread.join(timeout=5)
    assert frozen, "no QEMU was frozen"
    assert doc["console"]["outcome"] == "silent", doc["console"]
    assert doc["verdict"] == "incomplete"
    assert elapsed < 6.0 + 10, elapsed  # the silence, QMP's bound, the kill
    for pid in frozen:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in _state(pid)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split("\n")[0]
    except (OSError, IndexError):
        return "gone"


def test_corrupt_cached_artifact_is_fetched_again(tmp_path: Path) -> None:
    store = Store()
    rec = store.manifest()["busybox=default"]
    obj = store.object_path(rec.sha256)
    data = bytearray(obj.read_bytes())
    data[100] ^= 0xFF
    obj.write_bytes(bytes(data))
    doc, _ = boot(tmp_path)
    assert doc["verdict"] == "pass"
    note = doc["artifacts"]["busybox"]["note"]
    assert "did not match its sha256" in note
    assert images.fetch("busybox", "default").path.exists()


def test_qemu_binary_missing(tmp_path: Path) -> None:
    env = dict(os.environ, PATH=str(tmp_path / "empty"))
    proc = subprocess.run([*RIG, "run", "pci-hole", "--results", str(tmp_path / "r")],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 125
    assert "qemu-system-x86_64 is not installed" in proc.stdout + proc.stderr
    doc, _ = only_result(tmp_path / "r")
    assert doc["verdict"] == "error"


def test_two_runs_share_a_fresh_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    # seed the fresh cache's apt lists from the warm one so only the lock is under test
    warm = Store().root / "apt"
    if warm.is_dir():
        shutil.copytree(warm, cache / "apt")
    env = dict(os.environ, RIG_CACHE=str(cache))
    procs = [subprocess.Popen([*RIG, "run", "pci-hole", "--accel", "tcg", "--results",
                               str(tmp_path / f"r{i}")], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for i in range(2)]
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, out.decode() + err.decode()
    manifest = json.loads((cache / "manifest.json").read_text())
    assert set(manifest["artifacts"]) == {"xen=4.17", "kernel=6.1", "busybox=default"}


def test_bad_scenario_value(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\n[machine]\nmemory = "4G"\nbelow_4g = "0x80000001"\n')
    proc = subprocess.run([*RIG, "run", str(bad)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "machine.below_4g" in proc.stderr and "0x80000001" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_explicit_kvm_on_this_machine(tmp_path: Path) -> None:
    t0 = time.monotonic()
    proc = subprocess.run([*RIG, "run", "pci-hole", "--accel", "kvm", "--results",
                           str(tmp_path)], capture_output=True, text=True, timeout=120)
    if proc.returncode == 0:
        pytest.skip("KVM works on this host")
    assert proc.returncode == 125
    assert "KVM is not usable" in proc.stdout
    assert time.monotonic() - t0 < 30


@pytest.mark.skipif(not Path("/dev/kvm").exists(), reason="no /dev/kvm to probe")
def test_kvm_probe_says_why_in_seconds() -> None:
    xen = images.fetch("xen", "4.17").path
    t0 = time.monotonic()
    problem = kvm_probe(qemu_binary(), xen, seconds=8)
    if problem is None:
        pytest.skip("KVM boots Xen on this host")
    assert "probe" in problem
    assert time.monotonic() - t0 < 20


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Any:
    """A 16 KiB tmpfs: a results disk that fills during a boot's console log."""
    mnt = tmp_path / "full"
    mnt.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(mnt)],
                          capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_full_results_disk_is_said_once_and_leaves_nothing(tiny_disk: Path) -> None:
    """Issue 34 case 8: two tracebacks and a 0-byte result.json.tmp before."""
    proc = subprocess.run([*RIG, "run", "pci-hole"], capture_output=True, text=True,
                          env={**os.environ, "RIG_RESULTS": str(tiny_disk)}, timeout=300)
    assert proc.returncode == 125, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "(in RIG_RESULTS) cannot be written: the disk holding it is full" in proc.stderr
    (folder,) = list(tiny_disk.iterdir())
    assert (folder / "console.log").stat().st_size > 0  # what fitted is kept
    assert not [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]
