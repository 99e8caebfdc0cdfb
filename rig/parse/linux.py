"""dom0's Linux kernel: version, command line, printed E820, the Xen setup messages of every era
(log-formats.md §1) and the ``Memory:`` line (§2)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rig.domain.e820 import E820Entry, PfnRange
from rig.parse.e820 import linux_entry, linux_gap

_VERSION = re.compile(r"^Linux version (\S+)")
_XEN_VERSION = re.compile(r"^Xen version: (\d+\.\d+(?:\.\d+)?)")
_CMDLINE = re.compile(r"^(?:Kernel )?[Cc]ommand line: ?(.*)$")
_MAP_HEADER = re.compile(r"^(?:e820: )?BIOS-provided physical RAM map:\s*$")
# Whole lines only: a message cut by a wrap must not read as a shorter one (rig.parse.wrap)
# era A: "xen_release_chunk: looking at area pfn 9f-100: 97 pages freed"
CHUNK_A = re.compile(
    r"^xen_release_chunk: looking at area pfn ([0-9a-f]+)-([0-9a-f]+): (\d+) pages freed\s*$")
# era B has two spaces after "Freeing", eras C/D one
FREEING = re.compile(
    r"^Freeing( {1,2})([0-9a-f]+)-([0-9a-f]+) pfn range: (\d+) pages freed\s*$")
POPULATING = re.compile(r"^Populating ([0-9a-f]+)-([0-9a-f]+) pfn range: (\d+) pages added\s*$")
RELEASED_OLD = re.compile(r"^([Rr])eleased (\d+) pages of unused memory\s*$")
RELEASED = re.compile(r"^Released (\d+) page\(s\)\s*$")
REMAPPED = re.compile(r"^Remapped (\d+) page\(s\)(?:, last_pfn=(\d+))?\s*$")
REMAPPED_NONRAM = re.compile(r"^Remapped (\d+) non-RAM page\(s\)\s*$")
_IDENTITY = re.compile(r"^Set (\d+) page\(s\) to 1-1 mapping(\.)?\s*$")
_UNABLE = "Unable to find available pfn range, not remapping identity pages"
MEMORY = re.compile(r"^Memory: (\d+)[kK]/(\d+)[kK] available")

_KEYS = re.compile(r"Linux version|Xen version|ommand line|RAM map|xen_release_chunk|Freeing"
                   r"|Populating|eleased|Remapped|1-1 mapping|Unable to find|Memory:")


@dataclass
class LinuxInfo:
    version: str | None = None
    #: "Xen version: 4.17.7" as the kernel saw it (ties a dmesg to its Xen log)
    xen_version: str | None = None
    #: the map ended on a cut entry that could not be rejoined
    e820_cut: bool = False
    cmdline: str | None = None
    e820: list[E820Entry] = field(default_factory=list)
    #: the era the message formats belong to, as far as they tell (A–E), independent of version
    format_era: str | None = None
    freed_ranges: list[PfnRange] = field(default_factory=list)
    released_pages: int | None = None
    populated_ranges: list[PfnRange] = field(default_factory=list)
    populated_pages: int | None = None
    remapped_pages: int | None = None
    remapped_last_pfn: int | None = None
    remapped_nonram_pages: int | None = None
    identity_pages: int | None = None
    remap_failed: bool = False
    memory_available_kb: int | None = None
    memory_total_kb: int | None = None
    memory_line: str | None = None
    seen: bool = False

    def to_json(self) -> dict[str, object]:
        return {
            "version": self.version,
            "xen_version": self.xen_version,
            "cmdline": self.cmdline,
            "era": self.format_era,
            "e820": [e.to_json() for e in self.e820] or None,
            "freed_ranges": [r.to_json() for r in self.freed_ranges] or None,
            "released_pages": self.released_pages,
            "populated_ranges": [r.to_json() for r in self.populated_ranges] or None,
            "populated_pages": self.populated_pages,
            "remapped_pages": self.remapped_pages,
            "remapped_nonram_pages": self.remapped_nonram_pages,
            "identity_pages": self.identity_pages,
            "remap_failed": self.remap_failed,
            "memory_available_kb": self.memory_available_kb,
            "memory_total_kb": self.memory_total_kb,
            "memory_line": self.memory_line,
        }


class LinuxParser:
    def __init__(self) -> None:
        self.info = LinuxInfo()
        self._map_state = 0  # 0 before the map, 1 inside, 2 after (only the first map counts)

    @property
    def in_map(self) -> bool:
        return self._map_state == 1

    def _era(self, era: str) -> None:
        # a later, more specific shape wins over an earlier generic one (C's Freeing → D's Remapped)
        if self.info.format_era is None or era > self.info.format_era:
            self.info.format_era = era

    def feed(self, text: str, cut: bool = False) -> None:
        """``cut``: the line is a known message that was cut and could not be rejoined."""
        info = self.info
        if self._map_state == 1:
            entry = None if cut else linux_entry(text)
            if entry is not None:
                info.e820.append(entry)
                return
            if not cut and linux_gap(text):
                return  # 6.16+ prints the gaps between entries too: the map goes on
            self._map_state = 2
            info.e820_cut = cut
        if cut or not _KEYS.search(text):
            return
        info.seen = True
        if self._map_state == 0 and _MAP_HEADER.match(text):
            self._map_state = 1
        elif info.version is None and (m := _VERSION.match(text)) is not None:
            info.version = m.group(1)
        elif info.xen_version is None and (m := _XEN_VERSION.match(text)) is not None:
            info.xen_version = m.group(1)
        elif info.cmdline is None and (m := _CMDLINE.match(text)) is not None:
            info.cmdline = m.group(1)
        elif (m := REMAPPED_NONRAM.match(text)) is not None:
            info.remapped_nonram_pages = int(m.group(1))
        elif (m := REMAPPED.match(text)) is not None:
            info.remapped_pages = int(m.group(1))
            if m.group(2) is not None:
                info.remapped_last_pfn = int(m.group(2))
                self._era("D")
            else:
                self._era("E")
        elif (m := RELEASED.match(text)) is not None:
            info.released_pages = int(m.group(1))
        elif (m := RELEASED_OLD.match(text)) is not None:
            info.released_pages = int(m.group(2))
            if m.group(1) == "r":
                self._era("A")
        elif (m := FREEING.match(text)) is not None:
            info.freed_ranges.append(PfnRange(int(m.group(2), 16), int(m.group(3), 16)))
            self._era("B" if len(m.group(1)) == 2 else "C")
        elif (m := CHUNK_A.match(text)) is not None:
            info.freed_ranges.append(PfnRange(int(m.group(1), 16), int(m.group(2), 16)))
            self._era("A")
        elif (m := POPULATING.match(text)) is not None:
            info.populated_ranges.append(PfnRange(int(m.group(1), 16), int(m.group(2), 16)))
            info.populated_pages = (info.populated_pages or 0) + int(m.group(3))
            self._era("C")
        elif (m := _IDENTITY.match(text)) is not None:
            info.identity_pages = int(m.group(1))
        elif _UNABLE in text:
            info.remap_failed = True
        elif info.memory_line is None and (m := MEMORY.match(text)) is not None:
            info.memory_available_kb, info.memory_total_kb = int(m.group(1)), int(m.group(2))
            info.memory_line = text

    def finish(self) -> LinuxInfo:
        return self.info
