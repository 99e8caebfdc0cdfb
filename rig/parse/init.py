"""Output of rig's own /init (templates/init.sh.j2): stages, /proc/meminfo, balloon sysfs, rig's
ACPI table as dom0 reads it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MARKER = "RIG:"
#: what the file scan looks for (every line of /init's, and GRUB's announced commands)
HINTS = (MARKER,)


def stage_line(name: str) -> re.Pattern[str]:
    """The line /init prints when it reaches stage ``name`` (templates/init.sh.j2)."""
    return re.compile("^" + re.escape(f"{MARKER} stage {name}"))


@dataclass
class InitInfo:
    stages: list[str] = field(default_factory=list)
    uname: str | None = None
    meminfo_kb: dict[str, int] = field(default_factory=dict)
    balloon_kb: dict[str, int] = field(default_factory=dict)
    balloon_missing: list[str] = field(default_factory=list)
    #: seconds /init waited for the balloon's count to reach its target
    settle_s: int | None = None
    poweroff_failed: bool = False
    #: the sha256 of each ACPI table rig looks for that dom0 has (/sys/firmware/acpi/tables)
    acpi_tables: dict[str, str] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return "done" in self.stages


class InitParser:
    def __init__(self) -> None:
        self.info = InitInfo()

    def feed(self, text: str) -> None:
        if not text.startswith(MARKER):
            return
        words = text[len(MARKER):].split()
        if not words:
            return
        what, args = words[0], words[1:]
        info = self.info
        if what == "stage" and args:
            info.stages.append(args[0])
        elif what == "uname" and args:
            info.uname = args[0]
        elif what == "meminfo":
            # "meminfo Key: value Key: value ..." (older rigs printed one pair per line)
            for key, value in zip(args[::2], args[1::2], strict=False):
                if value.isdigit():
                    info.meminfo_kb[key.rstrip(":")] = int(value)
        elif what == "balloon" and len(args) >= 2:
            if args[1].isdigit():
                info.balloon_kb[args[0].removeprefix("info/")] = int(args[1])
            else:
                info.balloon_missing.append(args[0])
        else:
            self._report(what, args)

    def _report(self, what: str, args: list[str]) -> None:
        """/init's lines after the balloon's: how long it waited, its ACPI table, power-off."""
        info = self.info
        if what == "settle" and args and args[0].isdigit():
            info.settle_s = int(args[0])
        elif what == "poweroff-failed":
            info.poweroff_failed = True
        elif what == "acpi-table" and len(args) == 2:
            info.acpi_tables[args[0]] = args[1]

    def finish(self) -> InitInfo:
        return self.info
