"""The table of failure patterns: which console lines end a boot, and as what.

Used twice with the same table: live, by the console driver to stop a run within seconds, and
offline, by the parsers to classify a saved log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from rig.parse.lines import Source


class Kind(StrEnum):
    XEN_PANIC = "xen-panic"
    DOM0_CRASH = "dom0-crash"
    LINUX_PANIC = "linux-panic"
    LINUX_OOPS = "linux-oops"
    LINUX_BUG = "linux-bug"
    LINUX_WARNING = "linux-warning"
    RESET = "unexpected-reset"
    GRUB_ERROR = "grub-error"
    #: Linux refuses the map Xen built dom0 in (xen_memory_setup's conflict checks, BUG())
    E820_CONFLICT = "e820-conflict"
    #: dom0 shut the machine down; a crash only when it happens before dom0's kernel said
    #: anything (the parsers decide from the order of lines)
    DOM0_HALT = "dom0-halt"
    #: balloon_init gave up (WARN, -ERANGE): no xen_memory0, no balloon (drivers/xen/balloon.c
    #: since 87af633689ce); the boot goes on, the balloon_target check fails
    BALLOON_UNDERFLOW = "balloon-underflow"


#: the kinds that are the kernel's own crash (not Xen's, not a halt or a warning)
LINUX_CRASHES = (Kind.LINUX_BUG, Kind.LINUX_OOPS, Kind.LINUX_PANIC)


@dataclass(frozen=True)
class Pattern:
    kind: Kind
    source: Source | None  # None: either
    regex: re.Pattern[str]
    fatal: bool  # ends the boot (the run stops at once) or only taints it


PATTERNS: tuple[Pattern, ...] = (
    Pattern(Kind.XEN_PANIC, Source.XEN, re.compile(r"Panic on CPU \d+"), True),
    Pattern(Kind.DOM0_CRASH, Source.XEN, re.compile(r"Hardware Dom0 crashed"), True),
    Pattern(Kind.DOM0_CRASH, Source.XEN, re.compile(r"Domain 0 \(vcpu#\d+\) crashed"), True),
    Pattern(Kind.LINUX_PANIC, Source.LINUX, re.compile(r"Kernel panic - not syncing"), True),
    Pattern(Kind.LINUX_OOPS, Source.LINUX, re.compile(r"^Oops: |^Oops\b|\bOops: \d{4}"), True),
    Pattern(Kind.LINUX_BUG, Source.LINUX, re.compile(r"^BUG: |^kernel BUG at "), True),
    # a fault before the kernel's exception handlers are up (arch/x86/mm/extable.c
    # early_fixup_exception()): printed without a time stamp, then dom0 halts
    Pattern(Kind.LINUX_PANIC, None, re.compile(r"^PANIC: early exception 0x[0-9a-f]+"), True),
    Pattern(Kind.LINUX_WARNING, Source.LINUX, re.compile(r"^WARNING: CPU: \d+ PID: \d+"), False),
    Pattern(Kind.BALLOON_UNDERFLOW, Source.LINUX,
            re.compile(r"(?:Released|Extra) pages underflow current target"), False),
    # printed with xen_raw_console_write() before BUG(), so they reach Xen's console even when
    # the kernel's own console is not up; 6.12+ names the component ("kernel", "page table"...)
    Pattern(Kind.E820_CONFLICT, None,
            re.compile(r"Xen hypervisor allocated (?:\w[\w ]* )?memory conflicts with E820",
                       re.I), True),
    Pattern(Kind.E820_CONFLICT, None,
            re.compile(r"Can't find new memory area for initrd needed due to E820 map conflict"),
            True),
    Pattern(Kind.E820_CONFLICT, None,
            re.compile(r"No suitable area found for required E820 entry remapping action"), True),
    # p2m.c xen_add_remap_nonram(): a fifth NVS swap (NR_NONRAM_REMAP), then BUG()
    Pattern(Kind.E820_CONFLICT, None,
            re.compile(r"Number of required E820 entry remapping actions exceed maximum value"),
            True),
    Pattern(Kind.DOM0_HALT, Source.XEN, re.compile(r"Hardware Dom0 halted"), False),
)

#: what the file scan looks for: a word of each pattern
HINTS = ("Panic", "PANIC: early", "Kernel panic", "Oops", "BUG", "WARNING", "Dom0 crashed",
         "Domain 0 ", "Dom0 halted", "conflicts with E820", "E820 map conflict",
         "E820 entry remapping", "underflow current target")
#: a cheap test before the patterns' regexes, per line
KEYS = re.compile(r"Panic|PANIC|crashed|panic|Oops|BUG|WARNING|halted|conflict|E820 entry|"
                  r"underflow")

# Live matching (pexpect) works on raw bytes before line normalisation: these are the fatal
# patterns as regexes over the raw stream.
LIVE_FATAL: tuple[tuple[Kind, str], ...] = (
    (Kind.XEN_PANIC, r"Panic on CPU \d+"),
    (Kind.DOM0_CRASH, r"Hardware Dom0 crashed"),
    (Kind.DOM0_CRASH, r"Domain 0 \(vcpu#\d+\) crashed"),
    (Kind.LINUX_PANIC, r"Kernel panic - not syncing"),
    (Kind.LINUX_OOPS, r"\bOops: \d{4}"),
    (Kind.LINUX_BUG, r"kernel BUG at "),
    (Kind.LINUX_PANIC, r"PANIC: early exception"),
    (Kind.E820_CONFLICT, r"(?i:Xen hypervisor allocated [\w ]*memory conflicts with E820)"
                         r"|E820 map conflict|required E820 entry remapping"
                         r"|E820 entry remapping actions exceed"),
    # rig stops a run once /init is done, so a live halt is always an early one
    (Kind.DOM0_HALT, r"Hardware Dom0 halted"),
    # GRUB stops at its menu after an error; only the live console can see it in time
    (Kind.GRUB_ERROR, r"error: [^\r\n]*(?:not found|out of memory|invalid)"),
)


@dataclass(frozen=True)
class Hit:
    kind: Kind
    line_no: int
    text: str
    fatal: bool


def match(source: Source, text: str) -> Pattern | None:
    for p in PATTERNS:
        if (p.source is None or p.source is source) and p.regex.search(text):
            return p
    return None
