"""Xen hypervisor console: version, command line, E820, System RAM, how dom0 was built (its
pages, its kernel's place) and Xen's own accounting of dom0 after boot (docs/log-formats.md §3).

Two different things are kept apart here. What Xen *gave* dom0 when it built it (the Dom0
alloc. arithmetic, the P2M's size) is an input of the model. What Xen *counts* for dom0 later
(debug keys ``q`` and ``u``) is an observation, judged against the model; it is never used as
an input.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from rig.domain.e820 import E820Entry
from rig.domain.pages import whole_ram_pages
from rig.domain.units import GIB4, PAGE_SIZE
from rig.parse.e820 import xen_entry
from rig.parse.messages import Message, Table

VERSION = re.compile(r"^Xen version (\S+)")
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
#: the lines whose numbers the allocation arithmetic adds up (alloc_nr_pages)
_ALLOC_LINE = re.compile(r"Dom0 alloc\.|Init\. ramdisk")
_SECTION = re.compile(r"^(PHYSICAL|VIRTUAL) MEMORY ARRANGEMENT:")
#: a PV dom0's initial mapping (pv/dom0_build.c, VIRTUAL MEMORY ARRANGEMENT): where Xen put
#: the kernel, the start info and the page tables in dom0's virtual space
_VIRTUAL = re.compile(
    r"^\s*(Loaded kernel|Start info|Page tables):\s+([0-9a-fA-F]+)->([0-9a-fA-F]+)\s*$")
DOM0_KERNEL = re.compile(
    r"^\s*Dom0 kernel: (32|64)-bit.*, paddr (0x[0-9a-fA-F]+) -> (0x[0-9a-fA-F]+)\s*$")
DOM0_BUILD = re.compile(r"^\*\*\* (?:Building a PV(H)? Dom0|LOADING DOMAIN 0) \*\*\*")
_Q_HEADER = re.compile(r"^'q' pressed -> dumping domain info")
_Q_DOMAIN = re.compile(r"^General information for domain (\d+):")
_Q_PAGES = re.compile(r"^\s*(?:refcnt=\d+ dying=\d+ )?nr_pages=(\d+) .*max_pages=(\d+)\s*$")
_U_TOTAL = re.compile(r"^(?:Domain 0|d0) \(total: (\d+)\):")
#: a PVH dom0's kernel, as Xen's ELF loader and dom0 builder print it (hvm/dom0_build.c):
#: where the ELF asks to be, the kernel's relocation note, and where Xen 4.19+ moved it
_ELF_MEMORY = re.compile(r"^ELF: memory: (0x[0-9a-fA-F]+) -> (0x[0-9a-fA-F]+)\s*$")
_ELF_RELOC = re.compile(r"^ELF: note: PHYS32_RELOC align: (0x[0-9a-fA-F]+) min: "
                        r"(0x[0-9a-fA-F]+) max: (0x[0-9a-fA-F]+)\s*$")
_KERNEL_MOVED = re.compile(r"^d0 kernel: Moving \[([0-9a-fA-F]+), ([0-9a-fA-F]+)\] -> "
                           r"\[([0-9a-fA-F]+), ([0-9a-fA-F]+)\]\s*$")
_NOT_RELOCATABLE = re.compile(r"^d0 kernel: Address conflict and not relocatable")
#: Xen's BUG_ON()/BUG() (xen/common/bug.c: "Xen BUG at %s%s:%d", printed, then the panic's
#: reason), its file and line
_BUG = re.compile(r"^Xen BUG at (\S+:\d+)")
#: the panic when dom0's first allocation (one aligned block for its initial mapping) fails
#: (pv/dom0_build.c:619 in 4.20.4)
_FIRST_ALLOC = re.compile(r"^Not enough RAM for domain 0 allocation")
#: each ACPI table Xen finds through the RSDT/XSDT: "ACPI: RIGT 60000100, 0124 (r1 RIGXEN ..."
_ACPI_TABLE = re.compile(r"^ACPI: (\S{4}) ([0-9A-Fa-f]+), ([0-9A-Fa-f]+) \(r\d+ (\S+)")



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
    #: VIRTUAL MEMORY ARRANGEMENT: "Loaded kernel", "Start info", "Page tables" → [start, end)
    virtual: dict[str, tuple[int, int]] = field(default_factory=dict)
    alloc_pages: int | None = None
    ramdisk_pages: int = 0
    to_be_allocated: int | None = None
    #: dom0's nr_pages from the size of its P2M ("Phys-Mach map", exact by construction)
    p2m_pages: int | None = None
    #: Xen's own count of dom0's pages after boot (debug key 'q' or 'u'); the last dump wins
    dom0_tot_pages: int | None = None
    dom0_max_pages_seen: int | None = None
    q_dumps: int = 0
    #: a line of the allocation arithmetic (Dom0 alloc., the physical Init. ramdisk) was cut
    #: (a wrap, noise after its number): the arithmetic is not known
    alloc_cut: bool = False
    seen: bool = False  # any Xen line at all
    #: a PVH dom0's kernel: [start, end) its ELF asks for, its PHYS32_RELOC note (align, min,
    #: max), and [start, end) where Xen moved it (4.19+, "d0 kernel: Moving")
    elf_memory: tuple[int, int] | None = None
    phys32_reloc: tuple[int, int, int] | None = None
    kernel_moved: tuple[int, int] | None = None
    kernel_not_relocatable: bool = False
    #: where Xen BUG()ed, "file:line", the first one ("arch/x86/pv/dom0_build.c:1033")
    bug_site: str | None = None
    #: Xen found no block for dom0's first allocation and panicked (a PV dom0's build)
    dom0_first_alloc_failed: bool = False
    #: the ACPI tables Xen listed: signature -> (address, length, OEM id)
    acpi_tables: dict[str, tuple[int, int, str]] = field(default_factory=dict)

    @property
    def dom0_mem(self) -> str | None:
        """The dom0_mem text as Xen applies it (several options: the parts in turn)."""
        if not self.dom0_mem_values:
            return None
        return self.dom0_mem_values[0] if len(self.dom0_mem_values) == 1 else \
            " ".join(self.dom0_mem_values)

    def dom0_physical(self, what: str) -> tuple[int, int] | None:
        """Where one of Xen's allocations for a PV dom0 lies in dom0's pseudo-physical space:
        the initial mapping maps pfn (vaddr - virt_base) >> 12 (pv/dom0_build.c), and
        virt_base is where the kernel's vaddr and paddr part ("Loaded kernel" vs "Dom0
        kernel: paddr")."""
        loaded, found = self.virtual.get("Loaded kernel"), self.virtual.get(what)
        if loaded is None or found is None or self.dom0_kernel_paddr is None:
            return None
        base = loaded[0] - self.dom0_kernel_paddr[0]
        return found[0] - base, found[1] - base

    @property
    def alloc_nr_pages(self) -> int | None:
        """dom0's nr_pages from the PHYSICAL MEMORY ARRANGEMENT: the chunk, the initrd's pages
        (assigned to dom0 before the line is printed) and the pages still to be allocated.
        Without "to be allocated" none were left: Xen panics ("Domain 0 allocation is too
        small") rather than give dom0 fewer pages than the chunk and the initrd."""
        if self.alloc_pages is None or self.alloc_cut:
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


