"""Where rig's shipped data lives: in a wheel under rig/_data, in a checkout at the top level."""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """``templates`` or ``images``."""
    for candidate in (_PKG / "_data" / name, _PKG.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"rig's {name}/ folder is missing (looked in {_PKG / '_data'} and "
                            f"{_PKG.parent}): the installation is broken")
