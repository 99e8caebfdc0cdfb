"""The cache's upkeep (``rig images verify | gc``): every artifact hashed again, and what no
record names removed."""

from __future__ import annotations

import shutil
from pathlib import Path

from rig.machine.images import initramfs, vmlinux
from rig.machine.images.store import Record, Store


def verify(store: Store | None = None) -> list[tuple[Record, bool]]:
    """Re-hash every cached artifact; corrupt ones are removed (and re-fetched on next use)."""
    store = store or Store()
    with store.locked():
        return [(rec, store.verified(rec.sha256, full=True) is not None)
                for rec in store.manifest().values()]


def gc(store: Store | None = None) -> list[Path]:
    """Remove objects no manifest record names, and leftovers of interrupted fetches."""
    store = store or Store()
    removed: list[Path] = []
    with store.locked():
        keep = {sha for rec in store.manifest().values()
                for sha in (rec.sha256, rec.config_sha256) if sha}
        if store.objects.is_dir():
            for obj in store.objects.iterdir():
                if obj.name not in keep:
                    obj.unlink()
                    removed.append(obj)
        removed += vmlinux.gc(store, keep)
        removed += initramfs.gc(store, keep)
        tmp = store.root / "tmp"
        if tmp.is_dir():
            shutil.rmtree(tmp)
            removed.append(tmp)
    return removed
