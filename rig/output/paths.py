"""Output files and folders the user names: checked before any work starts (exit 2 naming the
option), so that a boot never ends in a traceback because its report cannot be written.

Writable is proven, not guessed: root passes every permission check (``os.access``), yet
cannot create a file in /proc; so a file is made (and removed) where the output will go."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from rig.errors import UsageError


def _probe(folder: Path, flag: str, shown: Path) -> None:
    """A file can be created in ``folder``."""
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".rig-probe-"):
            pass
    except OSError as exc:
        raise UsageError(f"{flag} {str(shown)!r}: cannot write in {str(folder)!r} "
                         f"({exc.strerror or exc})") from None


def check_output(path: Path | None, flag: str) -> None:
    """An output file the user named must be writable where it is, before any work starts."""
    if path is None:
        return
    if path.is_dir():
        raise UsageError(f"{flag} {str(path)!r} is a directory: give a file name")
    if not path.parent.is_dir():
        raise UsageError(f"{flag} {str(path)!r}: the folder {str(path.parent)!r} does not exist")
    if path.exists() and not os.access(path, os.W_OK):
        raise UsageError(f"{flag} {str(path)!r}: the file is not writable")
    _probe(path.parent, flag, path)


def check_output_dir(path: Path | None, flag: str) -> None:
    """An output folder the user named (made if missing) must be creatable and writable."""
    if path is None:
        return
    if path.exists() and not path.is_dir():
        raise UsageError(f"{flag} {str(path)!r} is a file: give a folder")
    existing = path
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"{flag} {str(path)!r}: {str(existing)!r} is a file, not a folder")
    _probe(existing, flag, path)


def fixed_folder(path: Path, flag: str) -> Path:
    """``--output DIR``: results under fixed names (console.log, result.json, ...) in DIR,
    made if missing; an existing DIR must be empty, so a CI job never reads a stale file."""
    check_output_dir(path, flag)
    if path.exists() and any(path.iterdir()):
        raise UsageError(f"{flag} {str(path)!r} is not empty: give a new or empty folder")
    path.mkdir(parents=True, exist_ok=True)
    return path
