"""A PVH dom0's map and counts from Xen's and Linux's source (rig.model.pvh), against the numbers of
real boots (tests/logs/rig-q35-pvh-*) and by hand."""

from __future__ import annotations

import pytest

from rig.domain.e820 import E820Entry, E820Type
from rig.domain.pages import whole_ram_pages
from rig.domain.scenario import ScenarioError
from rig.domain.scenario_file import from_dict
from rig.judge.check import CheckName
from rig.machine import render
from rig.model import pvh
from rig.parse.xen import populated_pages

RAM, RES, UNUSABLE, ACPI = E820Type.RAM, E820Type.RESERVED, E820Type.UNUSABLE, E820Type.ACPI
# q35, 4 GiB, as Xen printed it (Xen-e820) on rig's PVH boot
HOST = [E820Entry(0, 0x9FC00, RAM), E820Entry(0x9FC00, 0xA0000, RES),
        E820Entry(0xF0000, 0x100000, RES), E820Entry(0x100000, 0x7FFE0000, RAM),
        E820Entry(0x7FFE0000, 0x80000000, RES), E820Entry(0xB0000000, 0xC0000000, RES),
        E820Entry(0x100000000, 0x180000000, RAM)]


def test_pvh_setup_e820_as_xen_built_it() -> None:
    built = pvh.dom0_map(HOST, 786432)
    ram = [(e.start, e.end) for e in built if e.is_ram]
    # RAM aligned inwards (0x9fc00 → 0x9f000), counted in order, cut at nr_pages
    assert ram == [(0, 0x9F000), (0x100000, 0x7FFE0000), (0x100000000, 0x140081000)]
    assert E820Entry(0x140081000, 0x180000000, UNUSABLE) in built
    assert whole_ram_pages(built) == 786432
    # a dom0 that fits below 4 GiB: every later RAM entry is unusable
    small = pvh.dom0_map(HOST, 262144)
    assert [e.type for e in small if e.start >= 0x100000000] == [UNUSABLE]
    assert whole_ram_pages(small) == 262144


def test_the_acpi_bytes_cost_linux_one_page_and_the_shared_info_xen_one() -> None:
    built = pvh.dom0_map(HOST, 786432)
    printed = pvh.with_steal(built, 218)
    assert E820Entry(0x7FFDFF26, 0x7FFE0000, ACPI) in printed
    assert pvh.acpi_steal(printed, built) == 218
    assert populated_pages(printed) == 786432  # Xen still populated the page
    p = pvh.predict(HOST, 786432, 218)
    assert p.xen_pages == 786431  # Linux's shared info displaced a RAM page
    assert p.own_pages == 786432 - 1 - 1  # the ACPI page and page 0
    assert p.balloon_pages == (786431, 786430)
    # Xen 4.17.7 left 96 of the bytes without an entry: the same RAM, the same answer
    gap = [e for e in printed if e.type is not ACPI] + [E820Entry(0x7FFDFF26, 0x7FFDFFA0, ACPI)]
    assert pvh.acpi_steal(sorted(gap), built) == 218
    # nothing taken (a map Xen did not build this way): no answer rather than a guess
    assert pvh.acpi_steal(built, built) is None


def test_a_pvh_scenario_gets_its_machine_and_says_why() -> None:
    s = from_dict({"name": "t", "machine": {"type": "q35", "memory": "4G"},
                   "xen": {"version": "4.20", "dom0_mem": "3G,max:3G"},
                   "dom0": {"kernel": "6.12", "mode": "pvh"}})
    spec = render.machine_spec(s, render.BootFiles("/x", "/k", "/i", "/q"), accel="tcg")
    args = render.qemu_args(spec)
    assert args[args.index("-device") + 1] == "intel-iommu,intremap=on"
    assert spec.cpu == "max,-smap,-rdtscp"
    assert render.xen_cmdline(s).endswith("dom0_mem=3G,max:3G dom0=pvh,verbose")
    reasons = " ".join(render.machine_reasons(s, spec))
    assert "iommu must be enabled" in reasons and "RDTSCP" in reasons
    assert "mode = \"pvh\"" in s.to_toml()


@pytest.mark.parametrize("machine", [{"type": "pc"}, {"type": "q35", "firmware": "uefi"}])
def test_pvh_needs_q35_and_seabios(machine: dict[str, str]) -> None:
    with pytest.raises(ScenarioError, match="IOMMU"):
        from_dict({"name": "t", "machine": machine, "dom0": {"mode": "pvh"}})
    with pytest.raises(ScenarioError, match=r"dom0\.mode"):
        from_dict({"name": "t", "dom0": {"mode": "hvm"}})


