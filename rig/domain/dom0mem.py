"""Xen's ``dom0_mem=`` (x86): its syntax and how Xen sizes dom0 from it. The one implementation.

Pure. It follows xen/arch/x86/dom0_build.c (``parse_amt``, ``parse_dom0_mem``, ``get_memsize``,
``default_nr_pages``, ``dom0_compute_nr_pages``) and xen/lib/parse-size.c
(``parse_size_and_unit``), which are the same in Xen 4.17 and 4.20 (tags RELEASE-4.17.7 and
RELEASE-4.20.1). Things that are easy to get wrong and that Xen does:

- a number without a unit is in KiB (``dom0_mem=1048576`` is 1 GiB), numbers are read with base
  0 (``0x40000000`` is hex, still KiB; ``010`` is octal), and there are no fractions;
- ``<size>+<frac>%``: a percentage of the memory available for dom0, ``frac`` below 100;
- a leading ``-`` means "available minus this", computed in unsigned long, so "minus more than
  there is" wraps around and is then clamped to what is available;
- an amount of 0 (or none) means the default: all available memory but 1/16 of it, at most
  128 MiB;
- the amount is clamped from below by ``min:`` and from above by ``max:`` and by what is
  available; ``max:`` also sets d->max_pages (at most UINT_MAX), and without ``max:`` dom0's
  maximum reservation is unlimited (UINT_MAX pages).

"Available" (``avail``) is Xen's free domain heap plus the boot modules at the time dom0 is
built, minus small reservations. Xen does not print it, so a size that depends on it is known
only as a range (``Dom0Mem.determined``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rig.domain.units import PAGE_SHIFT

ULONG = 1 << 64
LONG_MAX = (1 << 63) - 1
UINT_MAX = (1 << 32) - 1
#: the default keeps back 1/16 of available memory, at most 128 MiB (default_nr_pages)
DEFAULT_RESERVE_MAX_PAGES = 128 << (20 - PAGE_SHIFT)
#: more pages than any machine's: 2**40 pages are 4 PiB (a search over avail stops here)
_AVAIL_BOUND = 1 << 40
_UNITS = {"t": 40, "g": 30, "m": 20, "k": 10, "b": 0}


def _strtoull(text: str) -> tuple[int, str]:
    """C's simple_strtoull(s, &end, 0): base from the prefix (0x hex, 0 octal, else decimal)."""
    if text[:2].lower() == "0x" and len(text) > 2 and text[2] in "0123456789abcdefABCDEF":
        digits, base, i = "0123456789abcdefABCDEF", 16, 2
    elif text.startswith("0"):
        digits, base, i = "01234567", 8, 0
    else:
        digits, base, i = "0123456789", 10, 0
    j = i
    while j < len(text) and text[j] in digits:
        j += 1
    return (int(text[i:j], base) if j > i else 0), text[j:]


def parse_size_and_unit(text: str) -> tuple[int, str]:
    """Bytes and the rest of the text; no unit means KiB, ``%`` is left for the caller."""
    value, rest = _strtoull(text)
    unit = rest[:1].lower()
    if unit in _UNITS:
        return (value << _UNITS[unit]) % ULONG, rest[1:]
    if unit == "%":
        return value, rest
    return (value << 10) % ULONG, rest


@dataclass(frozen=True)
class Amount:
    """One ``<size> | <frac>% | <size>+<frac>%``, optionally negative (Xen's struct memsize)."""

    pages: int = 0
    percent: int = 0
    minus: bool = False

    def of(self, avail: int) -> int:
        """get_memsize(): pages for ``avail`` available pages, in unsigned long arithmetic."""
        pages = self.pages + self.percent * avail // 100
        return (avail - pages) % ULONG if self.minus else pages

    @property
    def absolute(self) -> bool:
        """Independent of the host: a plain positive size."""
        return not self.minus and not self.percent


def _parse_amount(text: str, name: str) -> Amount:
    """parse_amt(), raising ValueError that names the part and says what Xen accepts."""
    bad = ValueError(f"dom0_mem: {name} {text!r} is not an amount Xen accepts "
                     "(<size>, <frac>%, <size>+<frac>%, each optionally negative; a size "
                     "without a unit is in KiB, e.g. 1G, 512M, -1G, 25%, 1G+10%)")
    minus = text.startswith("-")
    s = text[1:] if minus else text
    pages, percent, items = 0, 0, 0
    while True:
        if not s[:1].isdigit():
            raise bad
        value, s = parse_size_and_unit(s)
        if s.startswith("%"):
            if value >= 100:
                raise ValueError(f"dom0_mem: {name} {text!r}: a percentage must be below 100")
            percent = value
            s = s[1:]
            items += 1  # nothing may follow a percentage
        else:
            if items:
                raise bad  # the size must come first
            pages = value >> PAGE_SHIFT
        items += 1
        if s.startswith("+") and items < 2:
            s = s[1:]
            continue
        break
    if s:
        raise bad
    return Amount(pages, percent, minus)


