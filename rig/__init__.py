"""rig: reproduce Xen dom0 memory layouts under QEMU and judge what the Linux kernel does."""

__version__ = "0.1.0"
