"""A private apt root inside rig's cache.

Own sources, lists and archives, driven through ``APT_CONFIG`` so that other suites are reachable
without root and the system's apt state is never touched. The archive URIs and keyrings come from
the system's own apt sources (its Debian entries only: an Ubuntu host's archive has no Debian
suites), or from a deb822 file the user names in ``RIG_APT_SOURCES``; rig never names a mirror.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from debian.deb822 import Deb822

from rig.errors import ArtifactError, UsageError
from rig.files import write_atomic
from rig.machine import children

SYSTEM_SOURCES = Path("/etc/apt/sources.list")
SYSTEM_SOURCE_PARTS = Path("/etc/apt/sources.list.d")
# lists older than this are refreshed before a package is resolved
LISTS_MAX_AGE_S = 24 * 3600
#: apt's own limit: a fetch that has not ended by then never will
APT_LIMIT_S = 1800
#: the file naming the process group of the apt a rig runs in a root (rig.machine.children)
OWNER = "rig-apt.owner"
#: what apt-get update writes to a root: its lists took 19-23 MiB per root here (lz4, 2026-12),
#: and apt keeps the downloaded xz indexes in lists/partial while it recompresses them
LISTS_BYTES = 96 << 20
#: left free on the cache's disk beyond what a step needs (extraction, the store's copies)
DISK_FLOOR = 16 << 20
#: a disk with less free than this for DISK_FULL_S while apt runs is full: apt is stopped
DISK_FULL = 1 << 20
DISK_FULL_S = 5.0
#: the variable that names a deb822 sources file to use instead of the system's
SOURCES_VARIABLE = "RIG_APT_SOURCES"
#: README's section on hosts without Debian's archive
README_SECTION = "README, \"Hosts without Debian's archive\""
#: Debian's codenames and suite aliases: a system entry is reused for Debian's suites only when
#: one of its suites is one of these (or it is signed by Debian's archive keyring)
DEBIAN_SUITES = frozenset({
    "buzz", "rex", "bo", "hamm", "slink", "potato", "woody", "sarge", "etch", "lenny",
    "squeeze", "wheezy", "jessie", "stretch", "buster", "bullseye", "bookworm", "trixie",
    "forky", "duke", "sid", "stable", "oldstable", "oldoldstable", "testing", "unstable",
    "experimental", "rc-buggy"})


class NoSourceError(UsageError):
    """No apt source for a suite rig needs: the user names one (exit 2)."""


@dataclass(frozen=True)
class SourceEntry:
    uris: tuple[str, ...]
    suites: tuple[str, ...]
    components: tuple[str, ...]
    signed_by: str | None


def _deb822(text: str) -> list[SourceEntry]:
    """The ``Types: deb`` stanzas of a deb822 sources file (python-debian reads the format:
    comments, continuation lines, case-insensitive field names)."""
    entries = []
    for stanza in Deb822.iter_paragraphs(text.splitlines()):
        if "deb" not in stanza.get("Types", "").split() or stanza.get("Enabled", "yes") == "no":
            continue
        entries.append(SourceEntry(tuple(stanza.get("URIs", "").split()),
                                   tuple(stanza.get("Suites", "").split()),
                                   tuple(stanza.get("Components", "").split()),
                                   _signed_by(stanza.get("Signed-By", ""))))
    return entries


def _signed_by(value: str) -> str | None:
    """A keyring's path, or an inline key's lines without the one space deb822 indents them
    by (a ``.`` stands for an empty line there, and is kept: gpg reads the key back)."""
    first, *rest = value.split("\n")
    return (first.strip() + "".join("\n" + line[1:] for line in rest)).rstrip() or None


# The one-line format (sources.list) has no reader in python-debian (python-apt's aptsources
# is not on PyPI): read here, as apt's sources.list(5) describes it
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


def is_debian(e: SourceEntry) -> bool:
    """A Debian archive: a Debian codename or alias among its suites, or Debian's keyring."""
    if any(s.split("-", 1)[0] in DEBIAN_SUITES for s in e.suites):
        return True
    return e.signed_by is not None and "debian-archive-keyring" in e.signed_by


