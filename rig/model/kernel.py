"""What the model knows of dom0's kernel: its version and era, and the build options that change
what a correct kernel does with its memory, each with where it came from. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from rig.domain.e820 import E820Entry, E820Type

#: Linux 6.5+ built with CONFIG_ISCSI_IBFT_FIND reserves this for the iBFT scan under Xen
#: (R. Lagerwall, "iscsi_ibft: Fix finding the iBFT under Xen Dom 0", 2023)
IBFT_RESERVE = E820Entry(0x80000, 0x100000, E820Type.RESERVED)
IBFT_OPTION = "CONFIG_ISCSI_IBFT_FIND"


class Era(StrEnum):
    """Shapes of xen_memory_setup() over Linux history (log-formats.md §1)."""

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
class Kernel:
    """What the model knows of dom0's kernel, and where each fact came from (a result must be
    able to say whether a fact was read from the artifact or assumed)."""

    version: tuple[int, ...]
    version_source: str = "given"
    #: CONFIG_ISCSI_IBFT_FIND, when the kernel's build configuration is known
    ibft_find: bool | None = None
    config_source: str | None = None

    @property
    def era(self) -> Era:
        return era_for(self.version)

    @property
    def ibft_reserve(self) -> bool:
        """Whether this kernel reserves [0x80000, 0x100000): 6.5+ with the option built in.
        Unknown configuration: a distribution kernel, which has it."""
        if self.version[:2] < (6, 5):
            return False
        return True if self.ibft_find is None else self.ibft_find
