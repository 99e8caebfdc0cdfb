"""Where users run rig: a Debian container (the example workflow), an Ubuntu runner without it,
a host with the user's own archive (RIG_APT_SOURCES), and hosts without apt (Fedora, Arch).
Fixture sources and os-release files stand in for those hosts, so this cannot rot unseen."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from rig.cli import main
from rig.errors import UsageError
from rig.machine.images import apt
from rig.machine.images.apt import AptRoot, NoSourceError, _deb822

HOSTS = Path(__file__).resolve().parents[1] / "fixtures" / "hosts"
TOP = Path(__file__).resolve().parents[2]
BOOKWORM = ["bookworm", "bookworm-updates", "bookworm-security"]


def entries(name: str) -> list[apt.SourceEntry]:
    return _deb822((HOSTS / name).read_text())


def test_a_debian_container_reuses_its_own_archive() -> None:
    out = apt.sources_for([*BOOKWORM, "trixie", "sid"], entries("debian-12-container.sources"))
    assert [(e.uris[0], e.suites[0]) for e in out] == [
        ("http://archive.example/debian", "bookworm"),
        ("http://archive.example/debian", "bookworm-updates"),
        ("http://security.example/debian-security", "bookworm-security"),
        ("http://archive.example/debian", "trixie"),
        ("http://archive.example/debian", "sid")]


def test_an_ubuntu_runner_is_told_what_to_do_not_given_ubuntus_archive() -> None:
    with pytest.raises(NoSourceError) as err:
        apt.sources_for(BOOKWORM, entries("ubuntu-24.04.sources"))
    text = str(err.value)
    assert "'bookworm'" in text and "RIG_APT_SOURCES" in text
    assert "Hosts without Debian's archive" in text
    assert err.value.exit_code == 2


def test_the_cli_exits_2_on_an_ubuntu_runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    parts = tmp_path / "sources.list.d"
    parts.mkdir()
    shutil.copy(HOSTS / "ubuntu-24.04.sources", parts / "ubuntu.sources")
    monkeypatch.setattr(apt, "SYSTEM_SOURCES", tmp_path / "sources.list")
    monkeypatch.setattr(apt, "SYSTEM_SOURCE_PARTS", parts)
    monkeypatch.setattr(apt.system_sources, "__defaults__", (tmp_path / "sources.list", parts))
    monkeypatch.setenv("RIG_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("RIG_APT_SOURCES", raising=False)
    assert main(["images", "fetch", "kernel=6.1"]) == 2
    err = capsys.readouterr().err
    assert "no Debian apt source for suite 'bookworm'" in err and "Traceback" not in err


def test_rig_apt_sources_replaces_the_system_and_keeps_an_inline_key(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIG_APT_SOURCES", str(HOSTS / "rig-apt-sources.sources"))
    root = AptRoot(tmp_path, BOOKWORM)
    root._write()
    written = (tmp_path / "sources.list.d" / "rig.sources").read_text()
    assert "URIs: https://mirror.example/debian\nSuites: bookworm\n" in written
    assert "URIs: https://mirror.example/debian-security\nSuites: bookworm-security\n" in written
    assert "Signed-By: /etc/keys/company-debian.gpg\n" in written
    # the armoured key keeps its lines, indented, and its empty line as " ."
    assert ("Signed-By: \n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n mQINBGPL0BUBEADmW5Nd"
            in written)
    assert " -----END PGP PUBLIC KEY BLOCK-----\n" in written
    # other suites reuse the file's archive of their flavour; none of that flavour: the user's
    # file is the one to fix
    with pytest.raises(NoSourceError, match="RIG_APT_SOURCES="):
        AptRoot(tmp_path / "other", ["bullseye-backports"])._write()
    monkeypatch.setenv("RIG_APT_SOURCES", str(tmp_path / "missing.sources"))
    with pytest.raises(UsageError, match="cannot read it"):
        AptRoot(tmp_path / "x", BOOKWORM)._write()


def _restricted_path(tmp_path: Path) -> str:
    """A PATH with the shell tools bootstrap.sh needs and none of rig's host tools."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "cat", "dirname", "id", "sha256sum", "cut"):
        found = shutil.which(tool)
        assert found is not None
        (bin_dir / tool).symlink_to(found)
    return str(bin_dir)


