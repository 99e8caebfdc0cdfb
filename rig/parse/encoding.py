"""How a saved log is stored, told by its first bytes (never by its name), and its text as
UTF-8 bytes. Pure.

Logs reach rig as editors and tools leave them: a UTF-8 byte-order mark (Notepad,
PowerShell's ``Out-File``), UTF-16 (PowerShell 5's ``>``), or compressed by logrotate (gzip,
xz, bzip2 here; zstd has no module in Python's standard library, so rig names it and asks for
the file unpacked)."""

from __future__ import annotations

import bz2
import gzip
import lzma
from enum import StrEnum

from rig.errors import UsageError


class Form(StrEnum):
    PLAIN = "plain"
    UTF8_BOM = "UTF-8 with a byte-order mark"
    UTF16 = "UTF-16"
    GZIP = "gzip"
    XZ = "xz"
    BZIP2 = "bzip2"
    ZSTD = "zstd"


_MAGICS = (
    (b"\xef\xbb\xbf", Form.UTF8_BOM),
    (b"\xff\xfe", Form.UTF16),
    (b"\xfe\xff", Form.UTF16),
    (b"\x1f\x8b", Form.GZIP),
    (b"\xfd7zXZ\x00", Form.XZ),
    (b"BZh", Form.BZIP2),
    (b"\x28\xb5\x2f\xfd", Form.ZSTD),
)
_UNPACK = {Form.GZIP: gzip.decompress, Form.XZ: lzma.decompress, Form.BZIP2: bz2.decompress}


def sniff(head: bytes) -> Form:
    """The form of a file from its first bytes. A compressed stream whose magic happens to
    open a plain log cannot: a console log's first byte is printable or a control character,
    never 0x1f 0x8b, 0xfd, 0x28 0xb5 or "BZh" followed by a block size digit."""
    for magic, form in _MAGICS:
        if head.startswith(magic):
            if form is Form.BZIP2 and head[3:4] not in b"123456789":
                continue
            return form
    return Form.PLAIN


def utf8(name: str, data: bytes, form: Form) -> bytes:
    """The file's text as UTF-8 bytes without a byte-order mark, unpacked when compressed
    (then its own form is sniffed again: a gzip'd UTF-16 log)."""
    if form is Form.ZSTD:
        raise UsageError(f"{name}: the log is zstd-compressed, which rig does not unpack: "
                         "run 'zstd -d' on it first (rig reads gzip, xz and bzip2 itself)")
    if form in _UNPACK:
        try:
            data = _UNPACK[form](data)
        except (OSError, EOFError, lzma.LZMAError, ValueError) as exc:
            raise UsageError(f"{name}: a broken {form} file ({exc})") from None
        return utf8(name, data, sniff(data[:8]))
    if form is Form.UTF8_BOM:
        return data[3:]
    if form is Form.UTF16:
        return data.decode("utf-16", "replace").encode("utf-8")
    return data
