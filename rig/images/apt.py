"""A private apt root inside rig's cache.

Own sources, lists and archives, driven through ``APT_CONFIG`` so that other suites are reachable
without root and the system's apt state is never touched. The archive URIs and keyrings come from
the system's own apt sources; rig never names a mirror.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from rig.errors import ArtifactError

SYSTEM_SOURCES = Path("/etc/apt/sources.list")
SYSTEM_SOURCE_PARTS = Path("/etc/apt/sources.list.d")
# lists older than this are refreshed before a package is resolved
LISTS_MAX_AGE_S = 24 * 3600


@dataclass(frozen=True)
class SourceEntry:
    uris: tuple[str, ...]
    suites: tuple[str, ...]
    components: tuple[str, ...]
    signed_by: str | None


def _deb822(text: str) -> list[SourceEntry]:
    entries = []
    for stanza in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = None
        for line in stanza.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            if line[0].isspace() and key:
                fields[key] += " " + line.strip()
                continue
            key, _, value = line.partition(":")
            key = key.strip().lower()
            fields[key] = value.strip()
        if "deb" not in fields.get("types", "").split() or fields.get("enabled", "yes") == "no":
            continue
        entries.append(SourceEntry(tuple(fields.get("uris", "").split()),
                                   tuple(fields.get("suites", "").split()),
                                   tuple(fields.get("components", "").split()),
                                   fields.get("signed-by")))
    return entries


def _one_line(text: str) -> list[SourceEntry]:
    entries = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line.startswith("deb "):
            continue
        words = line.split()[1:]
        signed_by = None
        if words and words[0].startswith("["):
            opts = []
            while words:
                w = words.pop(0)
                opts.append(w)
                if w.endswith("]"):
                    break
            m = re.search(r"signed-by=([^\s\]]+)", " ".join(opts))
            signed_by = m.group(1) if m else None
        if len(words) >= 2:
            entries.append(SourceEntry((words[0],), (words[1],), tuple(words[2:]), signed_by))
    return entries


def system_sources(sources: Path = SYSTEM_SOURCES,
                   parts: Path = SYSTEM_SOURCE_PARTS) -> list[SourceEntry]:
    entries: list[SourceEntry] = []
    if sources.is_file():
        entries += _one_line(sources.read_text(errors="replace"))
    if parts.is_dir():
        for p in sorted(parts.iterdir()):
            if p.suffix == ".list":
                entries += _one_line(p.read_text(errors="replace"))
            elif p.suffix == ".sources":
                entries += _deb822(p.read_text(errors="replace"))
    return entries


def _flavour(suite: str) -> str:
    """'bookworm-security' → '-security'; 'bookworm' → ''."""
    return suite[suite.index("-"):] if "-" in suite else ""


def sources_for(wanted: list[str], system: list[SourceEntry]) -> list[SourceEntry]:
    """Entries for ``wanted`` suites, each using the URIs of a system entry of the same flavour
    (plain, -updates, -security). Raises ArtifactError when the system has none to reuse."""
    out = []
    for suite in wanted:
        exact = [e for e in system if suite in e.suites]
        like = exact or [e for e in system if any(_flavour(s) == _flavour(suite) for s in e.suites)]
        if not like:
            raise ArtifactError(
                f"no apt source to reuse for suite {suite!r}: the system's apt sources "
                f"({SYSTEM_SOURCES}, {SYSTEM_SOURCE_PARTS}) have no Debian archive entry")
        e = like[0]
        out.append(SourceEntry(e.uris, (suite,), ("main",), e.signed_by))
    return out


class AptRoot:
    """``apt-get``/``apt-cache`` confined to ``root`` (a folder of rig's cache)."""

    def __init__(self, root: Path, suites: list[str]) -> None:
        self.root = root
        self.suites = suites
        self.conf = root / "apt.conf"

    def _write(self, system: list[SourceEntry] | None = None) -> None:
        r = self.root
        for d in ("sources.list.d", "preferences.d", "lists/partial", "archives/partial"):
            (r / d).mkdir(parents=True, exist_ok=True)
        (r / "status").touch()
        stanzas = []
        for e in sources_for(self.suites, system if system is not None else system_sources()):
            stanza = (f"Types: deb\nURIs: {' '.join(e.uris)}\nSuites: {' '.join(e.suites)}\n"
                      f"Components: {' '.join(e.components)}\nArchitectures: amd64\n")
            if e.signed_by:
                stanza += f"Signed-By: {e.signed_by}\n"
            stanzas.append(stanza)
        _atomic_text(r / "sources.list.d" / "rig.sources", "\n".join(stanzas))
        conf = [
            f'Dir::State "{r}";',
            f'Dir::State::Lists "{r}/lists";',
            f'Dir::State::status "{r}/status";',
            f'Dir::Cache "{r}";',
            f'Dir::Cache::Archives "{r}/archives";',
            'Dir::Etc::SourceList "/dev/null";',
            f'Dir::Etc::SourceParts "{r}/sources.list.d";',
            'Dir::Etc::Preferences "/dev/null";',
            f'Dir::Etc::PreferencesParts "{r}/preferences.d";',
            'APT::Architecture "amd64";',
            'APT::Architectures { "amd64"; };',
            'Acquire::Languages "none";',
        ]
        if os.geteuid() == 0:
            # the cache belongs to root; apt's _apt sandbox user could not write to it
            conf.append('APT::Sandbox::User "root";')
        _atomic_text(self.conf, "\n".join(conf) + "\n")

    def run(self, *args: str, cwd: Path | None = None) -> str:
        cmd = list(args)
        env = dict(os.environ, APT_CONFIG=str(self.conf), LC_ALL="C")
        try:
            proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                                  timeout=1800)
        except FileNotFoundError as exc:
            raise ArtifactError(f"{cmd[0]} is not installed", command=cmd) from exc
        except subprocess.TimeoutExpired as exc:
            raise ArtifactError("apt took longer than 30 minutes", command=cmd) from exc
        if proc.returncode != 0:
            raise ArtifactError(f"exit status {proc.returncode}", command=cmd,
                                output=(proc.stderr or proc.stdout))
        return proc.stdout

    def update(self, force: bool = False) -> None:
        self._write()
        stamp = self.root / "lists" / ".rig-updated"
        fresh = stamp.exists() and time.time() - stamp.stat().st_mtime < LISTS_MAX_AGE_S
        if fresh and not force:
            return
        self.run("apt-get", "-q", "update")
        stamp.touch()

    def show(self, package: str) -> dict[str, str]:
        """The candidate version's control fields."""
        text = self.run("apt-cache", "show", "--no-all-versions", package)
        fields: dict[str, str] = {}
        for line in text.splitlines():
            if not line or line[0].isspace():
                continue
            key, _, value = line.partition(":")
            fields.setdefault(key, value.strip())
        if "Version" not in fields:
            raise ArtifactError(f"apt-cache knows no package {package!r}",
                                command=["apt-cache", "show", package])
        return fields

    def download(self, package: str, version: str, dest: Path) -> Path:
        self.run("apt-get", "-q", "download", f"{package}={version}", cwd=dest)
        debs = sorted(dest.glob(f"{package}_*.deb"))
        if not debs:
            raise ArtifactError(f"apt-get download left no .deb for {package}",
                                command=["apt-get", "download", f"{package}={version}"])
        return debs[0]


def _atomic_text(path: Path, text: str) -> None:
    if path.exists() and path.read_text() == text:
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    tmp.replace(path)
