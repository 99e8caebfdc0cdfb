"""rig's ACPI table in a scenario's entry (rig.domain.acpi_table): its bytes, the scenario's
rules, what the firmware is handed, what /init reports and how it is judged."""

from __future__ import annotations

import hashlib
import struct
from dataclasses import replace

import pytest

from rig.domain import acpi_table
from rig.domain.scenario import ScenarioError
from rig.domain.scenario_file import from_dict, load
from rig.judge.check import Status
from rig.judge.live import acpi_table_check
from rig.machine import render
from rig.parse.collect import parse_lines

SCENARIO = "tests/live/scenarios/acpi-table-nvs.toml"


def test_the_table_is_a_valid_acpi_table() -> None:
    t = acpi_table.table_bytes()
    assert t[:4] == b"RIGT" and struct.unpack_from("<I", t, 4)[0] == len(t)
    assert sum(t) & 0xFF == 0  # the checksum QEMU keeps
    assert acpi_table.sha256() == hashlib.sha256(t).hexdigest()


def test_a_scenario_places_one_table_in_a_typed_entry_below_4g() -> None:
    s = load(SCENARIO)
    assert "acpi_table = true" in s.to_toml()
    base = {"name": "x", "machine": {"memory": "4G", "below_4g": "2G"}}
    for holes, why in (
            ([{"start": "0x60000000", "size": "8K", "kind": "gap", "acpi_table": True}],
             "holds no ACPI table"),
            ([{"start": "0x60000000", "size": "0x100", "kind": "nvs", "acpi_table": True}],
             "needs"),
            ([{"start": "0x60000000", "size": "8K", "kind": "nvs", "acpi_table": True},
              {"start": "0x61000000", "size": "8K", "kind": "acpi", "acpi_table": True}],
             "one table"),
            ([{"start": "0x60000000", "size": "8K", "kind": "nvs", "acpi_table": "yes"}],
             "true or false")):
        with pytest.raises(ScenarioError, match=why):
            from_dict({**base, "holes": holes})


def test_the_firmware_is_handed_the_table_and_where_it_goes() -> None:
    s = load(SCENARIO)
    files = render.firmware_files(s)
    assert files[render.ACPI_TABLE] == acpi_table.table_bytes()
    assert files[render.ACPI_MOVES] == struct.pack("<II", int.from_bytes(b"RIGT", "little"),
                                                   0x60000100)
    boot = render.BootFiles("/r/xen", "/r/vmlinuz", "/r/initrd.gz", "/r/qmp")
    firmware = render.FirmwareFiles("/r/bios.bin", "/r/rig-e820.bin")
    spec = render.machine_spec(s, replace(boot, firmware=firmware), accel="tcg")
    args = render.qemu_args(spec)
    assert args[args.index("-acpitable") + 1] == "file=/r/rigt.dat"
    assert "name=opt/rig/acpi,file=/r/rig-acpi.bin" in args
    assert "-acpitable" not in render.qemu_args(render.machine_spec(load("pci-hole"), boot,
                                                                    accel="tcg"))


#: Xen's line for the table where rig's firmware put it (tests/live/scenarios/acpi-table-nvs)
XEN_LISTS = "(XEN) ACPI: RIGT 60000100, 0124 (r1 RIGXEN RIGTABLE        1 RIG         1)"


@pytest.mark.parametrize(("lines", "status"), [
    ([XEN_LISTS, "RIG: stage init", f"RIG: acpi-table RIGT {acpi_table.sha256()}",
      "RIG: stage done"], Status.PASS),
    ([XEN_LISTS, "RIG: stage init", "RIG: acpi-table RIGT " + "0" * 64, "RIG: stage done"],
     Status.FAIL),
    ([XEN_LISTS, "RIG: stage init", "RIG: stage done"], Status.FAIL),
    ([XEN_LISTS, "(XEN) Hardware Dom0 halted: halting machine"], Status.INCOMPLETE),
    # the table never reached Xen where rig put it (QEMU's multiboot copy over it): rig's
    ([XEN_LISTS.replace("60000100", "01400100"), "RIG: stage init", "RIG: stage done"],
     Status.ERROR),
    (["(XEN) Xen version 4.20.5-pre", "RIG: stage init", "RIG: stage done"], Status.ERROR),
    # a log without Xen's lines (dom0's dmesg): dom0's reading alone
    (["RIG: stage init", f"RIG: acpi-table RIGT {acpi_table.sha256()}", "RIG: stage done"],
     Status.PASS),
])
def test_the_check_compares_with_the_tables_own_hash(lines: list[str], status: Status) -> None:
    check = acpi_table_check(parse_lines(lines), load(SCENARIO), None)
    assert check is not None and check.status is status, check
    assert acpi_table_check(parse_lines(lines), load("pci-hole"), None) is None


#: dom0's early list, as Debian's 6.12.118 printed it (tests/recorded/acpi-table-swapped-6.12)
DOM0_READ = ("[    0.542192] ACPI: ??M  0x0000000001400100 3D835474 (v83 ??\ufffdtY? \ufffd?5"
             "\ufffd?C?? 4384EB35 ??\ufffdH 48C0048D)")
DOM0_LISTS = ("[    0.611464] ACPI: RIGT 0x0000000060000100 000124 (v01 RIGXEN RIGTABLE 00000001 "
              "RIG  00000001)")


def test_dom0s_early_list_is_read_per_address() -> None:
    log = parse_lines([DOM0_READ, DOM0_LISTS,
                       "[    0.540682] ACPI: FACS 0x000000007FFE0000 000040"])
    assert log.linux.acpi_tables == {0x1400100: ("??M ", 0x3D835474),
                                     0x60000100: ("RIGT", 0x124), 0x7FFE0000: ("FACS", 0x40)}


def test_a_header_dom0_misreads_fails_before_init_runs() -> None:
    # the early parse's signature and length are dom0's reading of the firmware's bytes: other
    # values than rig's table has are a FAIL even when dom0 crashes before /init
    s = load(SCENARIO)
    check = acpi_table_check(parse_lines([XEN_LISTS, DOM0_READ.replace("01400100", "60000100")]),
                             s, None)
    assert check is not None and check.status is Status.FAIL
    assert check.expected == "RIGT 0x124" and check.observed == "'??M ' 0x3d835474"
    assert "docs/findings.md" not in check.message  # no swap predicted: no finding named
    ok = acpi_table_check(parse_lines([XEN_LISTS, DOM0_LISTS, "RIG: stage init",
                                       f"RIG: acpi-table RIGT {acpi_table.sha256()}"]), s, None)
    assert ok is not None and ok.status is Status.PASS
