from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rig.domain.scenario import ScenarioError
from rig.domain.scenario_file import from_dict, load, overrides_from, presets
from rig.machine.render import BootFiles, machine_spec


def base(**machine: Any) -> dict[str, Any]:
    return {"name": "t", "machine": {"memory": "4G", **machine}}


def test_presets_load() -> None:
    assert "pci-hole" in presets()
    s = load("pci-hole")
    assert (s.machine_type, s.memory, s.below_4g, s.dom0_mem) == ("pc", 4 << 30, 2 << 30,
                                                                    "1G,max:1G")


def test_overrides() -> None:
    s = load("pci-hole", {"xen.dom0_mem": "3G,max:3G", "machine.cpus": "2"})
    assert (s.dom0_mem, s.cpus) == ("3G,max:3G", 2)
    assert load("pci-hole", {"xen.dom0_mem": ""}).dom0_mem is None


@pytest.mark.parametrize(("data", "field", "value"), [
    (base(type="isa"), "machine.type", "isa"),
    (base(memory="lots"), "machine.memory", "lots"),
    (base(memory="100M"), "machine.memory", "100M"),
    (base(below_4g="0x80000001"), "machine.below_4g", "0x80000001"),
    (base(below_4g="0xff000000"), "machine.below_4g", "0xff000000"),
    (base(type="q35", memory="8G", below_4g="0xc0000000"), "machine.below_4g", "0xc0000000"),
    (base(firmware="coreboot"), "machine.firmware", "coreboot"),
    (base(cpus=0), "machine.cpus", 0),
    ({"name": "t", "xen": {"dom0_mem": "lots"}}, "xen.dom0_mem", "lots"),
    ({"name": "t", "xen": {"dom0_mem": "1G,max:1G,max:2G"}}, "xen.dom0_mem", "1G,max:1G,max:2G"),
    ({"name": "t", "machine": {"colour": "red"}}, "machine.colour", "red"),
    ({"machine": {}}, "name", None),
])
def test_bad_values_name_field_and_value(data: dict[str, Any], field: str, value: object) -> None:
    with pytest.raises(ScenarioError) as err:
        from_dict(data, source="x.toml")
    assert err.value.field == field
    assert err.value.value == value
    assert field in str(err.value) and "x.toml" in str(err.value)


def test_holes_above_4g_are_accepted() -> None:
    data = {"name": "t", "machine": {"memory": "8G", "below_4g": "2G"},
            "holes": [{"start": "0x180000000", "size": "4M"},
                      {"start": "0x20000000", "size": "2M"}]}
    s = from_dict(data)
    assert [h.start for h in s.holes] == [0x180000000, 0x20000000]


def test_typed_entries_take_any_byte_and_come_from_the_firmware() -> None:
    machine = {"memory": "4G", "below_4g": "2G"}
    data: dict[str, object] = {
        "name": "t", "machine": machine,
        "holes": [{"start": "0x30000f26", "size": "0x1234", "kind": "acpi"},
                  {"start": "0x20000000", "size": "2M"}]}
    s = from_dict(data)
    assert s.boot == "direct"
    assert [(h.start, h.end, h.kind) for h in s.firmware_entries] == [
        (0x30000f26, 0x3000215a, "acpi"), (0x20000000, 0x20200000, "gap")]
    assert s.grub_holes == ()
    grub = from_dict({**data, "machine": {**machine, "loader": "grub"}})
    # through GRUB, GRUB cuts the gap and the firmware makes only the typed entry
    assert [h.kind for h in grub.firmware_entries] == ["acpi"]
    assert [h.kind for h in grub.grub_holes] == ["gap"]
    assert from_dict(json.loads(json.dumps(data))).to_toml() == s.to_toml()


@pytest.mark.parametrize(("holes", "field", "why"), [
    ([{"start": "0x20000000", "size": "2M"}, {"start": "0x20100000", "size": "2M"}],
     "holes[1].start", "overlaps"),
    ([{"start": "0x90000000", "size": "2M"}], "holes[0].start", "not inside RAM"),
    ([{"start": "0x20000800", "size": "2M"}], "holes[0].start", "aligned"),
    ([{"start": "0x20000800", "size": "2M"}], "holes[0].start", "typed kinds take any byte"),
    ([{"start": "0x20000000", "size": "3M", "kind": "badram"}], "holes[0].kind", "power-of-two"),
    ([{"start": "0x20000000", "size": "2M", "kind": "bogus"}], "holes[0].kind", "one of"),
    ([{"start": "0x17ff00000", "size": "2M"}], "holes[0].start", "[0x100000000, 0x180000000)"),
    ([{"start": "0x20000000", "size": "2M", "kind": "badram"}], "holes[0].kind",
     "without RAM above 4 GiB"),
])
def test_bad_holes(holes: list[dict[str, str]], field: str, why: str) -> None:
    data = {"name": "t", "machine": {"memory": "4G", "below_4g": "2G"}, "holes": holes}
    with pytest.raises(ScenarioError) as err:
        from_dict(data)
    assert err.value.field == field
    assert why in str(err.value)


