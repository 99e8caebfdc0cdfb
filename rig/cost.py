"""What a boot costs this host: QEMU's peak resident memory, from the scenario and its
prediction. Pure.

Measured on 2026-11-30 (QEMU 7.2 under TCG, Xen 4.17.7, Debian's 6.1 dom0; the RAM backend
reserves nothing, so only pages the guest writes are resident):

- QEMU and the firmware: ~416 MiB; every GiB of guest RAM ~10 MiB more (Xen's frame table,
  32 bytes a page, and its M2P, 8 bytes a page: 4 GiB → 456 MiB, 1 TiB → 10753 MiB).
- dom0's pages themselves stay untouched (a 1 GiB and a 1.9 GiB dom0 on 4 GiB: 452 and 488
  MiB); each GiB of dom0 adds ~22 MiB (its struct pages and tables: a 64 GiB guest with dom0
  16, 32 and 48 GiB peaked at 3409, 3739 and 4102 MiB).
- every page Linux remaps is written once: the same 4 GiB guest with a 3 GiB dom0 (262273
  pages remapped, 1024.5 MiB) peaked at 1435 MiB, 947 MiB above the 1.9 GiB dom0; on 64 GiB,
  dom0 2 GiB (no remap past the 2 GiB split) peaked at 1090 MiB and dom0 4 GiB (2 GiB
  remapped) at 3089 MiB. Why the remap touches each page was not pinned down.

The bound adds a tenth to these figures; `rig replay` compares it with the host's free memory.
"""

from __future__ import annotations

MiB = 1 << 20
GiB = 1 << 30
PAGE = 4096

QEMU_BASE = 416 * MiB
PER_GUEST_GIB = 10 * MiB
PER_DOM0_GIB = 22 * MiB
MARGIN = 1.1


def peak_rss(memory: int, dom0_pages: int, remapped_pages: int) -> int:
    """Bytes of QEMU's peak resident memory for a guest of ``memory`` bytes whose dom0 holds
    ``dom0_pages`` and remaps ``remapped_pages`` (an upper estimate)."""
    rss = (QEMU_BASE + PER_GUEST_GIB * memory // GiB + PER_DOM0_GIB * dom0_pages * PAGE // GiB
           + remapped_pages * PAGE)
    return int(rss * MARGIN)


__all__ = ["peak_rss"]