def user_sources(environ: dict[str, str] | None = None) -> tuple[list[SourceEntry], Path] | None:
    """The entries of the deb822 file named by RIG_APT_SOURCES, when set."""
    value = (environ if environ is not None else dict(os.environ)).get(SOURCES_VARIABLE)
    if not value:
        return None
    path = Path(value).expanduser()
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        raise UsageError(f"{SOURCES_VARIABLE}={value!r}: cannot read it ({exc.strerror})") \
            from None
    entries = _deb822(text)
    if not entries:
        raise UsageError(f"{SOURCES_VARIABLE}={value!r}: no 'Types: deb' stanza in it (a deb822 "
                         "sources file: Types, URIs, Suites, Components, Signed-By)")
    return entries, path


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


def sources_for(wanted: list[str], system: list[SourceEntry],
                where: str | None = None, trusted: bool = False) -> list[SourceEntry]:
    """Entries for ``wanted`` suites, each using the URIs of a Debian entry of the same flavour
    (plain, -updates, -security). ``trusted``: the entries are the user's own (RIG_APT_SOURCES),
    used as they are. Raises NoSourceError (exit 2) when there is none to reuse."""
    usable = system if trusted else [e for e in system if is_debian(e)]
    out = []
    for suite in wanted:
        exact = [e for e in usable if suite in e.suites]
        like = exact or [e for e in usable if any(_flavour(s) == _flavour(suite) for s in e.suites)]
        if not like:
            where = where or f"the system's apt sources ({SYSTEM_SOURCES}, {SYSTEM_SOURCE_PARTS})"
            raise NoSourceError(
                f"no Debian apt source for suite {suite!r}: {where} have no Debian archive "
                f"entry to reuse (an Ubuntu or other host?). Name one in a deb822 file with its "
                f"keyring, {SOURCES_VARIABLE}=FILE ({README_SECTION})")
        e = like[0]
        out.append(SourceEntry(e.uris, (suite,), ("main",), e.signed_by))
    return out


def signed_by_field(value: str) -> str:
    """``Signed-By:`` as deb822 writes it: a keyring path, or an inline key's lines indented
    (an empty line of the key is " .")."""
    first, *rest = value.split("\n")
    return "Signed-By: " + first + "".join("\n " + (line if line.strip() else ".")
                                           for line in rest) + "\n"


