"""The CPU model QEMU emulates unless told otherwise: a module of its own, so that the command
line's --help names it without importing the renderer (and Jinja with it)."""

from __future__ import annotations

# "-cpu max" makes dom0 crash at once under TCG (emulated SMAP); without SMAP it boots
DEFAULT_CPU = "max,-smap"
