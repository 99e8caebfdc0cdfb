"""The tests' own layout (DEVELOPERS.md, tests/): a test module holds tests, and what tests
share lives in a helper module named for what it holds (tests/corpus.py, tests/recorded.py,
tests/replayable.py, ...), never in a test module that other tests import as a library."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def module_of(path: Path) -> str:
    """The dotted name ``path`` imports as (tests/unit/x.py: tests.unit.x)."""
    parts = path.relative_to(TESTS.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_test_modules(source: str, module: str, is_package: bool = False) -> set[str]:
    """The ``tests.*.test_*`` modules the source of ``module`` imports, relative and
    function-level imports included."""
    package = module if is_package else module.rpartition(".")[0]
    names: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = importlib.util.resolve_name("." * node.level + base, package)
            names += [base, *(f"{base}.{alias.name}" for alias in node.names)]
    found = set()
    for name in names:
        parts = name.split(".")
        tests = [i for i, part in enumerate(parts) if part.startswith("test_")]
        if parts[0] == "tests" and tests:
            found.add(".".join(parts[:tests[0] + 1]))
    return found - {module}


def test_no_test_module_is_imported_by_another_module_of_the_tests() -> None:
    paths = sorted(p for p in TESTS.rglob("*.py") if "node_modules" not in p.parts)
    assert len(paths) > 50  # the scan reads what it must
    found = [f"{p.relative_to(TESTS.parent)} imports {imported}"
             for p in paths
             for imported in sorted(imported_test_modules(p.read_text(), module_of(p),
                                                          p.name == "__init__.py"))]
    assert not found, ("a test module is a library here: move what is shared into a helper "
                       "module beside tests/corpus.py named for it\n" + "\n".join(found))


def test_every_form_of_import_of_a_test_module_is_found() -> None:
    source = """
import tests.unit.test_a
import tests.live.test_b as b
from tests.unit.test_c import C
from tests.unit import test_d, helpers
from .test_e import e
from . import test_f
from ..live.test_g import g

def later() -> None:
    from tests.unit.test_h import h

import pytest
from rig.pytest_plugin import RigResult
from tests.corpus import load_case
from tests.unit.test_self import x
"""
    assert imported_test_modules(source, "tests.unit.test_self") == {
        "tests.unit.test_a", "tests.live.test_b", "tests.unit.test_c", "tests.unit.test_d",
        "tests.unit.test_e", "tests.unit.test_f", "tests.live.test_g", "tests.unit.test_h"}
    assert imported_test_modules("from .test_a import a\n", "tests.unit", is_package=True) == {
        "tests.unit.test_a"}