class AptRoot:
    """``apt-get``/``apt-cache`` confined to ``root`` (a folder of rig's cache)."""

    def __init__(self, root: Path, suites: list[str], kind: str = "deb") -> None:
        """``kind``: "deb" for packages, "deb-src" for source packages (their own root:
        their indexes are large and only the test firmware's build needs them)."""
        self.root = root
        self.suites = suites
        self.kind = kind
        self.conf = root / "apt.conf"

    def entries(self, system: list[SourceEntry] | None = None) -> list[SourceEntry]:
        """RIG_APT_SOURCES's entries when set, else the system's Debian ones."""
        user = user_sources() if system is None else None
        if user is not None:
            return sources_for(self.suites, user[0], f"{SOURCES_VARIABLE}={user[1]}",
                               trusted=True)
        return sources_for(self.suites, system if system is not None else system_sources())

    def _write(self, system: list[SourceEntry] | None = None) -> None:
        r = self.root
        for d in ("sources.list.d", "preferences.d", "lists/partial", "archives/partial"):
            (r / d).mkdir(parents=True, exist_ok=True)
        (r / "status").touch()
        stanzas = []
        for e in self.entries(system):
            stanza = (f"Types: {self.kind}\nURIs: {' '.join(e.uris)}\n"
                      f"Suites: {' '.join(e.suites)}\n"
                      f"Components: {' '.join(e.components)}\nArchitectures: amd64\n")
            if e.signed_by:
                stanza += signed_by_field(e.signed_by)
            stanzas.append(stanza)
        if _atomic_text(r / "sources.list.d" / "rig.sources", "\n".join(stanzas)):
            # other archives (RIG_APT_SOURCES set or changed): their lists are not here yet
            (r / "lists" / ".rig-updated").unlink(missing_ok=True)
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

    def run(self, *args: str, cwd: Path | None = None, needs: int = 0) -> str:
        """apt, tied to rig's life (rig.machine.children): ended with rig, and a killed rig's
        apt ended before this one starts. ``needs``: the bytes it will write to the cache,
        checked before it starts; while it runs, a disk that fills stops it within seconds."""
        cmd = list(args)
        env = dict(os.environ, APT_CONFIG=str(self.conf), LC_ALL="C")
        self._room(needs, cmd)
        try:
            proc = children.run_child(cmd, owner=self.root / OWNER, timeout=APT_LIMIT_S, cwd=cwd,
                                      env=env, watch=self._disk_watch())
        except FileNotFoundError as exc:
            raise ArtifactError(f"{cmd[0]} is not installed", command=cmd) from exc
        except children.Stopped as exc:
            raise ArtifactError(f"apt stopped: {exc.reason}", command=cmd) from None
        if proc.returncode != 0:
            raise ArtifactError(f"exit status {proc.returncode}", command=cmd,
                                output=(proc.stderr or proc.stdout))
        return proc.stdout

    def _room(self, needs: int, cmd: list[str]) -> None:
        free = shutil.disk_usage(self.root).free
        if free < needs + DISK_FLOOR:
            raise ArtifactError(
                f"the disk holding RIG_CACHE ({self.root}) has {free >> 20} MiB free, and "
                f"{cmd[0]} {' '.join(cmd[1:3])} needs about {(needs + DISK_FLOOR) >> 20} MiB: "
                "free space or point RIG_CACHE elsewhere")

    def _disk_watch(self) -> Callable[[], str | None]:
        """A watch that stops apt when the cache's disk stays full: apt waits for good then
        (a full disk under apt-get update hung until the 30-minute limit)."""
        full_since: list[float] = []

        def watch() -> str | None:
            free = shutil.disk_usage(self.root).free
            if free >= DISK_FULL:
                full_since.clear()
                return None
            full_since[:] = full_since[:1] or [time.monotonic()]
            if time.monotonic() - full_since[0] < DISK_FULL_S:
                return None
            return (f"the disk holding RIG_CACHE ({self.root}) is full ({free >> 10} KiB free "
                    f"for {DISK_FULL_S:.0f} s): free space or point RIG_CACHE elsewhere")
        return watch

    def update(self, force: bool = False) -> None:
        self._write()
        stamp = self.root / "lists" / ".rig-updated"
        fresh = stamp.exists() and time.time() - stamp.stat().st_mtime < LISTS_MAX_AGE_S
        if fresh and not force:
            return
        self.run("apt-get", "-q", "update", needs=LISTS_BYTES)
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

    def source_version(self, package: str) -> str:
        """The candidate version of a source package (a deb-src root)."""
        text = self.run("apt-cache", "showsrc", "--only-source", package)
        versions: list[str] = re.findall(r"^Version: (\S+)$", text, re.M)
        if not versions:
            raise ArtifactError(f"apt-cache knows no source package {package!r}",
                                command=["apt-cache", "showsrc", package])
        return versions[0]

    def download_source(self, package: str, version: str, dest: Path) -> Path:
        """The source package's .dsc and its files into ``dest`` (apt checks their hashes
        against the signed index); the .dsc's path."""
        self.run("apt-get", "-q", "source", "--download-only", f"{package}={version}",
                 cwd=dest)
        dscs = sorted(dest.glob(f"{package}_*.dsc"))
        if not dscs:
            raise ArtifactError(f"apt-get source left no .dsc for {package}",
                                command=["apt-get", "source", f"{package}={version}"])
        return dscs[0]

    def download(self, package: str, version: str, dest: Path, size: int = 0) -> Path:
        """``size``: the package's size from its index (Size), checked against free space."""
        self.run("apt-get", "-q", "download", f"{package}={version}", cwd=dest, needs=size)
        debs = sorted(dest.glob(f"{package}_*.deb"))
        if not debs:
            raise ArtifactError(f"apt-get download left no .deb for {package}",
                                command=["apt-get", "download", f"{package}={version}"])
        return debs[0]


def _atomic_text(path: Path, text: str) -> bool:
    """Write ``text`` unless the file holds it already; True when it changed."""
    if path.exists() and path.read_text() == text:
        return False
    write_atomic(path, text)
    return True
