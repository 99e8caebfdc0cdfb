"""What a boot costs this host: QEMU's peak resident memory and the boot's time, from the
scenario and its prediction. Pure.

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

from rig.domain.dom0mem import Dom0Mem
from rig.domain.pages import clip, nonram_areas, ram_pages, total
from rig.domain.scenario import Scenario
from rig.domain.units import PAGE_SIZE, GiB, MiB
from rig.model.prediction import predict_scenario

QEMU_BASE = 416 * MiB
PER_GUEST_GIB = 10 * MiB
PER_DOM0_GIB = 22 * MiB
MARGIN = 1.1


def peak_rss(memory: int, dom0_pages: int, remapped_pages: int) -> int:
    """Bytes of QEMU's peak resident memory for a guest of ``memory`` bytes whose dom0 holds
    ``dom0_pages`` and remaps ``remapped_pages`` (an upper estimate)."""
    rss = (QEMU_BASE + PER_GUEST_GIB * memory // GiB + PER_DOM0_GIB * dom0_pages * PAGE_SIZE // GiB
           + remapped_pages * PAGE_SIZE)
    return int(rss * MARGIN)


# -- time ----------------------------------------------------------------------------------------
#: Boot time under TCG, rig's start to Xen's 'q' count, measured on 2026-11-30 (2 cores, Debian's
#: 6.1.0-57 dom0, which boots about twice as slowly as 6.1.0-56 did): a 4 GiB guest with a 1 GiB
#: dom0 16 s; 64 GiB with dom0 1, 4, 8, 16, 32 and 48 GiB: 22, 34, 40, 44, 52 and 57 s (2 GiB
#: of them remapped from 4 GiB on); laptop-16g (8 GiB dom0, 0.9 GiB remapped) 30 s; a 128 GiB
#: guest with a 125.5 GiB dom0 (2.4 GiB remapped) 133 s. Good enough to order a matrix's cells
#: longest first; recorded times of earlier boots (rig.machine.history) replace it when they exist.
BASE_S = 14.0
PER_GUEST_GIB_S = 0.05
PER_DOM0_GIB_S = 0.6
PER_REMAPPED_GIB_S = 6.0


def boot_seconds(memory: int, dom0_pages: int, remapped_pages: int) -> float:
    """Estimated seconds of one TCG boot (for ordering, not a promise)."""
    return (BASE_S + PER_GUEST_GIB_S * memory / GiB + PER_DOM0_GIB_S * dom0_pages * PAGE_SIZE / GiB
            + PER_REMAPPED_GIB_S * remapped_pages * PAGE_SIZE / GiB)


#: the machine the boot's stage limits (rig.machine.timeouts) were set for: pci-hole, a 4 GiB
#: guest whose 1 GiB dom0 remaps nothing
REFERENCE_S = boot_seconds(4 * GiB, GiB // PAGE_SIZE, 0)
#: the most the limits are scaled (syzkaller's rule: scale, but cap the factor): the estimate
#: is for ordering, and on some maps it is far off (a 1 TiB q35 guest whose RAM above 4 GiB
#: starts at 1 TiB counts ~1 TiB remapped: x460, a silence limit of hours; it boots in ~40 s)
MAX_SCALE = 6.0


def limit_scale(s: Scenario) -> float:
    """How much longer than the reference machine a boot of ``s`` is expected to take, from 1
    to MAX_SCALE: its stage and silence limits are scaled by it, so that a big dom0's late
    console is waited for (a 50 GiB guest with a 12.7 GiB dom0 printed Linux's first line 70-80
    s after QEMU started, past the fixed 60 s limit, and a kernel BUG behind it was called a
    hang: x2.91)."""
    return min(MAX_SCALE, max(1.0, scenario_seconds(s) / REFERENCE_S))


def scenario_seconds(s: Scenario) -> float:
    """``boot_seconds`` from what ``rig predict`` knows of the scenario: dom0's pages as Xen
    sizes them (all of RAM when that depends on Xen's free memory: an upper estimate), and the
    pages the model says dom0 remaps."""
    sp = predict_scenario(s)
    ram = total(ram_pages(sp.machine_map)) or s.memory // PAGE_SIZE
    nr = sp.nr_pages
    if nr is None:
        mem = Dom0Mem.parse(s.dom0_mem) if s.dom0_mem else Dom0Mem()
        nr = mem.size(ram).nr_pages
    remapped = sp.prediction.remapped_pages if sp.prediction else None
    if remapped is None:
        remapped = total(clip(nonram_areas(sp.machine_map), nr))
    return boot_seconds(s.memory, nr, remapped)