def populated_pages(xen_map: Sequence[E820Entry]) -> int:
    """The pages Xen populated for a PVH dom0, from the map it printed (hvm/dom0_build.c): the
    whole pages of RAM, and the page its ACPI tables start in when the last RAM entry below
    4 GiB ends inside a page (``pvh_setup_acpi`` takes less than a page there: rig.model.pvh)."""
    low_ram = [e for e in xen_map if e.is_ram and e.end <= GIB4]
    partial = 1 if low_ram and low_ram[-1].end % PAGE_SIZE else 0
    return whole_ram_pages(xen_map) + partial


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
        if cut:
            # a cut line is never read; one of the allocation arithmetic leaves it unknown
            if _ALLOC_LINE.search(text) and self._section != "VIRTUAL":
                info.alloc_cut = True
            return
        if (found := TABLE.find(text)) is not None:
            TABLE.read(self, text, found)

    # -- one reader per message (MESSAGES) --------------------------------------------------

    def _map_header(self, m: re.Match[str]) -> None:
        self._in_map, self._map, self._map_is_dom0 = True, [], False
        self.info.e820_source = m.group(2)
        self.info.e820_cut = False

    def _dom0_map(self, m: re.Match[str]) -> None:
        self._in_map, self._map, self._map_is_dom0 = True, [], True

    def _version(self, m: re.Match[str]) -> None:
        self.info.version = m.group(1)

    def _elf_memory(self, m: re.Match[str]) -> None:
        self.info.elf_memory = (int(m.group(1), 16), int(m.group(2), 16))

    def _elf_reloc(self, m: re.Match[str]) -> None:
        self.info.phys32_reloc = (int(m.group(1), 16), int(m.group(2), 16), int(m.group(3), 16))

    def _kernel_moved(self, m: re.Match[str]) -> None:
        self.info.kernel_moved = (int(m.group(3), 16), int(m.group(4), 16) + 1)

    def _not_relocatable(self, m: re.Match[str]) -> None:
        self.info.kernel_not_relocatable = True

    def _cmdline(self, m: re.Match[str]) -> None:
        self.info.cmdline = m.group(1)
        self.info.dom0_mem_values = DOM0_MEM.findall(self.info.cmdline)

    def _acpi_table(self, m: re.Match[str]) -> None:
        self.info.acpi_tables[m.group(1)] = (int(m.group(2), 16), int(m.group(3), 16),
                                             m.group(4))

    def _system_ram(self, m: re.Match[str]) -> None:
        self.info.system_ram_kb = int(m.group(2))

    def _build(self, m: re.Match[str]) -> None:
        self.info.dom0_kind = "PVH" if m.group(1) else "PV"

    def _dom0_kernel(self, m: re.Match[str]) -> None:
        self.info.dom0_bits = int(m.group(1))
        self.info.dom0_kernel_paddr = (int(m.group(2), 16), int(m.group(3), 16))

    def _section_header(self, m: re.Match[str]) -> None:
        self._section = m.group(1)

    def _virtual(self, m: re.Match[str]) -> None:
        self.info.virtual[m.group(1)] = (int(m.group(2), 16), int(m.group(3), 16))

    def _alloc(self, m: re.Match[str]) -> None:
        start, end = int(m.group(1), 16), int(m.group(2), 16)
        self.info.alloc_pages = (end - start) // 4096
        self.info.to_be_allocated = int(m.group(3)) if m.group(3) else None

    def _ramdisk(self, m: re.Match[str]) -> None:
        # only the physical line counts: under VIRTUAL MEMORY ARRANGEMENT Xen ≤4.16 prints
        # "0000000000000000->0000000000000000" for an initrd it did not map into dom0,
        # whose pages still belong to dom0
        if self._section != "VIRTUAL":
            start, end = int(m.group(1), 16), int(m.group(2), 16)
            self.info.ramdisk_pages = (end - start + 4095) // 4096

    def _p2m(self, m: re.Match[str]) -> None:
        start, end = int(m.group(1), 16), int(m.group(2), 16)
        word = 4 if self.info.dom0_bits == 32 else 8
        if end >= start and (end - start) % word == 0:
            self.info.p2m_pages = (end - start) // word

    def _bug(self, m: re.Match[str]) -> None:
        self.info.bug_site = m.group(1)

    def _first_alloc(self, m: re.Match[str]) -> None:
        self.info.dom0_first_alloc_failed = True

    def _q_header(self, m: re.Match[str]) -> None:
        self.info.q_dumps += 1
        self._q_domain = None

    def _q_domain_header(self, m: re.Match[str]) -> None:
        self._q_domain = int(m.group(1))

    def _q_pages(self, m: re.Match[str]) -> None:
        self.info.dom0_tot_pages, self.info.dom0_max_pages_seen = int(m.group(1)), int(m.group(2))

    def _u_total(self, m: re.Match[str]) -> None:
        self.info.dom0_tot_pages = int(m.group(1))

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


