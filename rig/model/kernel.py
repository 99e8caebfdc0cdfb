"""What the model knows of dom0's kernel: its version and era, and the build options that change
what a correct kernel does with its memory, each with where it came from. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from rig.domain.e820 import E820Entry, E820Type
from rig.domain.kconfig import KernelConfig

#: Linux 6.5+ built with CONFIG_ISCSI_IBFT_FIND reserves this for the iBFT scan under Xen
#: (R. Lagerwall, "iscsi_ibft: Fix finding the iBFT under Xen Dom 0", 2023)
IBFT_RESERVE = E820Entry(0x80000, 0x100000, E820Type.RESERVED)
IBFT_OPTION = "CONFIG_ISCSI_IBFT_FIND"
#: E820_MAX_ENTRIES of Debian's amd64 kernels 6.1 to 7.2 (128 + 3 << 10)
DISTRIBUTION_E820_ENTRIES = 3200


class Era(StrEnum):
    """Shapes of xen_memory_setup() over Linux history (docs/log-formats.md §1)."""

    A = "A"  #: ≤3.1: only gaps above 1 MiB released, reserved stays mapped
    B = "B"  #: 3.2–3.4: every non-RAM area below nr_pages released, never given back
    C = "C"  #: 3.5–3.17: released, then populated above nr_pages (the seed commit)
    #: 3.18: remapped at once. Not 3.17: v3.17.0's setup.c still has xen_populate_chunk(),
    #: and a real 3.17.0-rc4 dom0 prints Freeing/Populating (intel/XenGT-Preview-xen#12); the
    #: remap (M. Rushton, 4fbb67e3c87b, Aug 2014) arrived with 3.18
    D = "D"
    E = "E"  #: 3.19+: remap prepared in setup, done after paging_init


#: a representative version per era, when only the message formats tell the era
ERA_VERSION = {Era.A: (3, 0), Era.B: (3, 2), Era.C: (3, 5), Era.D: (3, 18), Era.E: (4, 0)}


def era_for(version: tuple[int, ...]) -> Era:
    major_minor = tuple(version[:2])
    if major_minor <= (3, 1):
        return Era.A
    if major_minor <= (3, 4):
        return Era.B
    if major_minor <= (3, 17):
        return Era.C
    if major_minor <= (3, 18):
        return Era.D
    return Era.E


def release_version(release: str, upstream: str | None) -> tuple[int, ...]:
    """The kernel's version from its release, or from the upstream release its distribution's
    build string names when that is the same series (Debian's 6.1.0-57 is 6.1.192: which
    stable fixes it has depends on the latter)."""
    version = parse_version(release)
    if upstream is not None:
        try:
            named = parse_version(upstream)
        except ValueError:
            return version
        if named[:2] == version[:2] and named > version:
            return named
    return version


def parse_version(text: str) -> tuple[int, ...]:
    """``"6.1.0-56-amd64"`` → (6, 1, 0); ``"3.8"`` → (3, 8)."""
    parts: list[int] = []
    for piece in text.replace("-", ".").split("."):
        digits = ""
        for ch in piece:
            if not ch.isdigit():
                break
            digits += ch
        if not digits:
            break
        parts.append(int(digits))
        if len(parts) == 3:
            break
    if not parts:
        raise ValueError(f"not a kernel version: {text!r}")
    return tuple(parts)


@dataclass(frozen=True)
class KernelLayout:
    """Where the kernel image's parts lie (physical addresses, from its ELF's section headers:
    .text, .bss, .brk; arch/x86/kernel/vmlinux.lds.S). Linux's Xen setup checks [_text,
    _end) against the E820 (before fac1bceeeb04: [_text, __bss_stop)); Xen loads [pstart,
    pend), which goes on past _end (.init.scratch, 2 MiB-aligned, in Debian's kernels)."""

    text: int
    bss_stop: int
    end: int
    #: the end of what Xen loads (the highest PT_LOAD's paddr + memsz): Xen's "paddr A -> B"
    image_end: int
    source: str = "the kernel's ELF (section and program headers)"


@dataclass(frozen=True)
class BootedKernel:
    """What a live run knows of the kernel it booted, from its artifact (never from what it
    printed): its build configuration, its release (the bzImage's header), its image's parts."""

    config: KernelConfig | None = None
    release: str | None = None
    layout: KernelLayout | None = None
    #: the upstream release its build string names ("Debian 6.1.192-3"), when it names one
    upstream: str | None = None


@dataclass(frozen=True)
class Kernel:
    """What the model knows of dom0's kernel, and where each fact came from (a result must be
    able to say whether a fact was read from the artifact or assumed)."""

    version: tuple[int, ...]
    version_source: str = "given"
    #: CONFIG_ISCSI_IBFT_FIND, when the kernel's build configuration is known
    ibft_find: bool | None = None
    config_source: str | None = None
    #: the image's parts, when the kernel's ELF was read (a live run)
    layout: KernelLayout | None = None
    #: CONFIG_XEN_BALLOON, when the kernel's build configuration is known: a dom0 built with
    #: it must have a balloon (xen_memory0) at /init
    balloon_driver: bool | None = None
    #: E820_MAX_ENTRIES, when the kernel's build configuration is known (CONFIG_NUMA,
    #: CONFIG_NODES_SHIFT: Kernel.e820_entries_of)
    e820_entries: int | None = None
    #: CONFIG_XEN_UNPOPULATED_ALLOC, when the kernel's build configuration is known: without
    #: it a PVH dom0 gives Xen back RAM for its grant table's window (rig.model.pvh)
    unpopulated_alloc: bool | None = None

    @property
    def era(self) -> Era:
        return era_for(self.version)

    @staticmethod
    def e820_entries_of(config: KernelConfig | None) -> int | None:
        """E820_MAX_ENTRIES from a build configuration: 128 + 3 * MAX_NUMNODES
        (arch/x86/include/asm/e820/types.h), MAX_NUMNODES = 1 << CONFIG_NODES_SHIFT with NUMA,
        else 1 (include/linux/numa.h)."""
        if config is None:
            return None
        shift = config.options.get("CONFIG_NODES_SHIFT", "0")
        nodes = 1 << int(shift) if config.enabled("CONFIG_NUMA") and shift.isdigit() else 1
        return 128 + 3 * nodes

    @staticmethod
    def unpopulated_alloc_of(config: KernelConfig | None) -> bool | None:
        """CONFIG_XEN_UNPOPULATED_ALLOC from a build configuration (None: not known)."""
        return None if config is None else config.enabled("CONFIG_XEN_UNPOPULATED_ALLOC")

    @property
    def e820_limit(self) -> int:
        """The kernel's E820 table size. Unknown configuration: a distribution kernel's (Debian's
        amd64: CONFIG_NUMA=y, CONFIG_NODES_SHIFT=10, 3200 entries)."""
        return DISTRIBUTION_E820_ENTRIES if self.e820_entries is None else self.e820_entries

    @property
    def ibft_reserve(self) -> bool:
        """Whether this kernel reserves [0x80000, 0x100000): 6.5+ with the option built in.
        Unknown configuration: a distribution kernel, which has it."""
        if self.version[:2] < (6, 5):
            return False
        return True if self.ibft_find is None else self.ibft_find


@dataclass(frozen=True)
class Fix:
    """A fix of Linux's Xen memory setup: which kernels carry it, by version (mainline from
    ``mainline``; a stable series from the release that got the backport)."""

    name: str
    commit: str
    title: str
    #: the first mainline release with the fix; None: no kernel has it yet (rig's finding)
    mainline: tuple[int, int] | None
    stable: tuple[tuple[tuple[int, int], tuple[int, int, int]], ...] = ()
    #: rig's finding: the patch that makes the fix (in rig/regressions/)
    patch: str = ""

    def in_version(self, version: tuple[int, ...]) -> bool:
        if self.mainline is None:
            return False
        if tuple(version[:2]) >= self.mainline:
            return True
        for series, first in self.stable:
            if tuple(version[:2]) == series:
                return tuple(version[:3]) >= first
        return False

    def cite(self) -> str:
        return f"{self.commit or 'rig'} \"{self.title}\""

    def named(self) -> str:
        """The fix as a judgement names it: commit, title and where it landed, or, for rig's
        finding, that no kernel has it and where its patch is."""
        if self.mainline is None:
            return (f"rig's fix \"{self.title}\" (no kernel has it yet: "
                    f"rig/regressions/{self.patch})")
        return f"{self.commit} (\"{self.title}\", Linux {'.'.join(map(str, self.mainline))})"


#: the fixes rig's model assumes of a correct kernel, and the kernels known to carry each
#: (upstream commits; backports as found in the stable trees, e.g. 6.1.113's review; a series
#: not listed is taken not to carry a fix before its mainline release)
FIXES: tuple[Fix, ...] = (
    # Juergen Gross's 2024 series "xen: fix dom0 PV boot on some AMD machines"
    Fix("end-of-kernel", "fac1bceeeb04",
        "xen: use correct end address of kernel for conflict checking", (6, 12),
        (((6, 1), (6, 1, 113)),)),
    Fix("start-info-check", "ba88829706e2",
        "xen: introduce generic helper checking for memory map conflicts", (6, 12)),
    Fix("nvs-swap", "be35d91c8880",
        "xen: tolerate ACPI NVS memory overlapping with Xen allocated memory", (6, 12)),
    # 2026, found by reading the code
    Fix("nvs-swap-offset", "28e03f78e69c", "x86/xen: Fix xen_e820_swap_entry_with_ram()",
        (7, 1), (((6, 12), (6, 12, 94)),)),
    Fix("resolve-restart", "5f8719945244",
        "x86/xen: Fix a potential problem in xen_e820_resolve_conflicts()", (7, 1)),
    # rig's finding (rig.model.conflicts): the swap's target end taken down to a page
    Fix("swap-target-aligned", "", "x86/xen: Align the RAM end an E820 entry is swapped to",
        None, patch="fix-swap-target-aligned.patch"),
    # rig's finding (rig.model.extra_mem): the extra-memory budget counted in whole pages
    Fix("extra-mem-whole-pages", "",
        "x86/xen: Count extra memory in whole pages from an unaligned RAM start", None,
        patch="fix-extra-mem-whole-pages.patch"),
    # rig's finding (rig.model.conflicts): the start info's whole page checked against the map
    Fix("start-info-page", "", "x86/xen: Check the whole page of Xen's start info against the "
        "E820 map", None, patch="fix-start-info-page.patch"),
    # rig's finding (judge/live.py acpi_table): ACPI reads a swapped NVS by its machine address
    Fix("acpi-nvs-remap", "", "xen: map ACPI data in remapped non-RAM areas correctly", None,
        patch="fix-acpi-nvs-remap.patch"),
    # the balloon's start (rig.model.balloon): stable releases from the review mails and the
    # sources of 6.12.33/6.12.94; "at the latest" where only a later source was read
    Fix("balloon-pvh-target", "87af633689ce",
        "x86/xen: fix balloon target initialization for PVH dom0", (6, 15),
        (((6, 14), (6, 14, 3)), ((6, 12), (6, 12, 24)), ((6, 6), (6, 6, 88)))),
    Fix("balloon-pv-partial-revert", "0949c646d646",
        "Partial revert \"x86/xen: fix balloon target initialization for PVH dom0\"", (7, 0),
        (((6, 12), (6, 12, 94)),)),
    Fix("balloon-current-reservation", "b13cd24c15d7",
        "xen/balloon: improve accuracy of initial balloon target for dom0", (7, 0),
        (((6, 12), (6, 12, 118)), ((7, 2), (7, 2, 13)))),
)
FIX = {f.name: f for f in FIXES}


def fixes_of(version: tuple[int, ...]) -> frozenset[str]:
    """The fixes a kernel of ``version`` carries (by its version alone)."""
    return frozenset(f.name for f in FIXES if f.in_version(version))


ALL_FIXES = frozenset(FIX)
