"""The messages that mark a boot's stages, taken from the parsers' own tables, so that the live
console (rig.machine.console) and the parsers agree on what each stage's line is. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rig.parse import init, linux, xen
from rig.parse.lines import Source


@dataclass(frozen=True)
class Marker:
    stage: str  #: the console's name for the stage
    source: Source
    regex: re.Pattern[str]  #: the parser's regex for the message, anchored at the line's start

    @property
    def live(self) -> bytes:
        """The pattern over the raw console stream: no line start to anchor to, and Xen's
        lines carry "(XEN) " (and, with console_timestamps, a stamp) before the message."""
        body = self.regex.pattern.removeprefix("^")
        if body.endswith("$"):  # the line's end, in a stream that goes on
            body = body[:-1] + r"(?=\r?\n)"
        prefix = r"\(XEN\) (?:\[[^\]\n]{1,40}\] ?)?" if self.source is Source.XEN else ""
        return (prefix + body).encode()


MARKERS: tuple[Marker, ...] = (
    Marker("xen", Source.XEN, xen.VERSION),
    Marker("dom0-build", Source.XEN, xen.DOM0_BUILD),
    Marker("linux", Source.LINUX, linux.VERSION),
    # mem_init's summary: Linux's memory setup (Released, Remapped, the E820 it kept) is over
    Marker("setup", Source.LINUX, linux.MEMORY),
    Marker("init", Source.LINUX, init.stage_line("init")),
    Marker("done", Source.LINUX, init.stage_line("done")),
)


#: where a quick boot's Linux memory setup is over, by what the kernel prints last of it (the
#: "setup" stage's line in quick mode, rig.runner.run): 6.12+ "Remapped N non-RAM page(s)"
#: (xen_do_remap_nonram(), printed even for none, after the remap), 3.19+ (era E) "Remapped N
#: page(s)" (xen_remap_memory(), in xen_pagetable_init(): the E820, Released and the early
#: ACPI table list come before it); earlier kernels, and any kernel rig cannot date,
#: mem_init's "Memory:". Measured on Debian's 7.2.13 (two-nvs-on-kernel): "Remapped" at 3.19 s
#: of its clock, "Memory:" at 7.35 s
QUICK_END: dict[str, Marker] = {
    "nonram": Marker("setup", Source.LINUX, linux.REMAPPED_NONRAM),
    "remapped": Marker("setup", Source.LINUX, linux.REMAPPED),
    "memory": MARKERS[3],
}
assert MARKERS[3].stage == "setup"
