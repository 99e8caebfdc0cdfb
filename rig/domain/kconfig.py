"""A Linux kernel's build configuration (``.config``, Debian's ``/boot/config-*``).

Pure apart from reading the file. The model asks it the options that change what a correct
kernel does with its memory (today: CONFIG_ISCSI_IBFT_FIND), so that those come from the kernel
that was booted, never from what that kernel printed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

_SET = re.compile(r"^(CONFIG_\w+)=(.*)$")
_UNSET = re.compile(r"^# (CONFIG_\w+) is not set$")


@dataclass(frozen=True)
class KernelConfig:
    source: str
    options: dict[str, str] = field(default_factory=dict)

    @staticmethod
    def parse(text: str, source: str) -> KernelConfig:
        options: dict[str, str] = {}
        for line in text.splitlines():
            if (m := _SET.match(line)) is not None:
                options[m.group(1)] = m.group(2)
            elif (m := _UNSET.match(line)) is not None:
                options[m.group(1)] = "n"
        return KernelConfig(source, options)

    @staticmethod
    def load(path: Path, source: str | None = None) -> KernelConfig:
        return KernelConfig.parse(path.read_text(errors="replace"), source or str(path))

    def enabled(self, option: str) -> bool:
        """``=y`` or ``=m`` (IS_ENABLED); absent or ``is not set`` is off."""
        return self.options.get(option) in ("y", "m")


def beside(image: Path) -> Path | None:
    """The configuration that belongs to a kernel image the user gave: Debian's layout
    (``vmlinuz-X`` next to ``config-X``), tuxmake's output folder (``bzImage`` beside
    ``config`` and ``metadata.json``) or a build tree's ``.config`` above
    ``arch/x86/boot/bzImage``."""
    name = image.name
    candidates: list[Path] = []
    for prefix in ("vmlinuz-", "vmlinux-", "bzImage-"):
        if name.startswith(prefix):
            candidates.append(image.with_name("config-" + name[len(prefix):]))
    candidates.append(image.with_suffix(".config"))  # rig's own builds keep it so
    candidates.append(image.parent / ".config")
    candidates.append(image.parent / "config")  # tuxmake's output folder
    if image.parent.name == "boot" and image.parent.parent.name == "x86":
        candidates.append(image.parents[3] / ".config")
    return next((c for c in candidates if c.is_file()), None)
