"""Progress for a person at a terminal; quiet otherwise (CI logs stay clean)."""

from __future__ import annotations

import sys


def say(message: str) -> None:
    """A live progress line on a terminal."""
    if sys.stderr.isatty():
        print(f"rig: {message}", file=sys.stderr, flush=True)
