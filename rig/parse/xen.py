"""Xen hypervisor console: version, command line, E820, System RAM, how dom0 was built (its
pages, its kernel's place) and Xen's own accounting of dom0 after boot (log-formats.md §3).

Two different things are kept apart here. What Xen *gave* dom0 when it built it (the Dom0
alloc. arithmetic, the P2M's size) is an input of the model. What Xen *counts* for dom0 later
(debug keys ``q`` and ``u``) is an observation, judged against the model; it is never used as
an input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rig.domain.e820 import E820Entry
from rig.parse.e820 import xen_entry
from rig.model.pvh import populated_pages

_VERSION = re.compile(r"^Xen version (\S+)")
_CMDLINE = re.compile(r"^Command line: ?(.*)$")
DOM0_MEM = re.compile(r"(?:^|\s)dom0_mem=(\S*)")
_MAP_HEADER = re.compile(r"^(Initial )?(\S+) RAM map:\s*$")
#: with dom0=verbose Xen prints the map it built for a PVH dom0 (hvm/dom0_build.c)
_DOM0_MAP = re.compile(r"^Dom0 memory map:\s*$")
_SYSTEM_RAM = re.compile(r"^System RAM: (\d+)MB \((\d+)kB\)")
# the whole line: a cut one (a wrapped mail, an 80-column terminal) must not match
ALLOC = re.compile(
    r"^\s*Dom0 alloc\.:\s+([0-9a-fA-F]+)->([0-9a-fA-F]+)"
    r"(?: \((\d+) pages to be allocated\))?\s*$")
RAMDISK = re.compile(r"^\s*Init\. ramdisk:\s+([0-9a-fA-F]+)->([0-9a-fA-F]+)\s*$")
P2M = re.compile(r"^\s*Phys-Mach map:\s+([0-9a-fA-F]+)->([0-9a-fA-F]+)\s*$")
_SECTION = re.compile(r"^(PHYSICAL|VIRTUAL) MEMORY ARRANGEMENT:")
DOM0_KERNEL = re.compile(
    r"^\s*Dom0 kernel: (32|64)-bit.*, paddr (0x[0-9a-fA-F]+) -> (0x[0-9a-fA-F]+)\s*$")
_BUILD = re.compile(r"^\*\*\* (?:Building a PV(H)? Dom0|LOADING DOMAIN 0) \*\*\*")
_Q_HEADER = re.compile(r"^'q' pressed -> dumping domain info")
_Q_DOMAIN = re.compile(r"^General information for domain (\d+):")
_Q_PAGES = re.compile(r"^\s*(?:refcnt=\d+ dying=\d+ )?nr_pages=(\d+) .*max_pages=(\d+)\s*$")
_U_TOTAL = re.compile(r"^(?:Domain 0|d0) \(total: (\d+)\):")

_KEYS = re.compile(r"Xen ver|Command|RAM map|System RAM|Dom0 al|Init\. r|\*\*\*|General"
                   r"|nr_pages=|total:|ARRANGEMENT|Phys-Mach|Dom0 kernel|pressed|memory map")


@dataclass
class XenInfo:
    version: str | None = None
    cmdline: str | None = None
    #: every dom0_mem= on the command line, in order (Xen applies each in turn)
    dom0_mem_values: list[str] = field(default_factory=list)
    e820_source: str | None = None
    e820: list[E820Entry] = field(default_factory=list)
    #: the map ended on a line that started an entry but was cut (and could not be rejoined)
    e820_cut: bool = False
    #: the map Xen built for a PVH dom0 ("Dom0 memory map:", printed with dom0=verbose)
    dom0_e820: list[E820Entry] = field(default_factory=list)
    system_ram_kb: int | None = None
    dom0_kind: str | None = None  # "PV" or "PVH"
    dom0_bits: int | None = None  # 64, or 32 for a 32-bit PV dom0
    #: [start, end) of dom0's kernel in its pseudo-physical space ("Dom0 kernel: ... paddr")
    dom0_kernel_paddr: tuple[int, int] | None = None
    alloc_pages: int | None = None
    ramdisk_pages: int = 0
    to_be_allocated: int | None = None
    #: dom0's nr_pages from the size of its P2M ("Phys-Mach map", exact by construction)
    p2m_pages: int | None = None
    #: Xen's own count of dom0's pages after boot (debug key 'q' or 'u'); the last dump wins
    dom0_tot_pages: int | None = None
    dom0_max_pages_seen: int | None = None
    q_dumps: int = 0
    seen: bool = False  # any Xen line at all

    @property
    def dom0_mem(self) -> str | None:
        """The dom0_mem text as Xen applies it (several options: the parts in turn)."""
        if not self.dom0_mem_values:
            return None
        return self.dom0_mem_values[0] if len(self.dom0_mem_values) == 1 else \
            " ".join(self.dom0_mem_values)

    @property
    def alloc_nr_pages(self) -> int | None:
        """dom0's nr_pages from the PHYSICAL MEMORY ARRANGEMENT: the chunk, the initrd's pages
        (assigned to dom0 before the line is printed) and the pages still to be allocated.
        Without "to be allocated" none were left: Xen panics ("Domain 0 allocation is too
        small") rather than give dom0 fewer pages than the chunk and the initrd."""
        if self.alloc_pages is None:
            return None
        return self.alloc_pages + self.ramdisk_pages + (self.to_be_allocated or 0)

    @property
    def dom0_nr_pages(self) -> int | None:
        """dom0's nr_pages as Xen built it: the allocation arithmetic, or the P2M's size when
        that is all the log has; for a PVH dom0, what the map Xen printed for it holds. Never
        Xen's later count (that is judged, not assumed)."""
        if self.alloc_nr_pages is not None:
            return self.alloc_nr_pages
        if self.p2m_pages is None and self.dom0_kind == "PVH" and self.dom0_e820:
            return populated_pages(self.dom0_e820)
        return self.p2m_pages

    @property
    def nr_pages_disagreement(self) -> str | None:
        """The two build-time sources of nr_pages, when both are printed and differ."""
        a, p = self.alloc_nr_pages, self.p2m_pages
        if a is None or p is None or a == p:
            return None
        return (f"Dom0 alloc. + Init. ramdisk give {a} pages, the Phys-Mach map's size gives "
                f"{p} ({p - a:+d})")

    def to_json(self) -> dict[str, object]:
        return {
            "version": self.version,
            "cmdline": self.cmdline,
            "dom0_mem": self.dom0_mem,
            "e820_source": self.e820_source,
            "e820": [e.to_json() for e in self.e820] or None,
            "dom0_e820": [e.to_json() for e in self.dom0_e820] or None,
            "system_ram_kb": self.system_ram_kb,
            "dom0_kind": self.dom0_kind,
            "dom0_kernel_paddr": list(self.dom0_kernel_paddr) if self.dom0_kernel_paddr
            else None,
            "dom0_nr_pages": self.dom0_nr_pages,
            "dom0_nr_pages_alloc": self.alloc_nr_pages,
            "dom0_nr_pages_p2m": self.p2m_pages,
            "dom0_tot_pages": self.dom0_tot_pages,
            "dom0_max_pages_seen": self.dom0_max_pages_seen,
        }


class XenParser:
    def __init__(self) -> None:
        self.info = XenInfo()
        self._in_map = False
        self._map: list[E820Entry] = []
        self._map_is_dom0 = False
        self._q_domain: int | None = None
        self._section: str | None = None

    @property
    def in_map(self) -> bool:
        return self._in_map

    def feed(self, text: str, cut: bool = False) -> None:
        """``cut``: the line is a known message that was cut and could not be rejoined."""
        info = self.info
        info.seen = True
        if self._in_map:
            entry = None if cut else xen_entry(text)
            if entry is not None:
                self._map.append(entry)
                return
            self._in_map = False
            if cut:
                info.e820_cut = True
            self._close_map()
        if cut or not _KEYS.search(text):
            return
        if (m := _MAP_HEADER.match(text)) is not None:
            self._in_map, self._map, self._map_is_dom0 = True, [], False
            info.e820_source = m.group(2)
            info.e820_cut = False
        elif _DOM0_MAP.match(text):
            self._in_map, self._map, self._map_is_dom0 = True, [], True
        elif info.version is None and (m := _VERSION.match(text)) is not None:
            info.version = m.group(1)
        elif info.cmdline is None and (m := _CMDLINE.match(text)) is not None:
            info.cmdline = m.group(1)
            info.dom0_mem_values = DOM0_MEM.findall(info.cmdline)
        elif (m := _SYSTEM_RAM.match(text)) is not None:
            info.system_ram_kb = int(m.group(2))
        elif (m := _BUILD.match(text)) is not None:
            info.dom0_kind = "PVH" if m.group(1) else "PV"
        elif (m := DOM0_KERNEL.match(text)) is not None:
            info.dom0_bits = int(m.group(1))
            info.dom0_kernel_paddr = (int(m.group(2), 16), int(m.group(3), 16))
        elif (m := _SECTION.match(text)) is not None:
            self._section = m.group(1)
        elif (m := ALLOC.match(text)) is not None:
            start, end = int(m.group(1), 16), int(m.group(2), 16)
            info.alloc_pages = (end - start) // 4096
            info.to_be_allocated = int(m.group(3)) if m.group(3) else None
        elif (m := RAMDISK.match(text)) is not None:
            # only the physical line counts: under VIRTUAL MEMORY ARRANGEMENT Xen ≤4.16 prints
            # "0000000000000000->0000000000000000" for an initrd it did not map into dom0,
            # whose pages still belong to dom0
            if self._section != "VIRTUAL":
                start, end = int(m.group(1), 16), int(m.group(2), 16)
                info.ramdisk_pages = (end - start + 4095) // 4096
        elif (m := P2M.match(text)) is not None:
            start, end = int(m.group(1), 16), int(m.group(2), 16)
            word = 4 if info.dom0_bits == 32 else 8
            if end >= start and (end - start) % word == 0:
                info.p2m_pages = (end - start) // word
        elif _Q_HEADER.match(text):
            info.q_dumps += 1
            self._q_domain = None
        elif (m := _Q_DOMAIN.match(text)) is not None:
            self._q_domain = int(m.group(1))
        elif self._q_domain == 0 and (m := _Q_PAGES.match(text)) is not None:
            info.dom0_tot_pages, info.dom0_max_pages_seen = int(m.group(1)), int(m.group(2))
        elif (m := _U_TOTAL.match(text)) is not None:
            info.dom0_tot_pages = int(m.group(1))

    def _close_map(self) -> None:
        if not self._map:
            return
        if self._map_is_dom0:
            self.info.dom0_e820 = self._map
        else:
            self.info.e820 = self._map  # a later map (after "Initial ...") replaces an earlier one

    def finish(self) -> XenInfo:
        if self._in_map:
            self._close_map()
            self._in_map = False
        return self.info
