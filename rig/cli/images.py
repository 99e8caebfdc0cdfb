"""``rig images list | fetch | verify | gc``: the artifact cache, as a person looks at it."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from rig.cli.options import Commands, Parser
from rig.errors import INFRASTRUCTURE_EXIT, UsageError


def add(sub: Commands) -> None:
    im = sub.add_parser("images", help="the artifact cache: list, fetch, verify, gc")
    im_sub = im.add_subparsers(dest="images_command", required=True, parser_class=Parser)
    im_sub.add_parser("list", help="every artifact key, and what the cache holds for it")
    fe = im_sub.add_parser("fetch", help="fetch artifacts, e.g. kernel=6.12 xen=4.20")
    fe.add_argument("keys", nargs="+", metavar="KIND=NAME",
                    help="artifact keys, e.g. kernel=6.12 xen=4.20 (see rig images list)")
    fe.add_argument("--refresh", action="store_true", help="resolve again even when cached")
    im_sub.add_parser("verify", help="re-hash every cached artifact; exit 125 on corruption")
    im_sub.add_parser("gc", help="remove cached files nothing refers to")
    im.set_defaults(func=main)


def main(a: argparse.Namespace) -> int:
    actions: dict[str, Callable[[], int]] = {
        "list": main_list,
        "fetch": lambda: main_fetch(a.keys, a.refresh),
        "verify": main_verify,
        "gc": main_gc,
    }
    return actions[a.images_command]()


def main_list() -> int:
    from rig.machine.images import Store, recipes

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
    from rig.machine.images import fetch, recipe

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
    from rig.machine.images import Store, verify

    bad = 0
    for rec, ok in verify(Store()):
        bad += not ok
        print(f"{'ok' if ok else 'CORRUPT (removed; the next use fetches it again)':<8} "
              f"{rec.key:<14} {rec.sha256[:16]}")
    return INFRASTRUCTURE_EXIT if bad else 0


def main_gc() -> int:
    from rig.machine.images import Store, gc

    for path in gc(Store()):
        print(f"removed {path}")
    return 0
