"""The configuration found beside a kernel image the user gives (rig.domain.kconfig.beside):
the model reads the kernel's options from it, so a layout it misses costs the checks that
depend on them (issue 35: tuxmake's output folder)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rig.domain.kconfig import beside


@pytest.mark.parametrize(("image", "config"), [
    ("boot/vmlinuz-6.12.0-1-amd64", "boot/config-6.12.0-1-amd64"),  # Debian's /boot
    ("out/bzImage", "out/config"),  # tuxmake: bzImage, config, metadata.json
    ("linux/arch/x86/boot/bzImage", "linux/.config"),  # a build tree
    ("builds/abc.bzImage", "builds/abc.config"),  # rig's own builds
])
def test_the_config_beside_an_image_is_found(image: str, config: str, tmp_path: Path) -> None:
    (tmp_path / image).parent.mkdir(parents=True)
    (tmp_path / image).write_bytes(b"")
    assert beside(tmp_path / image) is None
    (tmp_path / config).write_text("CONFIG_XEN=y\n")
    assert beside(tmp_path / image) == tmp_path / config