@dataclass(frozen=True)
class Dom0Size:
    """What Xen gives dom0: its pages (start_info's nr_pages) and d->max_pages."""

    nr_pages: int
    max_pages: int

    @property
    def max_unlimited(self) -> bool:
        return self.max_pages >= UINT_MAX


@dataclass(frozen=True)
class Dom0Mem:
    """A parsed ``dom0_mem=`` value; ``None`` parts were not given."""

    amount: Amount | None = None
    min: Amount | None = None
    max: Amount | None = None
    text: str = ""

    @staticmethod
    def parse(text: str) -> Dom0Mem:
        """Xen's grammar ``[min:<amt>,][max:<amt>,][<amt>]`` (parts in any order). Raise
        ValueError naming the bad part; Xen itself ignores a bad value with a warning."""
        if not text.strip():
            raise ValueError("dom0_mem is empty")
        parts: dict[str, Amount] = {}
        for raw in text.split(","):
            key, value = "amount", raw
            for prefix in ("min:", "max:"):
                if raw.startswith(prefix):
                    key, value = prefix[:-1], raw[len(prefix):]
            if key in parts:
                raise ValueError(f"dom0_mem: {key} given twice in {text!r}")
            parts[key] = _parse_amount(value, "max:" if key == "max" else
                                       "min:" if key == "min" else "amount")
        return Dom0Mem(parts.get("amount"), parts.get("min"), parts.get("max"), text)

    @staticmethod
    def merged(values: list[str]) -> Dom0Mem | None:
        """Several ``dom0_mem=`` on one command line: Xen parses each in turn, and each sets
        only the parts it names (a later part wins)."""
        out: Dom0Mem | None = None
        for v in values:
            m = Dom0Mem.parse(v)
            if out is None:
                out = m
            else:
                out = Dom0Mem(m.amount or out.amount, m.min or out.min, m.max or out.max,
                              f"{out.text} {v}")
        return out

    def asked(self, avail: int) -> int:
        """The pages dom0_mem asks for with ``avail`` pages available, clamped by ``min:`` and
        ``max:`` but not yet by ``avail`` (dom0_compute_nr_pages() before its last ``min``)."""
        amount = self.amount.of(avail) if self.amount else 0
        nr = amount or avail - min(avail // 16, DEFAULT_RESERVE_MAX_PAGES)
        min_pages = self.min.of(avail) if self.min else 0
        max_pages = self.max.of(avail) if self.max else LONG_MAX
        return min(max(nr, min_pages), max_pages)

    def size(self, avail: int) -> Dom0Size:
        """dom0_compute_nr_pages()'s final clamp for a PV dom0 with ``avail`` pages available
        (the paging-mode and legacy-kernel adjustments do not apply to rig's dom0s)."""
        max_pages = self.max.of(avail) if self.max else LONG_MAX
        return Dom0Size(min(self.asked(avail), avail), min(max_pages, UINT_MAX))

    def may_take_every_free_page(self, nr_pages: int) -> bool:
        """Whether Xen may have given dom0 every page it had free, for a dom0 built with
        ``nr_pages``: dom0_mem asks for at least that many when ``avail`` is ``nr_pages``.
        Certain when it asks for more (every part grows with ``avail``, so a larger ``avail``
        would have given dom0 more); when it asks for exactly ``nr_pages``, ``avail`` may have
        been larger. Xen 4.20.4 clamps such a request to ``avail`` and keeps no page for its
        own allocations that follow (rig's fifth finding, docs/findings.md)."""
        return self.asked(nr_pages) >= nr_pages

    def max_pages_built_with(self, nr_pages: int) -> int | None:
        """d->max_pages of a dom0 that Xen built with ``nr_pages``, solved for Xen's free
        memory: the same for every ``avail`` that gives dom0 ``nr_pages`` (``max:90%`` alone:
        dom0 got 90% of avail, and so may grow to it). None when those ``avail`` disagree, when
        none gives ``nr_pages``, or when a negative part makes the sizing not monotonic in
        ``avail`` (the wrap of "minus more than there is")."""
        if (fixed := self.max_pages) is not None:
            return fixed
        if any(a is not None and a.minus for a in (self.amount, self.min, self.max)):
            return None
        # size(avail).nr_pages never falls as avail grows, and never exceeds avail: the avail
        # that give nr_pages are one interval at or above nr_pages
        lo = self._first_avail(nr_pages, lambda n: n >= nr_pages)
        hi = self._first_avail(nr_pages, lambda n: n > nr_pages) - 1
        if lo > hi or self.size(lo).nr_pages != nr_pages:
            return None
        first, last = self.size(lo).max_pages, self.size(hi).max_pages
        return first if first == last else None

    def _first_avail(self, low: int, reached: Callable[[int], bool]) -> int:
        """The least avail from ``low`` up whose nr_pages ``reached`` says yes to (a bound past
        any machine when none does)."""
        high = _AVAIL_BOUND
        while low < high:
            mid = (low + high) // 2
            if reached(self.size(mid).nr_pages):
                high = mid
            else:
                low = mid + 1
        return low

    def determined(self, avail_low: int, avail_high: int) -> Dom0Size | None:
        """The size when it is the same for every ``avail`` in [low, high], else None.
        Every part grows with ``avail`` (or is constant), so equal ends mean a constant."""
        if avail_low > avail_high:
            return None
        lo, hi = self.size(avail_low), self.size(avail_high)
        return lo if lo == hi else None

    def for_machine(self, ram_pages: int, top_pfn: int) -> Dom0Size | None:
        """The size on a machine with ``ram_pages`` pages of RAM ending at ``top_pfn``, when
        Xen's free memory at dom0 build time cannot change it (``xen_overhead_pages``)."""
        return self.determined(max(0, ram_pages - xen_overhead_pages(top_pfn)), ram_pages)

    def for_pvh_machine(self, ram_pages: int, top_pfn: int) -> Dom0Size | None:
        """``for_machine`` for a PVH dom0: Xen also takes its paging pool and its IOMMU's page
        tables from ``avail`` before it sizes a PVH dom0 (``pvh_overhead_pages``)."""
        low = ram_pages - xen_overhead_pages(top_pfn) - pvh_overhead_pages(ram_pages, top_pfn)
        return self.determined(max(0, low), ram_pages)

    def with_plenty(self) -> Dom0Size | None:
        """The size when Xen has more memory free than dom0_mem asks for: known for absolute
        amounts (the usual ``dom0_mem=1G``), None for relative ones."""
        return self.determined(1 << 36, 1 << 40)

    @property
    def max_pages(self) -> int | None:
        """d->max_pages when no host can change it: UINT_MAX without ``max:``, an absolute
        ``max:`` (at most UINT_MAX); None for a relative one. dom0's own size may still
        depend on Xen's free memory (``min:`` alone): its max_pages does not."""
        if self.max is None:
            return UINT_MAX
        return min(self.max.pages, UINT_MAX) if self.max.absolute else None

    @property
    def absolute_pages(self) -> int | None:
        """The amount's pages when it is a plain size (the usual ``dom0_mem=1G``)."""
        if self.amount is None or not self.amount.absolute or not self.amount.pages:
            return None
        return self.amount.pages


#: Xen's own use of RAM before it builds dom0, per 4 KiB page of RAM address space: the frame
#: table (sizeof(struct page_info) = 32 bytes), the M2P (8 bytes) and the compat M2P (4 bytes),
#: rounded up to 64 bytes so that superpage rounding and PDX slack are covered
XEN_BYTES_PER_PAGE = 64
#: and at most this much for its image, heaps, per-CPU areas and boot allocations
XEN_FIXED_BYTES = 128 << 20


def xen_overhead_pages(top_pfn: int) -> int:
    """An upper bound on the pages Xen keeps for itself on a machine whose RAM ends at
    ``top_pfn``: what ``avail`` (dom0_compute_nr_pages) is at least short of all RAM. Checked
    against boots without dom0_mem, where nr_pages = avail - min(avail/16, 128 MiB)."""
    return (top_pfn * XEN_BYTES_PER_PAGE + XEN_FIXED_BYTES) >> PAGE_SHIFT


#: the vCPUs of rig's machines (each adds 256 KiB to a PVH dom0's paging pool)
PVH_VCPUS = 1


def pvh_overhead_pages(ram_pages: int, top_pfn: int) -> int:
    """An upper bound on what ``dom0_compute_nr_pages()`` takes from ``avail`` for a PVH dom0
    besides Xen's own use (xen/arch/x86/dom0_build.c, 4.17 to 4.20): its paging pool,
    ``dom0_paging_pages()`` (4 KiB per vCPU and per MiB of dom0: at most dom0's whole RAM,
    rounded up to a MiB), and the IOMMU's page tables (``max_pdx >> 9`` + ``>> 18`` + ...,
    ``max_pdx`` at most the top of RAM)."""
    paging_kb = 4 * (256 * PVH_VCPUS + (ram_pages >> 8))
    paging = -(-paging_kb // 1024) << (20 - PAGE_SHIFT)
    iommu = sum(top_pfn >> s for s in range(9, 64, 9))
    return paging + iommu


def default_size(avail: int) -> Dom0Size:
    """No dom0_mem at all (and no CONFIG_DOM0_MEM in Xen's build)."""
    return Dom0Mem().size(avail)
