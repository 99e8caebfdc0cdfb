"""The ELF inside a bzImage, so that Xen need not unpack it under TCG.

Xen's dom0 builder unpacks a bzImage's payload itself (xen/arch/x86/bzimage.c) and then loads
the ELF it finds there. Under TCG that costs seconds: Debian 6.1's 8 MB XZ payload took 4.6 s
of every boot ("*** Building a PV Dom0 ***" at 1.538 s, " Xen  kernel: 64-bit, lsb" at
6.108 s with Xen's console_timestamps=boot), and a direct boot of pci-hole went from 16.0 s to
11.9 s with the ELF. QEMU's multiboot loader reads module files on the host at no such cost,
so direct boots hand Xen the ELF: byte for byte what Xen would have unpacked, the same kernel.

GRUB boots keep the bzImage: GRUB reads its modules from the CD-ROM through the BIOS at about
4 MB/s under TCG, and the 66 MB ELF took 18 s to load there, more than the unpacking saves.

The payload is unpacked only when its size comes out exactly as the bzImage records it (the
four bytes after the compressed data, as the kernel's build appends them) and it is an ELF;
anything else keeps the bzImage and says why.

The setup header is read here for the rest too: the release its version string names
(kernel_release, kernel_upstream) and what a cut file lacks (truncated).
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import lzma
import os
import shutil
import struct
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path

from rig.domain.units import PAGE_SIZE
from rig.errors import ArtifactError
from rig.machine.images.store import Store
from rig.model.kernel import KernelLayout

#: the payload's first bytes → its compression, as the kernel's build writes them
#: (arch/x86/boot/compressed/Makefile); Python unpacks the first four itself
MAGICS = (
    (b"\x1f\x8b", "gzip"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x5d\x00", "lzma"),
    (b"BZh", "bzip2"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"\x02\x21\x4c\x18", "lz4"),
    (b"\x89LZO", "lzo"),
)
#: the payload's offset and length fields appeared in boot protocol 2.08
MIN_PROTOCOL = 0x208
#: a kernel's ELF, unpacked, is far below this; a size field above it is no size field
MAX_ELF = 1 << 30


@dataclass(frozen=True)
class Image:
    """What Xen is handed as dom0's kernel: the ELF (``unpacked_from`` names the compression)
    or the bzImage itself (``why`` says why not the ELF)."""

    path: Path
    form: str  # "elf" | "bzImage"
    unpacked_from: str | None = None
    why: str | None = None


def _span(header: bytes, file_size: int) -> tuple[int, int] | None:
    """Where a bzImage's payload lies (start, length), from the boot protocol's header (the
    file's first 0x250 bytes), or None when it is no bzImage this code knows."""
    if len(header) < 0x250 or header[0x202:0x206] != b"HdrS":
        return None
    if struct.unpack_from("<H", header, 0x206)[0] < MIN_PROTOCOL:
        return None
    setup_sects = header[0x1F1] or 4  # 0 means 4 (boot protocol)
    offset, length = struct.unpack_from("<II", header, 0x248)
    start = (setup_sects + 1) * 512 + offset
    if length < 8 or start + length > file_size:
        return None
    return start, length


def truncated(header: bytes, file_size: int) -> str | None:
    """What a kernel image's own header says is missing from a file of ``file_size`` bytes,
    or None: a bzImage's setup sectors and protected-mode code (``syssize``, in 16-byte units,
    boot protocol 2.04+), an ELF's program headers and the segments they load."""
    if len(header) >= 0x210 and header[0x202:0x206] == b"HdrS":
        setup_sects = header[0x1F1] or 4  # 0 means 4 (boot protocol)
        need = (setup_sects + 1) * 512
        if struct.unpack_from("<H", header, 0x206)[0] >= 0x204:
            need += struct.unpack_from("<I", header, 0x1F4)[0] * 16
        if file_size < need:
            return (f"its bzImage header says {need} bytes (setup and payload), the file "
                    f"has {file_size}")
        return None
    if header[:4] == b"\x7fELF" and len(header) >= 64 and header[4] == 2:  # ELF64
        phoff, = struct.unpack_from("<Q", header, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", header, 0x36)
        end = phoff + phentsize * phnum
        if file_size < end:
            return f"its ELF program headers end at byte {end}, the file has {file_size}"
        for i in range(phnum):
            at = phoff + i * phentsize
            if at + 56 > len(header):
                break  # beyond what was read: the headers are checked where they were read
            p_type, _, p_offset = struct.unpack_from("<IIQ", header, at)
            p_filesz, = struct.unpack_from("<Q", header, at + 32)
            if p_type == 1 and p_offset + p_filesz > file_size:  # PT_LOAD
                return (f"its ELF segment {i} runs to byte {p_offset + p_filesz}, the file has "
                        f"{file_size}")
    return None


def _kind(body_head: bytes) -> str | None:
    return next((name for magic, name in MAGICS if body_head.startswith(magic)), None)


def payload(data: bytes) -> tuple[str, bytes, int] | None:
    """(compression, compressed bytes, unpacked size) of a bzImage's payload, or None when the
    file is no bzImage with a payload this code knows."""
    span = _span(data[:0x250], len(data))
    if span is None:
        return None
    start, length = span
    body = data[start:start + length]
    name = _kind(body)
    return (name, body[:-4], struct.unpack_from("<I", body, length - 4)[0]) if name else None


def payload_kind(bzimage: Path) -> tuple[str, int] | None:
    """(compression, unpacked size) of a bzImage's payload, read from its header and the
    payload's ends only (the whole file is ~8 MB: reading it cost a run ~15 ms for a kernel
    whose ELF is cached)."""
    with open(bzimage, "rb") as f:
        header = f.read(0x250)
        span = _span(header, os.fstat(f.fileno()).st_size)
        if span is None:
            return None
        start, length = span
        f.seek(start)
        name = _kind(f.read(8))
        f.seek(start + length - 4)
        size = struct.unpack("<I", f.read(4))[0]
    return (name, size) if name else None


def _unpack(name: str, packed: bytes) -> bytes | str:
    """The unpacked bytes, or why they could not be had."""
    try:
        if name == "gzip":
            return gzip.decompress(packed)
        if name == "xz":
            return lzma.decompress(packed, format=lzma.FORMAT_XZ)
        if name == "lzma":
            return lzma.decompress(packed, format=lzma.FORMAT_ALONE)
        if name == "bzip2":
            return bz2.decompress(packed)
    except (OSError, EOFError, lzma.LZMAError, zlib.error, ValueError) as exc:
        return f"its {name} payload does not unpack ({exc})"
    if name == "zstd":
        # Python 3.11 has no zstd; Debian's zstd tool does (Debian 6.12+ kernels use it)
        tool = shutil.which("zstd")
        if tool is None:
            return "its payload is zstd and the zstd tool is not installed (apt-get install zstd)"
        done = subprocess.run([tool, "-dcq"], input=packed, capture_output=True, check=False)
        if done.returncode != 0:
            return f"zstd -d failed: {done.stderr.decode(errors='replace').strip()[:200]}"
        return done.stdout
    return f"its payload is {name}, which rig does not unpack"


def elf_for_xen(bzimage: Path, sha256: str, store: Store | None = None) -> Image:
    """The kernel image to hand Xen: the cached ELF unpacked from ``bzimage`` (whose sha256 is
    given), unpacked now if it is not cached yet, else the bzImage and the reason."""
    store = store or Store()
    cached = store.root / "elf" / sha256
    with open(bzimage, "rb") as f:
        if f.read(4) == b"\x7fELF":
            return Image(bzimage, "elf", why="the file is an ELF already")
    kind = payload_kind(bzimage)
    if kind is not None and store.intact(cached):
        return Image(cached, "elf", unpacked_from=kind[0])  # else (damaged, half) unpack again
    found = payload(bzimage.read_bytes())
    if found is None:
        return Image(bzimage, "bzImage", why="no bzImage payload this rig knows")
    name, packed, size = found
    if size > MAX_ELF:
        return Image(bzimage, "bzImage", why=f"its recorded size {size} is no kernel's")
    elf = _unpack(name, packed)
    if isinstance(elf, str):
        return Image(bzimage, "bzImage", why=elf)
    if len(elf) != size or not elf.startswith(b"\x7fELF"):
        what = "an ELF" if elf.startswith(b"\x7fELF") else "no ELF"
        return Image(bzimage, "bzImage", why=f"its {name} payload unpacked to {len(elf)} bytes "
                                             f"of {what}; the bzImage records {size}")
    try:
        store.ensure()
        cached.parent.mkdir(exist_ok=True)
        store.write_atomic(cached, elf)  # a concurrent run sees the whole file or none
        store.seal(cached, hashlib.sha256(elf).hexdigest())
    except (OSError, ArtifactError) as exc:
        # a cache rig cannot write costs the seconds of Xen's unpacking, not the run
        return Image(bzimage, "bzImage", why=f"the unpacked ELF could not be cached: {exc}")
    return Image(cached, "elf", unpacked_from=name)


#: x86_64's __START_KERNEL_map: a kernel's ELF addresses are virtual from here
START_KERNEL_MAP = 0xFFFFFFFF80000000
_SECTION = struct.Struct("<IIQQQQIIQQ")
_PROGRAM = struct.Struct("<IIQQQQQQ")
PT_LOAD = 1


def layout(elf: Path) -> KernelLayout | None:
    """_text, __bss_stop and _end (physical) from an ELF's section headers: .text's start,
    .bss's end, .brk's end page-aligned (vmlinux.lds.S: ``. = ALIGN(PAGE_SIZE); _end = .``).
    None for a file that is no x86_64 kernel ELF with those sections."""
    try:
        with open(elf, "rb") as f:
            head = f.read(64)
            if head[:5] != b"\x7fELF\x02":
                return None
            phoff, shoff = struct.unpack_from("<QQ", head, 0x20)
            phentsize, phnum, shentsize, shnum, shstrndx = struct.unpack_from("<HHHHH", head,
                                                                              0x36)
            f.seek(phoff)
            programs = f.read(phentsize * phnum)
            f.seek(shoff)
            table = f.read(shentsize * shnum)
            sections = [_SECTION.unpack_from(table, i * shentsize) for i in range(shnum)]
            names_at = sections[shstrndx][4]
            f.seek(names_at)
            names = f.read(sections[shstrndx][5])
    except (OSError, struct.error, IndexError):
        return None
    found = {}
    for name_off, _type, _flags, addr, _off, size, *_ in sections:
        name = names[name_off:names.find(b"\0", name_off)].decode(errors="replace")
        if name in (".text", ".bss", ".brk"):
            found[name] = (addr - START_KERNEL_MAP, addr + size - START_KERNEL_MAP)
    if {".text", ".bss", ".brk"} - set(found):
        return None
    end = -(-found[".brk"][1] // PAGE_SIZE) * PAGE_SIZE
    loads = [_PROGRAM.unpack_from(programs, i * phentsize) for i in range(phnum)]
    image_end = max((paddr + memsz for kind, _f, _o, _v, paddr, _fs, memsz, _a in loads
                     if kind == PT_LOAD), default=end)
    return KernelLayout(found[".text"][0], found[".bss"][1], end, image_end)


def kernel_layout(bzimage: Path, sha256: str, store: Store | None = None) -> KernelLayout | None:
    """The layout of the kernel in ``bzimage`` (its ELF unpacked and cached as for Xen)."""
    image = elf_for_xen(bzimage, sha256, store)
    return layout(image.path) if image.form == "elf" else None


def _header_version(image: Path) -> list[str]:
    """The words of the version string a bzImage carries in its setup header
    (``kernel_version``, boot protocol 2.00+: a pointer at 0x20E, relative to 0x200)."""
    try:
        with open(image, "rb") as f:
            head = f.read(0x10000)
    except OSError:
        return []
    if head[0x202:0x206] != b"HdrS" or len(head) < 0x210:
        return []
    offset = int.from_bytes(head[0x20E:0x210], "little") + 0x200
    return head[offset:offset + 256].split(b"\0", 1)[0].decode(errors="replace").split()


def kernel_release(image: Path) -> str | None:
    """The release a bzImage's header names, e.g. "6.1.0-57-amd64"."""
    words = _header_version(image)
    return words[0] if words else None


def kernel_upstream(image: Path) -> str | None:
    """The upstream release a distribution's build string in the header names ("Debian
    6.1.192-3" → "6.1.192"), which its ABI name (6.1.0-57) hides."""
    # the Linux parser's own rule for the banner; imported here, after the boot, as the
    # parsers' tables are (rig.runner.run)
    from rig.parse.linux import DISTRO_RELEASE

    m = DISTRO_RELEASE.search(" ".join(_header_version(image)[1:]))
    return m.group(1) if m else None


def gc(store: Store, keep: set[str]) -> list[Path]:
    """Remove unpacked ELFs whose bzImage is no longer in the cache."""
    return store.prune("elf", lambda path: path.name.removesuffix(".sha256") in keep)


__all__ = ["MAGICS", "Image", "elf_for_xen", "gc", "kernel_layout", "kernel_release",
           "kernel_upstream", "layout", "payload"]
