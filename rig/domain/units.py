"""Sizes and pages: the units every layer counts in, spelled and read one way.

Pure. Addresses are bytes and ranges half-open ``[start, end)`` everywhere inside rig.
"""

from __future__ import annotations

PAGE_SHIFT = 12
PAGE_SIZE = 1 << PAGE_SHIFT
KiB = 1 << 10
MiB = 1 << 20
GiB = 1 << 30
TiB = 1 << 40
#: the 4 GiB boundary (32-bit address space)
GIB4 = 1 << 32


def parse_size(text: str) -> int:
    """``"4G"``, ``"512M"``, ``"0x80000000"``, ``"1024K"``, ``"4096"`` → bytes.

    Raises ValueError with the text on anything else.
    """
    s = text.strip()
    if not s:
        raise ValueError("empty size")
    units = {"K": KiB, "M": MiB, "G": GiB, "T": TiB}
    try:
        if s.lower().startswith("0x"):
            return int(s, 16)
        suffix = s[-1].upper()
        if suffix == "B" and len(s) > 1 and s[-2].upper() in units:
            s, suffix = s[:-1], s[-2].upper()
        if suffix in units:
            return int(float(s[:-1]) * units[suffix])
        return int(s)
    except (ValueError, OverflowError):  # "1e309G": a float too large for any integer
        raise ValueError(f"not a size: {text!r} (use e.g. 4G, 512M, 0x80000000)") from None


def format_size(nbytes: int) -> str:
    """Shortest exact spelling: 4G, 512M, 0x9fc00."""
    for suffix, unit in (("T", TiB), ("G", GiB), ("M", MiB), ("K", KiB)):
        if nbytes and nbytes % unit == 0:
            return f"{nbytes // unit}{suffix}"
    return hex(nbytes)


def mib(pages: int) -> str:
    """Pages as MiB for people: ``262273`` → ``"1024.5 MiB"``."""
    return f"{pages * PAGE_SIZE / MiB:.1f} MiB"


def pages_mib(pages: int) -> str:
    """``"262273 pages (1024.5 MiB)"``."""
    return f"{pages} pages ({mib(pages)})"
