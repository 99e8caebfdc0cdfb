"""Boot times rig has measured, kept in the cache, so that a matrix starts its longest cells
first (rig.model.cost estimates the ones never seen). A lost update (two matrices at once) costs
only an estimate, so the file is replaced atomically without a lock."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from rig.judge.records import ScenarioRecord
from rig.machine.images.store import cache_root

#: entries kept (the most recent)
KEEP = 2000


def path() -> Path:
    return cache_root() / "timings.json"


def key(scenario: ScenarioRecord, accel: str) -> str:
    """The same scenario (machine, holes, Xen, kernel, dom0_mem) on the same accelerator."""
    text = json.dumps({"scenario": {k: v for k, v in scenario.to_builtins().items()
                                    if k not in ("name", "description")}, "accel": accel},
                      sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def load() -> dict[str, float]:
    try:
        data = json.loads(path().read_text())
    except (OSError, ValueError):
        return {}
    return {k: float(v) for k, v in data.items()
            if isinstance(k, str) and isinstance(v, int | float)} if isinstance(data, dict) else {}


def record(seconds: dict[str, float]) -> None:
    """Add measured times (a newer time replaces an older one)."""
    if not seconds:
        return
    data = load()
    for k in seconds:
        data.pop(k, None)
    data.update(seconds)
    data = dict(list(data.items())[-KEEP:])
    target = path()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".timings-")
        with os.fdopen(fd, "w") as f:
            json.dump(data, f)
        os.replace(tmp, target)
    except OSError:
        pass  # a read-only cache only costs the next matrix its order


__all__ = ["key", "load", "path", "record"]
