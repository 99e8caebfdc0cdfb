"""The first rule: expected values come from what the machine gave dom0, never from what the
judged kernel printed. Logs edited to lie must get FAIL or incomplete, never PASS; a PASS needs
evidence."""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path

import pytest

from rig.cli import main
from rig.domain.e820 import E820Entry, E820Type
from rig.judge.check import CheckName
from rig.judge.judge import judge
from rig.judge.result import Result
from rig.model.conflicts import Allocations, resolve_conflicts
from rig.model.kernel import Kernel
from rig.parse.collect import parse_lines
from tests.conftest import LOGS
from tests.corpus import load_case

PCI_HOLE = load_case(LOGS / "rig-pci-hole-6.1.log")[1]


def verdict_of(body: str, **kw: object) -> tuple[str, dict[str, dict[str, object]]]:
    log = parse_lines(io.StringIO(body, newline="\n"))
    doc = Result.of(log, judge(log, **kw)).to_json()  # type: ignore[arg-type]
    return doc["verdict"], {c["name"]: c for c in doc["checks"]}


def test_the_honest_log_passes() -> None:
    assert verdict_of(PCI_HOLE)[0] == "pass"


def test_a_count_edited_with_its_map_fails() -> None:
    """Remapped 97 → 100, and the kernel's own printed map edited to make 100 plausible (a
    3-page reserved range below nr_pages): the model reads Xen's map, so the lie shows."""
    lie = PCI_HOLE.replace("Remapped 97 page(s)", "Remapped 100 page(s)")
    lie = lie.replace("Xen: [mem 0x0000000000100000-0x0000000040060fff] usable",
                      "Xen: [mem 0x0000000000100000-0x0000000000102fff] reserved\n"
                      "[    0.000000] Xen: [mem 0x0000000000103000-0x0000000040060fff] usable")
    assert lie.count("0x0000000000102fff] reserved") == 1
    assert lie.count("Remapped 100") == 1
    verdict, checks = verdict_of(lie)
    assert verdict == "fail"
    remapped = checks[CheckName.REMAPPED]
    assert (remapped["expected"], remapped["observed"]) == (97, 100)


def test_without_xens_map_no_prediction_is_possible() -> None:
    """The same lie with Xen's map removed: the kernel's own map cannot stand in."""
    lie = PCI_HOLE.replace("Remapped 97 page(s)", "Remapped 100 page(s)")
    lie = re.sub(r"\(XEN\)  \[[0-9a-f]+, [0-9a-f]+\] \([^)]*\)\n", "", lie)
    verdict, checks = verdict_of(lie)
    assert verdict == "incomplete"
    assert "Xen's E820 map" in str(checks[CheckName.MODEL]["message"])
    assert CheckName.REMAPPED not in checks


def test_a_balloon_above_nr_pages_is_no_pass() -> None:
    lie = PCI_HOLE.replace("RIG: balloon info/current_kb 1048576",
                           "RIG: balloon info/current_kb 1048580")
    verdict, checks = verdict_of(lie)
    assert verdict == "fail" and checks[CheckName.NOTHING_LOST]["status"] == "fail"


