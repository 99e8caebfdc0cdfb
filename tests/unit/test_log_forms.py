"""Saved logs as editors and tools leave them (issue 34, cases 4-6): a byte-order mark, UTF-16,
gzip / xz / bzip2, zstd (named, not unpacked), and a file that shrinks while rig reads it.
Each is judged as its plain UTF-8 self is, or refused with the reason; never misread."""

from __future__ import annotations

import bz2
import gzip
import lzma
from collections.abc import Iterator
from pathlib import Path

import pytest

from rig.errors import RigError, UsageError
from rig.parse import scan
from rig.parse.by_grep import parse_with_grep
from rig.parse.encoding import Form, sniff
from tests.conftest import RECORDED, TESTS

#: a dmesg whose first line is the kernel's banner, as `dmesg > file` writes it
DMESG = "".join(ln for ln in (TESTS / "logs" / "real-linux-3.17rc4-xengt-dmesg-issue.log")
                .read_text().splitlines(True) if not ln.startswith("#"))
BOOT = (RECORDED / "pci-hole" / "console.log").read_bytes()


def judged(path: Path) -> tuple[str | None, int | None, int]:
    log = parse_with_grep(path)
    return log.linux.version, log.xen.dom0_tot_pages, log.lines


@pytest.mark.parametrize(("form", "encode"), [
    (Form.UTF8_BOM, lambda b: b"\xef\xbb\xbf" + b),
    (Form.UTF16, lambda b: b.decode().encode("utf-16")),  # with its BOM, as PowerShell writes
    (Form.GZIP, gzip.compress),
    (Form.XZ, lzma.compress),
    (Form.BZIP2, bz2.compress),
    (Form.GZIP, lambda b: gzip.compress(b.decode().encode("utf-16"))),  # both at once
])
def test_a_log_reads_as_its_plain_self(form: Form, encode: object, tmp_path: Path) -> None:
    assert callable(encode)
    for name, body in (("dmesg", DMESG.encode()), ("boot", BOOT)):
        plain, other = tmp_path / f"{name}.log", tmp_path / f"{name}.other"
        plain.write_bytes(body)
        other.write_bytes(encode(body))
        assert sniff(other.read_bytes()[:8]) is form
        assert judged(other) == judged(plain)
    # the banner on line 1 is read: the model's kernel version depends on it
    assert judged(tmp_path / "dmesg.other")[0] == "3.17.0-rc4-vgt+"


def test_zstd_is_named_not_misread(tmp_path: Path) -> None:
    log = tmp_path / "console.log.1"
    log.write_bytes(b"\x28\xb5\x2f\xfd" + b"\0" * 64)
    with pytest.raises(UsageError, match=r"zstd-compressed.*zstd -d"):
        parse_with_grep(log)


def test_a_broken_gzip_is_named(tmp_path: Path) -> None:
    log = tmp_path / "console.log.gz"
    log.write_bytes(gzip.compress(BOOT)[:200])
    with pytest.raises(UsageError, match="a broken gzip file"):
        parse_with_grep(log)


def test_a_log_that_shrinks_while_read_is_said_not_died_of(tmp_path: Path) -> None:
    """logrotate's copytruncate empties the file while grep scans it: rig's bytes and grep's
    lines no longer match. rig used to map the file and die of SIGBUS."""
    log = tmp_path / "console.log"
    log.write_bytes(BOOT)

    def truncating(path: Path, data: bytes, size: int) -> Iterator[scan.Hinted]:
        path.write_bytes(b"")  # : > console.log
        yield from scan.python_scan(path, data, size)

    with pytest.raises(RigError, match=r"shrank from \d+ to 0 bytes while rig read it"):
        scan.parse_file(log, scan=truncating)
    log.write_bytes(BOOT)
    assert scan.parse_file(log).linux.version is not None  # untouched, it is judged
