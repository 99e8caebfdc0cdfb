"""dom0's Linux kernel: version, command line, printed E820, the Xen setup messages of every era
(docs/log-formats.md §1) and the ``Memory:`` line (§2)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rig.domain.e820 import E820Entry
from rig.domain.pages import PfnRange
from rig.parse.e820 import linux_entry, linux_gap
from rig.parse.messages import Message, Table

VERSION = re.compile(r"^Linux version (\S+)(.*)")
#: Debian's build string (after "#1", past the compiler's "Debian 12.2.0") names the upstream
#: release its ABI name hides: "6.1.0-57-amd64 ... #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3"
#: (a wrapped banner may lose it: then the ABI name is all there is)
DISTRO_RELEASE = re.compile(r"#\d+ .*\bDebian (\d+\.\d+\.\d+)")
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
#: searched anywhere in the line
_UNABLE = re.compile(".*" + re.escape("Unable to find available pfn range, not remapping "
                                      "identity pages"))
#: ACPI's early table list (acpi_tb_print_table_header): signature, address, length, as read
_ACPI_TABLE = re.compile(r"^ACPI: (.{4}) 0x([0-9A-Fa-f]{8,16}) ([0-9A-Fa-f]{6,8})\b")
MEMORY = re.compile(r"^Memory: (\d+)[kK]/(\d+)[kK] available")
#: __e820__range_add() on a full table (arch/x86/kernel/e820.c:171): 7.x "E820 table full",
#: before it "too many entries" (both with "e820: " in some builds); the end is start+size-1,
#: so an empty add reads [mem X-(X-1)]
E820_FULL = re.compile(r"^(?:e820: )?(?:E820 table full|too many entries); ignoring "
                       r"\[mem (0x[0-9a-f]+)-(0x[0-9a-f]+)\]\s*$")
#: an oops's CPU line names the running kernel's release (lib/dump_stack.c): the version when
#: the banner was lost ("** N printk messages dropped **" took it), Debian's upstream release
#: after its build string as in the banner
_OOPS_RELEASE = re.compile(r"^CPU: \d+ (?:UID: \d+ )?PID: \d+ Comm: \S+ "
                           r"(?:Not tainted|Tainted: [A-Z ]+?) (\S+) (#\d+.*)$")
#: printk's note of the lines it lost before a console took them (kernel/printk/printk.c)
_DROPPED = re.compile(r"^\*\* (\d+) printk messages dropped \*\*\s*$")
#: the CPU's XSAVE sizes do not add up: the kernel goes on without XSAVE
#: (arch/x86/kernel/fpu/xstate.c XSTATE_WARN_ON, then fpu__init_disable_system_xstate())
_XSAVE_MISMATCH = re.compile(r"^XSAVE consistency problem: ")



@dataclass
class LinuxInfo:
    version: str | None = None
    #: the upstream release a distribution's build string names (DISTRO_RELEASE)
    upstream_version: str | None = None
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
    #: ACPI's table list as dom0 read the headers: address -> (signature, length)
    acpi_tables: dict[int, tuple[str, int]] = field(default_factory=dict)
    #: E820_FULL lines: how many, and the ranges of those that were not empty, [start, end)
    e820_full_lines: int = 0
    e820_ignored: list[tuple[int, int]] = field(default_factory=list)
    #: printk's count of lost lines (_DROPPED), summed
    printk_dropped: int = 0
    #: the kernel found the XSAVE sizes inconsistent and took its fallback without XSAVE
    xsave_disabled: bool = False
    #: the release an oops's CPU line names, and its Debian upstream release (_OOPS_RELEASE)
    oops_release: str | None = None
    oops_upstream: str | None = None
    seen: bool = False


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
        if cut or (found := TABLE.find(text)) is None:
            return
        info.seen = True
        TABLE.read(self, text, found)

    # -- one reader per message (MESSAGES) --------------------------------------------------

    def _map_header(self, m: re.Match[str]) -> None:
        self._map_state = 1

    def _version(self, m: re.Match[str]) -> None:
        self.info.version = m.group(1)
        if (d := DISTRO_RELEASE.search(m.group(2))) is not None:
            self.info.upstream_version = d.group(1)

    def _xen_version(self, m: re.Match[str]) -> None:
        self.info.xen_version = m.group(1)

    def _cmdline(self, m: re.Match[str]) -> None:
        self.info.cmdline = m.group(1)

    def _remapped_nonram(self, m: re.Match[str]) -> None:
        self.info.remapped_nonram_pages = int(m.group(1))

    def _remapped(self, m: re.Match[str]) -> None:
        self.info.remapped_pages = int(m.group(1))
        if m.group(2) is not None:
            self.info.remapped_last_pfn = int(m.group(2))
            self._era("D")
        else:
            self._era("E")

    def _released(self, m: re.Match[str]) -> None:
        self.info.released_pages = int(m.group(1))

    def _released_old(self, m: re.Match[str]) -> None:
        self.info.released_pages = int(m.group(2))
        if m.group(1) == "r":
            self._era("A")

    def _freeing(self, m: re.Match[str]) -> None:
        self.info.freed_ranges.append(PfnRange(int(m.group(2), 16), int(m.group(3), 16)))
        self._era("B" if len(m.group(1)) == 2 else "C")

    def _chunk(self, m: re.Match[str]) -> None:
        self.info.freed_ranges.append(PfnRange(int(m.group(1), 16), int(m.group(2), 16)))
        self._era("A")

    def _populating(self, m: re.Match[str]) -> None:
        self.info.populated_ranges.append(PfnRange(int(m.group(1), 16), int(m.group(2), 16)))
        self.info.populated_pages = (self.info.populated_pages or 0) + int(m.group(3))
        self._era("C")

    def _identity(self, m: re.Match[str]) -> None:
        self.info.identity_pages = int(m.group(1))

    def _unable(self, m: re.Match[str]) -> None:
        self.info.remap_failed = True

    def _memory(self, m: re.Match[str]) -> None:
        self.info.memory_available_kb, self.info.memory_total_kb = \
            int(m.group(1)), int(m.group(2))
        self.info.memory_line = m.string

    def _acpi_table(self, m: re.Match[str]) -> None:
        self.info.acpi_tables.setdefault(int(m.group(2), 16),
                                         (m.group(1), int(m.group(3), 16)))

    def _e820_full(self, m: re.Match[str]) -> None:
        self.info.e820_full_lines += 1
        start, last = int(m.group(1), 16), int(m.group(2), 16)
        if last >= start:
            self.info.e820_ignored.append((start, last + 1))

    def _oops_release(self, m: re.Match[str]) -> None:
        self.info.oops_release = m.group(1)
        if (d := DISTRO_RELEASE.search(m.group(2))) is not None:
            self.info.oops_upstream = d.group(1)

    def _dropped(self, m: re.Match[str]) -> None:
        self.info.printk_dropped += int(m.group(1))

    def _xsave(self, m: re.Match[str]) -> None:
        self.info.xsave_disabled = True

    def finish(self) -> LinuxInfo:
        return self.info


MESSAGES: tuple[Message[LinuxParser], ...] = (
    Message("RAM map", _MAP_HEADER, LinuxParser._map_header, lambda p: p._map_state == 0),
    Message("Linux version", VERSION, LinuxParser._version, lambda p: p.info.version is None),
    Message("Xen version: ", _XEN_VERSION, LinuxParser._xen_version,
            lambda p: p.info.xen_version is None),
    # "Command line:" early in setup_arch, "Kernel command line:" later (and alone in some logs)
    Message("ommand line", _CMDLINE, LinuxParser._cmdline, lambda p: p.info.cmdline is None),
    Message("Remapped", REMAPPED_NONRAM, LinuxParser._remapped_nonram),
    Message("Remapped", REMAPPED, LinuxParser._remapped),
    Message("Released", RELEASED, LinuxParser._released),
    Message("unused memory", RELEASED_OLD, LinuxParser._released_old),
    Message("Freeing  ?[0-9a-f]+-", FREEING, LinuxParser._freeing),
    Message("xen_release_chunk", CHUNK_A, LinuxParser._chunk),
    Message("Populating", POPULATING, LinuxParser._populating),
    Message("-1 mapping", _IDENTITY, LinuxParser._identity),
    Message("Unable to find", _UNABLE, LinuxParser._unable),
    Message("ACPI: .{4} 0x", _ACPI_TABLE, LinuxParser._acpi_table),
    Message("Memory:", MEMORY, LinuxParser._memory, lambda p: p.info.memory_line is None),
    Message("; ignoring \\[mem", E820_FULL, LinuxParser._e820_full),
    Message("printk messages dropped", _DROPPED, LinuxParser._dropped),
    Message("XSAVE consistency", _XSAVE_MISMATCH, LinuxParser._xsave),
    Message(" Comm: ", _OOPS_RELEASE, LinuxParser._oops_release,
            lambda p: p.info.oops_release is None),
)
#: what a line must hold before the messages are tried
TABLE = Table(MESSAGES)
#: what the file scan looks for: the messages, and the printed map's own lines ("BIOS-")
HINTS = (*TABLE.hints, "BIOS-")