def test_pass_needs_evidence(monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    """The issue's one-liner: one line, no map, no version: incomplete, exit 1."""
    monkeypatch.setattr(sys, "stdin", io.StringIO("[    0.000000] Released 0 page(s)\n"))
    assert main(["parse", "-", "--dom0-mem", "1G", "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["verdict"] == "incomplete"
    model = next(c for c in doc["checks"] if c["name"] == CheckName.MODEL)
    assert "no prediction is possible" in model["message"]


def test_counts_without_accounting_are_incomplete() -> None:
    """Remapped and Released agree with the model, but nothing says where dom0's pages went
    (no balloon, no Xen count): the Released line cut off makes the messages incomplete."""
    body = PCI_HOLE.replace("RIG: balloon info/current_kb 1048576\n", "")
    body = re.sub(r"^.*Released 0 page\(s\)\n", "", body, flags=re.M)
    verdict, checks = verdict_of(body)
    assert verdict == "incomplete"
    assert checks[CheckName.RELEASED]["status"] == "incomplete"


def test_a_missing_version_is_said_to_be_guessed() -> None:
    body = re.sub(r"^.*Linux version .*\n", "", PCI_HOLE, flags=re.M)
    verdict, checks = verdict_of(body)
    assert "guessed" in str(checks[CheckName.MODEL]["message"])
    assert verdict == "pass"  # era E from the message formats: the counts do not change


def test_ibft_from_the_printed_map_is_an_assumption_said_so() -> None:
    body = LOGS / "rig-pci-hole-7.2.log"
    verdict, checks = verdict_of(load_case(body)[1])
    assert verdict == "pass"
    assert "assumption" in str(checks[CheckName.MODEL]["message"])


def test_virtual_ramdisk_line_does_not_hide_the_initrd() -> None:
    """Xen ≤4.16 prints the virtual "Init. ramdisk: 0->0" for an initrd it did not map into
    dom0; its pages still belong to dom0 (the Qubes case: 1048576, not 1030952)."""
    xen = ["(XEN) PHYSICAL MEMORY ARRANGEMENT:",
           "(XEN)  Dom0 alloc.:   0000000440000000->0000000448000000 (1013400 pages to be "
           "allocated)",
           "(XEN)  Init. ramdisk: 000000047ba8a000->000000047ffff8fc",
           "(XEN) VIRTUAL MEMORY ARRANGEMENT:",
           "(XEN)  Loaded kernel: ffffffff81000000->ffffffff83000000",
           "(XEN)  Init. ramdisk: 0000000000000000->0000000000000000",
           "(XEN)  Phys-Mach map: 0000008000000000->0000008000800000"]
    log = parse_lines(line + "\n" for line in xen)
    # 32768 (chunk) + 17784 (initrd, 0x4575904 bytes rounded up) + 1013400 - 15376?
    chunk, initrd = 0x8000000 // 4096, -(-(0x47ffff8fc - 0x47ba8a000) // 4096)
    assert log.xen.ramdisk_pages == initrd
    assert log.xen.alloc_nr_pages == chunk + initrd + 1013400
    assert log.xen.p2m_pages == 0x800000 // 8 == 1048576
    assert log.xen.nr_pages_disagreement is not None  # these numbers are made up: they disagree


def _conflict(view: list[E820Entry], image: tuple[int, int]) -> E820Entry | None:
    found = resolve_conflicts(view, Kernel((6, 1, 192)), Allocations(image), 0x40000).conflict
    return found.entry if found is not None else None


def test_the_kernel_image_must_lie_in_one_ram_entry() -> None:
    ram, gap = E820Type.RAM, E820Type.RESERVED
    view = [E820Entry(0x100000, 0x2E00000, ram), E820Entry(0x2E1C000, 0x20000000, ram)]
    hit = _conflict(view, (0x1000000, 0x4A00000))
    assert hit is not None and (hit.start, hit.end) == (0x2E00000, 0x2E1C000)
    assert _conflict(view, (0x3000000, 0x4A00000)) is None
    typed = [E820Entry(0x100000, 0x2000000, ram), E820Entry(0x2000000, 0x2001000, gap),
             E820Entry(0x2001000, 0x20000000, ram)]
    hit = _conflict(typed, (0x1000000, 0x4A00000))
    assert hit is not None and hit.type is gap


def test_dom0_and_xen_logs_of_one_boot(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """`rig parse dmesg --xen xl-dmesg`, and the same two files given together."""
    dmesg, xl = tmp_path / "dmesg.txt", tmp_path / "xl-dmesg.txt"
    dmesg.write_text(load_case(LOGS / "fmt-dmesg-T.log")[1])
    xl.write_text(load_case(LOGS / "fmt-xl-dmesg.log")[1])
    assert main(["parse", str(dmesg), "--json"]) == 1  # no Xen map: incomplete
    capsys.readouterr()
    assert main(["parse", str(dmesg), "--xen", str(xl), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["verdict"] == "pass"
    assert main(["parse", str(xl), str(dmesg), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["verdict"] == "pass" and "one boot" in doc["notes"][0]


@pytest.mark.parametrize(("name", "words"), [
    ("/dev/null", None),  # an empty log: incomplete, not "no such file"
    ("DIR", "is a directory"),
    ("missing.log", "no such file"),
])
def test_odd_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str,
                    words: str | None) -> None:
    path = tmp_path if name == "DIR" else Path(name) if name.startswith("/") else tmp_path / name
    code = main(["parse", str(path)])
    out = capsys.readouterr()
    if words is None:
        assert code == 1 and "INCOMPLETE" in out.out
    else:
        assert code == 2 and words in out.err and "Traceback" not in out.err


def test_xen_query_waits_for_the_line_end() -> None:
    """rig stops QEMU once Xen's 'q' dump is in: on the whole line, never on its first digits."""
    import re

    from rig.machine.console import _Q_DUMP

    dump = (b"(XEN) General information for domain 0:\r\r\n"
            b"(XEN)     refcnt=3 dying=0 pause_count=0\r\r\n"
            b"(XEN)     nr_pages=262144 xenheap_pages=2 dirty_cpus={} max_pages=262144")
    assert re.search(_Q_DUMP, dump[:-1]) is None
    assert re.search(_Q_DUMP, dump) is None  # not yet: the line may go on
    assert re.search(_Q_DUMP, dump + b"\r\r\n") is not None


def test_seabios_top_reservation_is_named_when_it_is_the_only_difference() -> None:
    """SeaBIOS kept 33 pages where the emulation keeps 32 (docs/facts.md): the warning says
    so, and any other difference is not dressed up as that one."""
    from rig.judge.live import _top_reserve_difference
    from rig.model.firmware import seabios_map

    want = seabios_map(0xA6600000, 0, "grub", "pc")
    low_top = 0xA6600000
    got = [e if e.end != low_top - 0x20000 else E820Entry(e.start, low_top - 0x21000, e.type)
           for e in want]
    got = [e if e.start != low_top - 0x20000 else E820Entry(low_top - 0x21000, e.end, e.type)
           for e in got]
    assert _top_reserve_difference(got, want) == (33, 32)
    other = [e if e.end != 0x9F800 else E820Entry(e.start, 0x9E000, e.type) for e in want]
    assert _top_reserve_difference(other, want) is None
