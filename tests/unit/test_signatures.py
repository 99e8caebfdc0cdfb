"""Signatures a newcomer can read: no function in rig/ takes more than seven parameters (what
belongs together is a named value object, as a BuildRecipe or a judged.BootEnd), and no
function fills a list, dict or set it was handed (it returns what it found, as
rig.judge.inputs' readers return a Found, and the caller combines). Both are read from the
source's syntax tree. A parameter counts as a list, dict or set by its annotation, so a method
call on another object (a Store's ``add``) is not a mutation here; filling it is calling one of
MUTATORS on it, assigning or deleting a subscript of it, or an augmented assignment (``+=``,
``|=``) to it."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

RIG = Path(__file__).resolve().parents[2] / "rig"

#: the most parameters a function takes (self and cls not counted)
MOST_PARAMETERS = 7
#: calls that change a list, dict or set in place
MUTATORS = frozenset({"append", "extend", "add", "update", "insert", "pop", "remove", "clear",
                      "setdefault", "discard"})
#: annotations that name a list, dict or set (builtin, typing's, collections', and the
#: mutable ABCs)
MUTABLE_TYPES = frozenset({"list", "dict", "set", "List", "Dict", "Set", "DefaultDict",
                           "defaultdict", "OrderedDict", "Counter", "MutableSequence",
                           "MutableMapping", "MutableSet"})

Function = ast.FunctionDef | ast.AsyncFunctionDef


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(RIG.rglob("*.py")):
        yield path.relative_to(RIG).as_posix(), ast.parse(path.read_text(), str(path))


def _functions(tree: ast.AST) -> Iterator[Function]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def _parameters(args: ast.arguments) -> list[ast.arg]:
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    every += [a for a in (args.vararg, args.kwarg) if a is not None]
    return every


def parameter_count(f: Function) -> int:
    """The parameters of ``f``, self or cls (its first, by name) not counted."""
    every = _parameters(f.args)
    first = (f.args.posonlyargs + f.args.args)[:1]
    return len(every) - sum(1 for a in first if a.arg in ("self", "cls"))


def too_many_parameters(path: str, tree: ast.AST) -> list[str]:
    return [f"rig/{path}:{f.lineno}: {f.name} takes {parameter_count(f)} parameters"
            for f in _functions(tree) if parameter_count(f) > MOST_PARAMETERS]


def _is_mutable(annotation: ast.expr | None) -> bool:
    """Whether an annotation names a list, dict or set (or one in a union)."""
    if annotation is None:
        return False
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        return _is_mutable(ast.parse(annotation.value, mode="eval").body)
    if isinstance(annotation, ast.BinOp):  # X | Y
        return _is_mutable(annotation.left) or _is_mutable(annotation.right)
    if isinstance(annotation, ast.Subscript):
        base = annotation.value
        if isinstance(base, ast.Name | ast.Attribute) and \
                (base.id if isinstance(base, ast.Name) else base.attr) in ("Optional", "Union"):
            inner = annotation.slice
            parts = inner.elts if isinstance(inner, ast.Tuple) else [inner]
            return any(_is_mutable(p) for p in parts)
        annotation = base
    if isinstance(annotation, ast.Name):
        return annotation.id in MUTABLE_TYPES
    if isinstance(annotation, ast.Attribute):
        return annotation.attr in MUTABLE_TYPES
    return False


def _scope(node: ast.AST, watched: frozenset[str]) -> Iterator[tuple[ast.AST, frozenset[str]]]:
    """The nodes under ``node``, each with the names of ``watched`` that still mean the
    parameters there: a nested function or lambda with a parameter of the same name hides
    it."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            inner = watched - {a.arg for a in _parameters(child.args)}
            if inner:
                yield from _scope(child, inner)
            continue
        yield child, watched
        yield from _scope(child, watched)


def _mutation(node: ast.AST, watched: frozenset[str]) -> tuple[str, str] | None:
    """(the parameter, how) when ``node`` changes one of ``watched`` in place."""
    def named(target: ast.expr) -> str | None:
        return target.id if isinstance(target, ast.Name) and target.id in watched else None

    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
            and node.func.attr in MUTATORS and (name := named(node.func.value)):
        return name, f".{node.func.attr}()"
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign | ast.Delete):
        targets = list(node.targets)
    elif isinstance(node, ast.AugAssign | ast.AnnAssign):
        targets = [node.target]
    for target in targets:
        if isinstance(target, ast.Subscript) and (name := named(target.value)):
            return name, "a subscript assigned" if not isinstance(node, ast.Delete) \
                else "a subscript deleted"
        if isinstance(node, ast.AugAssign) and (name := named(target)):
            return name, "an augmented assignment"
    return None


def mutated_parameters(path: str, tree: ast.AST) -> list[str]:
    """Where and how each function that changes a list, dict or set parameter in place does
    it."""
    found = []
    for f in _functions(tree):
        watched = frozenset(a.arg for a in _parameters(f.args) if _is_mutable(a.annotation))
        if not watched:
            continue
        for node, names in _scope(f, watched):
            hit = _mutation(node, names)
            if hit is not None:
                line = getattr(node, "lineno", f.lineno)
                found.append(f"rig/{path}:{line}: {f.name} changes its parameter {hit[0]} "
                             f"({hit[1]})")
    return found


def test_no_function_takes_more_than_seven_parameters() -> None:
    found = [problem for path, tree in _modules() for problem in too_many_parameters(path, tree)]
    assert not found, ("group what belongs together in a named frozen dataclass:\n"
                       + "\n".join(found))


def test_no_function_fills_a_list_dict_or_set_it_was_handed() -> None:
    found = [problem for path, tree in _modules() for problem in mutated_parameters(path, tree)]
    assert not found, ("return what the function found and let the caller combine:\n"
                       + "\n".join(found))


SAMPLE = '''
class Store:
    def add(self, key: str, value: int) -> None:
        self.items[key] = value

def fills(notes: list[str], seen: set[int] | None, table: "dict[str, int]", n: int) -> None:
    notes.append("a")
    table["k"] = 1
    if seen is not None:
        seen |= {n}

def reads(notes: list[str], store: Store) -> int:
    store.add("k", 1)
    copy = list(notes)
    copy.append("b")
    def inner(notes):  # a notes of its own, not annotated: not the parameter above
        notes.append("c")
    return len(copy)

def wide(a: int, b: int, c: int, d: int, e: int, f: int, g: int, *, h: int) -> None:
    pass

def seven(self, a: int, b: int, c: int, d: int, e: int, f: int, g: int) -> None:
    pass
'''


def test_the_walks_find_what_they_look_for() -> None:
    tree = ast.parse(SAMPLE)
    assert too_many_parameters("sample.py", tree) == [
        "rig/sample.py:20: wide takes 8 parameters"]
    assert mutated_parameters("sample.py", tree) == [
        "rig/sample.py:7: fills changes its parameter notes (.append())",
        "rig/sample.py:8: fills changes its parameter table (a subscript assigned)",
        "rig/sample.py:10: fills changes its parameter seen (an augmented assignment)"]
