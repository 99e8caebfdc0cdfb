"""Golden files for every rendered template (regenerate with ``pytest --regen``)."""

from __future__ import annotations

from pathlib import Path, PurePath

import pytest

from rig.domain.scenario_file import from_dict, load
from rig.machine import render
from rig.machine.render import grub_cfg
from tests.conftest import GOLDEN, TESTS

CASES: dict[str, tuple[str, dict[str, str]]] = {
    "pci-hole": ("pci-hole", {}),
    "pci-hole-dom0-3g": ("pci-hole", {"xen.dom0_mem": "3G,max:3G", "dom0.cmdline": "foo=a,b"}),
    "seed-8g": ("seed-8g", {}),
    "seed-8g-grub": ("seed-8g", {"machine.loader": "grub"}),
    "typed-entries": (str(TESTS / "live" / "scenarios" / "typed-entries.toml"), {}),
    "many-holes": ("many-holes", {}),
    "large-64g": ("large-64g", {}),
    "q35": ("q35", {}),
    "q35-uefi": ("q35-uefi", {}),
}


def rendered(name: str) -> dict[str, str]:
    preset, overrides = CASES[name]
    s = load(preset, overrides)
    uefi = render.UefiFiles("/RUN/esp", "/OVMF/CODE.fd", "/RUN/VARS.fd") \
        if s.boot == "uefi" else None
    spec = render.machine_spec(s, render.BootFiles.in_folder(s, PurePath("/RUN"), uefi),
                               accel="tcg")
    out = {f"{name}.qemu.args": "\n".join(render.qemu_args(spec)) + "\n"}
    if s.firmware_entries:
        # the fw_cfg file, 20 bytes an entry, one entry a line
        raw = render.e820_entries(s)
        out[f"{name}.rig-e820.hex"] = "".join(raw[i:i + 20].hex() + "\n"
                                              for i in range(0, len(raw), 20))
    if s.boot == "grub":
        out[f"{name}.grub.cfg"] = render.grub_cfg(s)
    if s.boot == "uefi":
        out[f"{name}.BOOTX64.cfg"] = render.xen_efi_cfg(s)
    if name == "pci-hole":
        out["init.sh"] = render.init_script()
    return out


@pytest.mark.parametrize("name", list(CASES))
def test_golden(name: str, regen: bool) -> None:
    for fname, text in rendered(name).items():
        path = GOLDEN / fname
        if regen:
            path.parent.mkdir(exist_ok=True)
            path.write_text(text)
        assert path.read_text() == text, f"{fname} differs; rerun with --regen if intended"


def test_commas_in_module_lines_are_doubled() -> None:
    args = rendered("pci-hole-dom0-3g")["pci-hole-dom0-3g.qemu.args"].splitlines()
    modules = args[args.index("-initrd") + 1]
    assert modules == "/RUN/vmlinuz console=hvc0 earlyprintk=xen loglevel=8 ignore_loglevel " \
                      "foo=a,,b,/RUN/initrd.gz"
    append = args[args.index("-append") + 1]
    assert append.endswith("dom0_mem=3G,max:3G")  # -append is not split on commas


def test_grub_cfg_cuts_above_4g_in_kib() -> None:
    s = from_dict({"name": "t", "machine": {"memory": "8G", "below_4g": "2G", "loader": "grub"},
                   "holes": [{"start": "0x180000000", "size": "4M"}]})
    cfg = grub_cfg(s)
    # docs/facts.md: the measured form that made Xen print [0x100000000, 0x17fffffff] usable
    assert "  cutmem 6291456K 6295552K\n" in cfg


def test_grub_cfg_punches_every_hole() -> None:
    cfg = rendered("many-holes")["many-holes.grub.cfg"]
    commands = [ln.strip() for ln in cfg.splitlines() if not ln.strip().startswith("echo")]
    assert sum(c.startswith("cutmem ") for c in commands) == 24
    assert sum(c.startswith("badram ") for c in commands) == 8
    # each command is announced, so that a GRUB error names it
    assert 'echo "RIG: grub cutmem 262144K 263168K"' in cfg
    # in KiB (32-bit GRUB overflows on byte addresses past 4 GiB); end exclusive: a 1 MiB hole
    assert "cutmem 262144K 263168K" in cfg
    assert "badram 0x50000000,0xfff00000" in cfg  # 32-bit mask of a 1 MiB block
    assert cfg.index("cutmem") < cfg.index("multiboot /xen")
    assert "multiboot2" not in cfg  # GRUB would place a relocatable Xen into a cut hole


def test_rerun_command_has_no_qmp() -> None:
    argv = ["qemu", "-qmp", "unix:/x", "-m", "4G"]
    assert render.without_qmp(argv) == ["qemu", "-m", "4G"]


def test_paths_with_spaces_are_refused() -> None:
    s = load("pci-hole")
    with pytest.raises(Exception, match="white space"):
        render.machine_spec(s, render.BootFiles("/x", "/a b/vmlinuz", "/i", "/q"), accel="tcg")


def test_templates_compiled_once_render_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                 ) -> None:
    """The compiled templates kept in rig's cache give what compiling them gives; a cache that
    cannot be written (a file in its way) only means compiling them again."""
    outputs = []
    for cache in (tmp_path / "cache", tmp_path / "cache", tmp_path / "file" / "cache"):
        (tmp_path / "file").touch()
        monkeypatch.setenv("RIG_CACHE", str(cache))
        render._env.cache_clear()
        try:
            outputs.append(rendered("seed-8g"))
        finally:
            render._env.cache_clear()
        kept = list((tmp_path / "cache" / "templates").iterdir())
        assert kept and all(p.stat().st_size for p in kept)
    assert outputs[0] == outputs[1] == outputs[2]
