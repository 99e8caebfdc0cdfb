"""`rig kernel build`'s options as tuxmake and virtme-ng users give them: --kconfig-add
(inline CONFIG_X=y or a fragment file), make variables after ``--``, each part of the build's
recipe (another value, another build folder), and bad values named (exit 2). No kernel is
built here: the recipe is what decides which build folder, hence which image, is used."""

from __future__ import annotations

from pathlib import Path

import pytest

from rig.cli import main
from rig.errors import UsageError
from rig.machine.build import BuildRecipe, kconfig_adds


def test_kconfig_add_takes_inline_options_and_fragment_files(tmp_path: Path) -> None:
    frag = tmp_path / "extra.config"
    frag.write_text("CONFIG_XEN_PVH=y\n")
    files, options = kconfig_adds(["CONFIG_NUMA=y", str(frag), "CONFIG_NODES_SHIFT=6"])
    assert (files, options) == ([frag], ["CONFIG_NUMA=y", "CONFIG_NODES_SHIFT=6"])
    with pytest.raises(UsageError, match="--kconfig-add 'NUMA=y'"):
        kconfig_adds(["NUMA=y"])


def test_options_and_make_variables_are_part_of_the_recipe(tmp_path: Path) -> None:
    src = tmp_path
    plain = BuildRecipe().key(src)
    assert BuildRecipe(options=("CONFIG_NUMA=y",)).key(src) != plain
    assert BuildRecipe(make_vars=("LLVM=1",)).key(src) != plain
    # none given: the recipe of before (cached builds stay valid)
    assert BuildRecipe().key(src) == plain
    with pytest.raises(UsageError, match="make variable 'LLVM'"):
        BuildRecipe(make_vars=("LLVM",)).key(src)


def test_the_cli_passes_make_variables_after_the_double_dash(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from rig.machine import build as build_mod

    seen: dict[str, object] = {}

    def fake_build(src: Path, recipe: build_mod.BuildRecipe, **kw: object) -> build_mod.Built:
        seen.update(kw, src=src, recipe=recipe)
        return build_mod.Built(tmp_path / "bzImage", "s", True, 0.0, None)

    monkeypatch.setattr(build_mod, "build", fake_build)
    assert main(["kernel", "build", str(tmp_path), "--kconfig-add", "CONFIG_NUMA=y", "--",
                 "LLVM=1", "KCFLAGS=-O1"]) == 0
    recipe = seen["recipe"]
    assert isinstance(recipe, build_mod.BuildRecipe)
    assert recipe.options == ("CONFIG_NUMA=y",) and recipe.make_vars == ("LLVM=1", "KCFLAGS=-O1")
    assert "reused" in capsys.readouterr().out