@pytest.mark.parametrize(("host", "names", "installer"), [
    ("fedora-41", ["qemu-system-x86-core", "grub2-tools-extra", "xorriso", "dpkg"],
     "dnf install -y"),
    ("arch", ["qemu-system-x86", "libisoburn", "mtools", "dpkg"], "pacman -S --needed"),
])
def test_hosts_without_apt_are_told_their_own_package_names(host: str, names: list[str],
                                                            installer: str,
                                                            tmp_path: Path) -> None:
    env = {"PATH": _restricted_path(tmp_path), "HOME": str(tmp_path),
           "RIG_OS_RELEASE": str(HOSTS / f"{host}.os-release")}
    proc = subprocess.run(["bash", "-c", f"source {TOP}/scripts/bootstrap.sh"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 125, proc.stderr
    assert f"install: {installer} " in proc.stderr
    for name in names:
        assert f" {name}" in proc.stderr, (name, proc.stderr)
    # apt itself is not packaged there: rig says how it runs on such a host
    assert "not packaged here: apt" in proc.stderr
    assert "debian:12" in proc.stderr and "Hosts without Debian's archive" in proc.stderr
    assert not (TOP / ".venv-should-not-exist").exists()
    assert "preparing" not in proc.stderr  # nothing was installed or created


def test_the_example_workflow_runs_rig_in_debian() -> None:
    """The workflow as users copy it: a Debian 12 container with /dev/kvm, rig's own scripts."""
    text = (TOP / "examples" / "github-actions-kvm.yml").read_text()
    assert "image: debian:12" in text and "--device /dev/kvm" in text
    assert "./scripts/rig matrix" in text
    assert os.path.basename("examples/github-actions-kvm.yml") in os.listdir(TOP / "examples")


@pytest.mark.parametrize(("command", "wanted", "not_wanted"), [
    ("run", ["qemu-system-x86", "xorriso", "mtools"], ["chromium", "bison", "flex", "gcc",
                                                        "lava-dispatcher"]),
    ("parse", ["python3-venv"], ["qemu-system-x86", "chromium", "bison"]),
    ("kernel", ["python3-venv"], ["qemu-system-x86", "chromium", "gcc"]),
    ("test", ["qemu-system-x86", "chromium", "lava-dispatcher"], ["gcc", "bison"]),
])
def test_each_command_installs_only_what_it_needs(command: str, wanted: list[str],
                                                  not_wanted: list[str],
                                                  tmp_path: Path) -> None:
    """A fresh Debian machine: `rig run` needs QEMU and GRUB, not the suite's browser nor the
    kernel build tools (rig installs those itself when a build first runs); the suite needs
    the browser and LAVA's dispatcher too. (As a user who is not root, bootstrap says
    the one command to run instead of running it; packages found by a file, not a command,
    are present on this host and never listed.)"""
    path = _restricted_path(tmp_path)
    fake_id = Path(path) / "id"
    fake_id.unlink()
    fake_id.write_text("#!/bin/bash\necho 1000\n")
    fake_id.chmod(0o755)
    release = tmp_path / "os-release"
    release.write_text('ID=debian\nVERSION_ID="12"\n')
    env = {"PATH": path, "HOME": str(tmp_path), "RIG_OS_RELEASE": str(release),
           "RIG_BOOTSTRAP_FOR": command}
    proc = subprocess.run(["bash", "-c", f"source {TOP}/scripts/bootstrap.sh"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 125, proc.stderr
    listed = proc.stderr.split("apt-get install -y --no-install-recommends", 1)[1].split()
    for name in wanted:
        assert name in listed, (name, proc.stderr)
    for name in not_wanted:
        assert name not in listed, (name, proc.stderr)
