"""Host packages a step needs, installed when it first runs (scripts/bootstrap.sh installs only
what every boot needs): kernel builds and rig's test firmware need a compiler and its tools.
As root rig installs them with apt and says so; otherwise it names the one command to run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rig.errors import ArtifactError


@dataclass(frozen=True)
class Package:
    """A Debian package, present when its command is on PATH or its file exists."""

    name: str
    command: str | None = None
    file: str | None = None

    @property
    def present(self) -> bool:
        if self.command is not None:
            return shutil.which(self.command) is not None
        return self.file is not None and Path(self.file).exists()


#: what building a kernel or SeaBIOS from source needs (make tinyconfig, bzImage; SeaBIOS's
#: Makefile and its Python scripts)
BUILD_TOOLS = (
    Package("gcc", command="gcc"), Package("make", command="make"), Package("bc", command="bc"),
    Package("bison", command="bison"), Package("flex", command="flex"),
    Package("libelf-dev", file="/usr/include/gelf.h"),
    Package("libssl-dev", file="/usr/include/openssl/ssl.h"),
    Package("xz-utils", command="xz"), Package("patch", command="patch"),
    Package("python3", command="python3"),
)


def require(packages: Sequence[Package], why: str) -> None:
    """Make ``packages`` present for ``why`` (said when installing), or say how."""
    missing = [p.name for p in packages if not p.present]
    if not missing:
        return
    command = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing]
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise ArtifactError(f"{why} needs the host packages {' '.join(missing)}; install them "
                            f"as root: {' '.join(command)}")
    print(f"rig: installing host packages {' '.join(missing)} ({why})", file=sys.stderr,
          flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for step in (["apt-get", "update", "-q"], command):
        proc = subprocess.run(step, capture_output=True, text=True, env=env,
                              stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            raise ArtifactError(f"installing {' '.join(missing)} ({why}) failed", command=step,
                                output=proc.stdout + proc.stderr)
    still = [p.name for p in packages if not p.present]
    if still:
        raise ArtifactError(f"{' '.join(still)} still missing after apt-get install ({why})",
                            command=command)
