"""Xen's ``dom0_mem=[min:<amt>,][max:<amt>,][<amt>]`` (x86), parsed and validated.

Pure. Amounts may be sizes (``3G``), ``-`` sizes ("all but"), or percentages (Xen 4.12+).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rig.layout import parse_size

_AMOUNT = re.compile(
    r"^-?(?:\d+(?:\.\d+)?[KMGTkmgt]?|0x[0-9a-fA-F]+)$"  # 1G, -512M, 0x40000000
    r"|^(?:\d+[KMGTkmgt]?\+)?\d{1,2}%$"  # 25%, 1G+25% (Xen 4.12+)
)


@dataclass(frozen=True)
class Dom0Mem:
    amount: str | None = None
    min: str | None = None
    max: str | None = None

    @staticmethod
    def parse(text: str) -> Dom0Mem:
        """Raise ValueError naming the bad part."""
        fields: dict[str, str] = {}
        if not text.strip():
            raise ValueError("dom0_mem is empty")
        for part in text.split(","):
            part = part.strip()
            key, _, value = part.rpartition(":")
            key = key or "amount"
            if key not in ("min", "max", "amount"):
                raise ValueError(f"dom0_mem: unknown part {part!r} (expected min:, max: or a size)")
            if key in fields:
                raise ValueError(f"dom0_mem: {key} given twice in {text!r}")
            if not _AMOUNT.match(value):
                raise ValueError(f"dom0_mem: {value!r} is not a size (e.g. 1G, 512M, -1G, 25%)")
            fields[key] = value
        return Dom0Mem(fields.get("amount"), fields.get("min"), fields.get("max"))

    @staticmethod
    def absolute_pages(value: str | None) -> int | None:
        """Pages of an absolute amount; None for relative ones (they depend on the host)."""
        if value is None or value.startswith("-") or "%" in value:
            return None
        return parse_size(value) // 4096

    @property
    def max_pages(self) -> int | None:
        return self.absolute_pages(self.max)
