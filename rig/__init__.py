"""rig: reproduce Xen dom0 memory layouts under QEMU and judge what the Linux kernel does."""

#: the one place of rig's version (pyproject.toml reads it; every result carries it)
__version__ = "0.1.0"
