"""Xen hypervisor console: version, command line, E820, System RAM, dom0's nr_pages (§3 of
log-formats.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rig.layout import E820Entry
from rig.parse.e820 import xen_entry

_VERSION = re.compile(r"^Xen version (\S+)")
_CMDLINE = re.compile(r"^Command line: ?(.*)$")
_DOM0_MEM = re.compile(r"(?:^|\s)dom0_mem=(\S*)")
_MAP_HEADER = re.compile(r"^(Initial )?(\S+) RAM map:\s*$")
_SYSTEM_RAM = re.compile(r"^System RAM: (\d+)MB \((\d+)kB\)")
_ALLOC = re.compile(
    r"^\s*Dom0 alloc\.:\s+([0-9a-fA-F]+)->([0-9a-fA-F]+)(?: \((\d+) pages to be allocated\))?"
)
_RAMDISK = re.compile(r"^\s*Init\. ramdisk:\s+([0-9a-fA-F]+)->([0-9a-fA-F]+)")
_BUILD = re.compile(r"^\*\*\* (?:Building a PV(H)? Dom0|LOADING DOMAIN 0) \*\*\*")
_Q_DOMAIN = re.compile(r"^General information for domain (\d+):")
_Q_PAGES = re.compile(r"^\s*(?:refcnt=\d+ dying=\d+ )?nr_pages=(\d+) .*max_pages=(\d+)")
_U_TOTAL = re.compile(r"^(?:Domain 0|d0) \(total: (\d+)\):")

_KEYS = re.compile(r"Xen ver|Command|RAM map|System RAM|Dom0 al|Init\. r|\*\*\*|General"
                   r"|nr_pages=|total:")


@dataclass
class XenInfo:
    version: str | None = None
    cmdline: str | None = None
    dom0_mem: str | None = None
    e820_source: str | None = None
    e820: list[E820Entry] = field(default_factory=list)
    system_ram_kb: int | None = None
    dom0_kind: str | None = None  # "PV" or "PVH"
    alloc_pages: int | None = None
    ramdisk_pages: int = 0
    to_be_allocated: int = 0
    q_nr_pages: int | None = None
    max_pages: int | None = None
    seen: bool = False  # any Xen line at all

    @property
    def dom0_nr_pages(self) -> int | None:
        """dom0's nr_pages: the debug-key dump when present (exact tot_pages), else the
        PHYSICAL MEMORY ARRANGEMENT arithmetic (log-formats.md §3.3)."""
        if self.q_nr_pages is not None:
            return self.q_nr_pages
        if self.alloc_pages is None:
            return None
        return self.alloc_pages + self.ramdisk_pages + self.to_be_allocated

    def to_json(self) -> dict[str, object]:
        return {
            "version": self.version,
            "cmdline": self.cmdline,
            "dom0_mem": self.dom0_mem,
            "e820_source": self.e820_source,
            "e820": [e.to_json() for e in self.e820] or None,
            "system_ram_kb": self.system_ram_kb,
            "dom0_nr_pages": self.dom0_nr_pages,
            "dom0_max_pages": self.max_pages,
        }


class XenParser:
    def __init__(self) -> None:
        self.info = XenInfo()
        self._in_map = False
        self._map: list[E820Entry] = []
        self._q_domain: int | None = None

    @property
    def in_map(self) -> bool:
        return self._in_map

    def feed(self, text: str) -> None:
        info = self.info
        info.seen = True
        if self._in_map:
            entry = xen_entry(text)
            if entry is not None:
                self._map.append(entry)
                return
            self._in_map = False
            if self._map:
                info.e820 = self._map  # a later map (after "Initial ...") replaces an earlier one
        if not _KEYS.search(text):
            return
        if (m := _MAP_HEADER.match(text)) is not None:
            self._in_map, self._map = True, []
            info.e820_source = m.group(2)
        elif info.version is None and (m := _VERSION.match(text)) is not None:
            info.version = m.group(1)
        elif info.cmdline is None and (m := _CMDLINE.match(text)) is not None:
            info.cmdline = m.group(1)
            if (d := _DOM0_MEM.search(info.cmdline)) is not None:
                info.dom0_mem = d.group(1)
        elif (m := _SYSTEM_RAM.match(text)) is not None:
            info.system_ram_kb = int(m.group(2))
        elif (m := _BUILD.match(text)) is not None:
            info.dom0_kind = "PVH" if m.group(1) else "PV"
        elif (m := _ALLOC.match(text)) is not None:
            start, end = int(m.group(1), 16), int(m.group(2), 16)
            info.alloc_pages = (end - start) // 4096
            info.to_be_allocated = int(m.group(3) or 0)
        elif (m := _RAMDISK.match(text)) is not None:
            start, end = int(m.group(1), 16), int(m.group(2), 16)
            info.ramdisk_pages = (end - start + 4095) // 4096
        elif (m := _Q_DOMAIN.match(text)) is not None:
            self._q_domain = int(m.group(1))
        elif self._q_domain == 0 and (m := _Q_PAGES.match(text)) is not None:
            info.q_nr_pages, info.max_pages = int(m.group(1)), int(m.group(2))
        elif (m := _U_TOTAL.match(text)) is not None:
            info.q_nr_pages = int(m.group(1))

    def finish(self) -> XenInfo:
        if self._in_map and self._map:
            self.info.e820 = self._map
            self._in_map = False
        return self.info
