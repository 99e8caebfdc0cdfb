"""DEVELOPERS.md's map, enforced: the layers import only downward (import-linter's contracts in
pyproject.toml, function-level imports included), no module is part of an import circle, and
rig/ keeps its few plain modules beside the layer packages."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import grimp

RIG = Path(__file__).resolve().parents[2] / "rig"
#: modules beside the layer packages (DEVELOPERS.md says what each is for)
PLAIN = {"__init__.py", "errors.py", "files.py", "progress.py", "pytest_plugin.py",
         "resources.py"}


def test_the_layer_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(lint)], capture_output=True, text=True, cwd=RIG.parent)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


def test_no_module_is_in_an_import_circle() -> None:
    """Module by module, function-level imports counted: nothing a module imports leads back
    to it (a package's __init__ included)."""
    graph = grimp.build_graph("rig", cache_dir=None)
    circles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            if graph.chain_exists(importer=imported, imported=module):
                circles.append(graph.find_shortest_chain(importer=imported, imported=module))
    assert not circles, circles


def test_rig_is_its_packages_and_a_few_plain_modules() -> None:
    plain = {p.name for p in RIG.glob("*.py")}
    assert plain <= PLAIN, f"new plain modules {sorted(plain - PLAIN)}: give each its layer"
    packages = {p.name for p in RIG.iterdir() if (p / "__init__.py").is_file()}
    assert packages == {"cli", "domain", "judge", "layouts", "machine", "model", "output",
                        "parse", "runner"}


def test_the_result_stays_typed() -> None:
    """Untyped mappings are the external formats' (TOML, YAML, LAVA's records, the JSON that
    to_builtins gives), each under an alias that says so; the result is typed."""
    count = sum(len(re.findall(r"dict\[str, Any\]", p.read_text()))
                for p in RIG.rglob("*.py"))
    assert count <= 8, count