MESSAGES: tuple[Message[XenParser], ...] = (
    Message("RAM map", _MAP_HEADER, XenParser._map_header),
    Message("Dom0 memory map", _DOM0_MAP, XenParser._dom0_map),
    Message("Xen version [0-9]", VERSION, XenParser._version, lambda p: p.info.version is None),
    Message("Command line", _CMDLINE, XenParser._cmdline, lambda p: p.info.cmdline is None),
    Message("System RAM", _SYSTEM_RAM, XenParser._system_ram),
    Message(r"\*\*\*", DOM0_BUILD, XenParser._build),
    Message("Dom0 kernel", DOM0_KERNEL, XenParser._dom0_kernel),
    Message("ELF: memory", _ELF_MEMORY, XenParser._elf_memory),
    Message("PHYS32_RELOC", _ELF_RELOC, XenParser._elf_reloc),
    Message("d0 kernel: ", _KERNEL_MOVED, XenParser._kernel_moved),
    Message("d0 kernel: ", _NOT_RELOCATABLE, XenParser._not_relocatable),
    Message("ARRANGEMENT", _SECTION, XenParser._section_header),
    Message("Loaded kernel|Start info|Page tables", _VIRTUAL, XenParser._virtual,
            lambda p: p._section == "VIRTUAL"),
    Message("Dom0 al", ALLOC, XenParser._alloc),
    Message(r"Init\. r", RAMDISK, XenParser._ramdisk),
    Message("Phys-Mach", P2M, XenParser._p2m),
    Message("pressed -> ", _Q_HEADER, XenParser._q_header),
    Message("General info", _Q_DOMAIN, XenParser._q_domain_header),
    Message("_pages=", _Q_PAGES, XenParser._q_pages, lambda p: p._q_domain == 0),
    Message(r"\(total: ", _U_TOTAL, XenParser._u_total),
    Message("ACPI: .{4} [0-9A-Fa-f]+, ", _ACPI_TABLE, XenParser._acpi_table),
    Message("Xen BUG at", _BUG, XenParser._bug, lambda p: p.info.bug_site is None),
    Message("Not enough RAM for domain 0 a", _FIRST_ALLOC, XenParser._first_alloc),
)
#: what the file scan looks for, and what a line must hold before the messages are tried
TABLE = Table(MESSAGES)
HINTS = TABLE.hints
