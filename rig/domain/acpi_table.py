"""The ACPI table rig's test firmware can place inside a typed E820 entry, and what dom0 must
read back from it. Pure.

QEMU adds the table (``-acpitable file=``: the whole table, header included; QEMU keeps the
bytes and their checksum) to the RSDT; rig's SeaBIOS patch (images/seabios-rig-e820.patch,
rig_acpi()) copies it to ``OFFSET`` bytes into the entry and points the RSDT at the copy. dom0
reads it as ACPI's users do, through /sys/firmware/acpi/tables/RIGT; rig's /init prints its
sha256. The bytes are rig's own: a header of ACPI's 36 bytes and a body that differs from one
offset to the next, so a read of the wrong bytes never matches."""

from __future__ import annotations

import hashlib
import struct

SIGNATURE = "RIGT"
OEM = "RIGXEN"
#: where the table goes inside its entry: past the entry's first bytes, within its first page
OFFSET = 0x100
_BODY = bytes((i * 7 + 3) & 0xFF for i in range(256))


def table_bytes() -> bytes:
    """The table's bytes: signature, length, revision 1, checksum, OEM "RIGXEN"/"RIGTABLE"
    revision 1, creator "RIG " revision 1, then the body; the bytes sum to 0."""
    head = bytearray(SIGNATURE.encode() + struct.pack("<I", 36 + len(_BODY)) + bytes([1, 0])
                     + OEM.encode() + b"RIGTABLE" + struct.pack("<I", 1) + b"RIG "
                     + struct.pack("<I", 1))
    data = bytearray(head + _BODY)
    data[9] = -sum(data) & 0xFF
    return bytes(data)


def sha256() -> str:
    """What dom0 must read back."""
    return hashlib.sha256(table_bytes()).hexdigest()


def moves(address: int) -> bytes:
    """The firmware's record (fw_cfg opt/rig/acpi): the table's signature and the address it
    is copied to (u32 each, little-endian)."""
    return struct.pack("<II", int.from_bytes(SIGNATURE.encode(), "little"), address)
