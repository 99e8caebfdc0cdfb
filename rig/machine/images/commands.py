"""``rig images list | fetch | verify | gc``: the artifact cache, as a person looks at it."""

from __future__ import annotations

from rig.errors import INFRASTRUCTURE_EXIT, UsageError
from rig.machine.images import Store, fetch, gc, recipe, recipes, verify


def main_list() -> int:
    store = Store()
    cached = store.manifest()
    print(f"{'key':<14} {'package':<36} {'version':<34} {'size':>10}  {'sha256':<16} suite")
    for key in recipes():
        rec = cached.get(key)
        if rec is None:
            print(f"{key:<14} {'(not fetched)':<36}")
            continue
        print(f"{key:<14} {rec.package:<36} {rec.version:<34} {rec.size:>10}  "
              f"{rec.sha256[:16]} {rec.suite}")
    print(f"cache: {store.root}")
    return 0


def main_fetch(keys: list[str], refresh: bool) -> int:
    """Every key is checked before the first download."""
    pairs = []
    for key in keys:
        kind, sep, name = key.partition("=")
        if not sep or not kind or not name:
            raise UsageError(f"{key!r}: expected KIND=NAME, e.g. kernel=6.12")
        recipe(kind, name)
        pairs.append((key, kind, name))
    for key, kind, name in pairs:
        art = fetch(kind, name, refresh=refresh)
        print(f"{key:<14} {art.record.package} {art.record.version} {art.path}")
    return 0


def main_verify() -> int:
    """Re-hash everything; a corrupt file is removed (the next use fetches it again) and the
    exit status is 125: the cache, not a kernel, was at fault."""
    bad = 0
    for rec, ok in verify(Store()):
        bad += not ok
        print(f"{'ok' if ok else 'CORRUPT (removed; the next use fetches it again)':<8} "
              f"{rec.key:<14} {rec.sha256[:16]}")
    return INFRASTRUCTURE_EXIT if bad else 0


def main_gc() -> int:
    for path in gc(Store()):
        print(f"removed {path}")
    return 0
