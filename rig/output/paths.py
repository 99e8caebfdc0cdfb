"""Output files the user names: checked before any work starts (exit 2 naming the option)."""

from __future__ import annotations

from pathlib import Path

from rig.errors import UsageError


def check_output(path: Path | None, flag: str) -> None:
    """An output file the user named must be writable where it is, before any work starts."""
    if path is None:
        return
    if path.is_dir():
        raise UsageError(f"{flag} {str(path)!r} is a directory: give a file name")
    if not path.parent.is_dir():
        raise UsageError(f"{flag} {str(path)!r}: the folder {str(path.parent)!r} does not exist")