@pytest.mark.parametrize(("mtype", "memory", "below", "low"), [
    # QEMU 7.2's split, hw/i386/pc_piix.c and pc_q35.c
    ("pc", "4G", None, 3 << 30),  # above 3.5 GiB: gigabyte-aligned to 3 GiB
    ("pc", "3G", None, 3 << 30),
    ("pc", "4G", "2G", 2 << 30),
    ("pc", "8G", "0xbb000000", 0xBB000000),
    ("pc", "8G", "0xe0000000", 0xE0000000),  # on pc-i440fx-1.7 (no gigabyte alignment)
    ("pc", "16G", "0xcac00000", 0xCAC00000),
    ("pc", "3G", "0xe0000000", 3 << 30),  # no RAM above 4 GiB: today's pc
    ("q35", "4G", None, 2 << 30),
    ("q35", "2G", None, 2 << 30),
    ("q35", "8G", "0x40000000", 1 << 30),
])
def test_qemu_ram_split(mtype: str, memory: str, below: str | None, low: int) -> None:
    m: dict[str, Any] = {"type": mtype, "memory": memory}
    if below:
        m["below_4g"] = below
    s = from_dict({"name": "t", "machine": m})
    assert s.low_ram == low
    assert s.low_ram + s.high_ram == s.memory
    # the legacy machine only where today's would cut the split
    legacy = mtype == "pc" and below is not None and low > 3 << 30
    assert (s.qemu_machine == "pc-i440fx-1.7") == legacy, s.qemu_machine
    assert (s.qemu_machine_why is not None) == legacy


def test_unknown_preset_lists_the_known_ones() -> None:
    with pytest.raises(ScenarioError, match="pci-hole"):
        load("no-such-preset")


def test_uefi_rules() -> None:
    with pytest.raises(ScenarioError, match="cannot reach dom0"):
        from_dict({"name": "t", "machine": {"type": "q35", "firmware": "uefi"},
                   "holes": [{"start": "0x20000000", "size": "2M"}]})
    with pytest.raises(ScenarioError, match=r"needs machine\.type"):
        from_dict({"name": "t", "machine": {"type": "pc", "firmware": "uefi"}})
    assert load("q35-uefi").boot == "uefi"


@pytest.mark.parametrize("name", sorted(presets()))
def test_to_toml_loads_back_to_the_same_scenario(name: str, tmp_path: Path) -> None:
    s = load(name, {"xen.cmdline": 'a $b;c "d"', "dom0.cmdline": "x\\y"}) if name == "q35" \
        else load(name)
    path = tmp_path / "s.toml"
    path.write_text(s.to_toml())
    assert load(str(path)) == s


def test_any_description_round_trips(tmp_path: Path) -> None:
    """`rig replay` names a scenario's description after a log's file name, which may hold a
    newline or a control character: the file rig writes must load back (tomli-w escapes)."""
    from dataclasses import replace

    s = replace(load("pci-hole"), description='a\nb\x1b[0m\t"c"\\ d\x7f')
    path = tmp_path / "s.toml"
    path.write_text(s.to_toml())
    assert load(str(path)).description == s.description


def test_a_layout_q35_cannot_hold_has_no_pvh_form() -> None:
    # seed-8g keeps RAM to 0xbb000000; q35, the only machine with QEMU's IOMMUs, stops at 2 GiB
    with pytest.raises(ScenarioError) as err:
        load("seed-8g", {"dom0.mode": "pvh"})
    assert "cannot run as PVH" in str(err.value) and "0xbb000000" in str(err.value)
    with pytest.raises(ScenarioError) as err:
        load("pci-hole", {"dom0.mode": "pvh"})
    assert "cannot run as PVH" not in str(err.value)
    assert load("pci-hole", {"dom0.mode": "pvh", "machine.type": "q35"}).dom0_mode == "pvh"


def test_an_entry_over_seabios_tables_is_refused() -> None:
    from rig.model.firmware import firmware_problem

    machine = {"memory": "4G", "below_4g": "2G"}
    top = {"name": "t", "machine": machine,
           "holes": [{"start": "0x7fff0000", "size": "64K", "kind": "nvs"}]}
    problem = firmware_problem(from_dict(top))
    assert problem is not None and "holes[0].start = 0x7fff0000" in problem
    assert "where SeaBIOS keeps its tables" in problem
    below = {**top, "holes": [{"start": "0x7ff00000", "size": "64K", "kind": "nvs"}]}
    assert firmware_problem(from_dict(below)) is None


def test_more_entries_than_seabios_holds_are_refused() -> None:
    from rig.model.firmware import firmware_problem

    holes = [{"start": hex(0x10000000 + i * 0x200000), "size": "4K", "kind": "nvs"}
             for i in range(12)]
    data = {"name": "t", "machine": {"memory": "4G", "below_4g": "2G"}, "holes": holes}
    assert firmware_problem(from_dict(data)) is None  # SeaBIOS's 8 entries + 2 a hole: 32
    more = {**data, "holes": [*holes, {"start": "0x30000000", "size": "4K", "kind": "acpi"}]}
    problem = firmware_problem(from_dict(more))
    assert problem is not None and "SeaBIOS holds 32" in problem


def test_the_initrd_modules_padding() -> None:
    """dom0.initrd_pad lengthens the initrd module's command line by that many bytes (the
    Xen 989584e532 layout); a bad value names the field, and it needs a BIOS boot."""
    s = load("pci-hole", {"dom0.initrd_pad": "4200"})
    spec = machine_spec(s, BootFiles("/x/xen", "/x/vmlinuz", "/x/initrd.gz", "/x/qmp"),
                        accel="tcg")
    initrd = spec.modules.split(",")[-1]
    assert initrd.startswith("/x/initrd.gz rig.pad=x")
    assert len(initrd) == len("/x/initrd.gz") + 4200
    assert "initrd_pad = 4200" in s.to_toml()
    with pytest.raises(ScenarioError, match=r"dom0\.initrd_pad"):
        load("pci-hole", {"dom0.initrd_pad": "-1"})
    with pytest.raises(ScenarioError, match=r"dom0\.initrd_pad.*BIOS"):
        load("q35-uefi", {"dom0.initrd_pad": "100"})
    assert overrides_from(["dom0.initrd_pad=10"]) == {"dom0.initrd_pad": "10"}
