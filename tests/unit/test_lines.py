from __future__ import annotations

from rig.parse.lines import Source, split


def one(raw: str) -> list[tuple[str, str]]:
    return [(ln.source.value, ln.text) for ln in split(1, raw)]


def test_prefixes_and_stamps_are_removed() -> None:
    assert one("[    0.000000] Released 0 page(s)\r\n") == [("linux", "Released 0 page(s)")]
    assert one("(XEN) [2024-01-02 03:04:05.123] System RAM: 1MB (1024kB)") == \
        [("xen", "System RAM: 1MB (1024kB)")]
    assert one("Nov 26 13:21:00 box kernel: [    1.5] Remapped 97 page(s)") == \
        [("linux", "Remapped 97 page(s)")]
    assert one("2026-11-26T13:21:00+0000 box kernel: Remapped 97 page(s)") == \
        [("linux", "Remapped 97 page(s)")]
    assert one("<6>[    0.000000] Linux version 6.1.0") == [("linux", "Linux version 6.1.0")]


def test_xen_entry_keeps_its_leading_space() -> None:
    assert one("(XEN)  [0000000000000000, 000000000009fbff] (usable)") == \
        [("xen", " [0000000000000000, 000000000009fbff] (usable)")]


def test_ansi_noise_and_interleaving() -> None:
    assert one("\x1b[2J\x1b[0;0HRemapped 97 page(s)") == [("linux", "Remapped 97 page(s)")]
    assert one("[    1.0] Remapped 97 pa(XEN) Scrubbing Free RAM") == [
        ("linux", "Remapped 97 pa"), ("xen", "Scrubbing Free RAM")]
    assert [ln.source for ln in split(3, "plain")] == [Source.LINUX]


def test_linux_6_16_map_with_gap_lines_and_type_names() -> None:
    """6.16+ names the types ("System RAM", "device reserved") and prints the gaps between
    entries ("[gap ...]"): the map goes on past them."""
    from rig.parse.collect import parse_lines

    lines = ["[    0.000000] BIOS-provided physical RAM map:\n",
             "[    0.000000] BIOS-e820: [mem 0x0000000000000000-0x000000000009efff]  System RAM\n",
             "[    0.000000] BIOS-e820: [gap 0x000000000009f000-0x000000000009fbff]\n",
             "[    0.000000] BIOS-e820: [mem 0x000000000009fc00-0x00000000000fffff]  device "
             "reserved\n",
             "[    0.000000] BIOS-e820: [mem 0x0000000000100000-0x000000007ffdff25]  System RAM\n",
             "[    0.000000] BIOS-e820: [gap 0x0000000080000000-0x00000000afffffff]\n",
             "[    0.000000] BIOS-e820: [mem 0x0000000100000000-0x000000017fffffff]  System RAM\n",
             "[    0.000000] printk: legacy bootconsole [xenboot0] enabled\n"]
    log = parse_lines(lines)
    assert [(e.start, e.type.value) for e in log.linux.e820] == [
        (0, "usable"), (0x9FC00, "reserved"), (0x100000, "usable"), (0x100000000, "usable")]
    assert not log.cut