def test_linux_map_must_be_the_one_xen_gave() -> None:
    """rig's PVH boot passes; the same log with Linux's map missing RAM Xen gave, or holding
    RAM Xen did not give (outside Xen's UNUSABLE), fails linux_map and says which."""
    import io
    from pathlib import Path

    from rig.judge.judge import judge
    from rig.parse.collect import parse_lines

    body = (Path(__file__).parents[1] / "logs" / "rig-q35-pvh-4.20-6.12.log").read_text()
    body = body.partition("\n\n")[2]

    def linux_map(edit: object) -> tuple[str, str]:
        log = parse_lines(io.StringIO(body, newline="\n"))
        log.linux.e820 = edit(log.linux.e820)  # type: ignore[operator]
        check = next(c for c in judge(log).checks if c.name == CheckName.LINUX_MAP)
        return check.status.label, check.message

    assert linux_map(lambda m: m)[0] == "pass"
    status, message = linux_map(lambda m: [e for e in m if e.start != 0x100000])
    assert status == "fail" and "RAM Xen gave, missing: " in message
    assert "did not give" not in message
    status, message = linux_map(lambda m: [*m, E820Entry(0x4000000000, 0x4000100000, RAM)])
    assert status == "fail" and "RAM Xen did not give: " in message
    assert "missing" not in message


RAM, UNUSABLE, RES = E820Type.RAM, E820Type.UNUSABLE, E820Type.RESERVED


def test_an_unusable_entry_inside_one_page_wraps_the_extra_memory() -> None:
    """rig's seventh finding, its first face (the 12-07 PVH campaign's scenario 36): the page
    count of an UNUSABLE entry inside one page wraps."""
    inside = E820Entry(0xE48F662, 0xE48FE63, UNUSABLE)
    dom0 = [E820Entry(0x100000, 0xE48F000, RAM), inside,
            E820Entry(0xE490000, 0x20000000, RAM), E820Entry(0x20000000, 0x40000000, UNUSABLE)]
    assert pvh.extra_memory(dom0).wrapped == inside
    # one that holds no whole page but ends on one: nothing to give, no wrap
    assert pvh.extra_memory([*dom0[:1], E820Entry(0xE48F662, 0xE490000, UNUSABLE),
                             *dom0[2:]]).wrapped is None


def test_a_partial_page_between_converted_entries_is_free_and_never_populated() -> None:
    """The second face (scenario 204): a host UNUSABLE entry that ends mid-page, where the
    RAM Xen leaves UNUSABLE above nr_pages begins; their shared page is neither populated
    nor reserved once both are RAM."""
    dom0 = [E820Entry(0x100000, 0x40000000, RAM),
            E820Entry(0x40000000, 0x80000000, UNUSABLE),
            E820Entry(0x80000000, 0x80000BEA, RES),
            E820Entry(0x80000BEA, 0x80003AA1, UNUSABLE),
            E820Entry(0x80003AA1, 0xC0000000, UNUSABLE)]
    em = pvh.extra_memory(dom0)
    assert em.wrapped is None and em.unpopulated_free == (0x80003,)
    # the reserved entry keeps its page apart: the page it shares is not free RAM
    assert 0x80000 not in em.unpopulated_free
    # entries on pages give whole pages only: nothing free
    assert not pvh.extra_memory([dom0[0], E820Entry(0x40000000, 0x80000000, UNUSABLE)]).faulty


def test_the_extra_memory_stops_at_ten_times_the_ram() -> None:
    """Entries past EXTRA_MEM_RATIO times dom0's RAM are left UNUSABLE: one inside a page
    there wraps nothing."""
    dom0 = [E820Entry(0x100000, 0x200000, RAM),  # 256 pages: 2560 of extra memory
            E820Entry(0x1000000, 0x2000000, UNUSABLE),  # 4096 pages: takes them all
            E820Entry(0x3000100, 0x3000200, UNUSABLE)]
    assert pvh.extra_memory(dom0).wrapped is None


def test_a_kernel_without_unpopulated_alloc_gives_back_its_grant_window() -> None:
    """rig's minimal PVH builds (no CONFIG_XEN_UNPOPULATED_ALLOC) end 64 pages below Debian's:
    the grant table's window at its largest, Xen's gnttab_max_frames= (64 by default)."""
    assert pvh.grant_window(False) == 0
    assert pvh.grant_window(True) == pvh.GRANT_FRAMES == 64
    assert pvh.grant_window(True, "console=com1 gnttab_max_frames=128 noreboot") == 128
    host = [E820Entry(0, 0x9F000, RAM), E820Entry(0x100000, 0x80000000, RAM)]
    assert pvh.predict(host, 262144, window=64).xen_pages == 262144 - 1 - 64
