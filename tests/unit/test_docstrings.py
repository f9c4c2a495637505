"""Every public function in service/, workers/ and config/ has a docstring.

Public means no leading underscore: module-level functions and the methods of public
classes. Nested functions and private classes are not checked.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("service", "workers", "config")
# Being rewritten on other branches right now; the lead empties this list when they merge.
NOT_YET: tuple[str, ...] = ()
MIGRATIONS = "service/db/migrations/"

Function = ast.FunctionDef | ast.AsyncFunctionDef


def _public_functions(tree: ast.Module) -> Iterator[tuple[str, Function]]:
    for node in tree.body:
        if isinstance(node, Function) and not node.name.startswith("_"):
            yield node.name, node
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            for member in node.body:
                if isinstance(member, Function) and not member.name.startswith("_"):
                    yield f"{node.name}.{member.name}", member


def _sources(skip: tuple[str, ...]) -> Iterator[tuple[str, Path]]:
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            relative = path.relative_to(REPO).as_posix()
            if relative.startswith(MIGRATIONS) or relative.startswith(skip):
                continue
            yield relative, path


def undocumented(skip: tuple[str, ...] = NOT_YET) -> list[str]:
    """``path:line name`` of every public function without a docstring, in file order."""
    missing = []
    for relative, path in _sources(skip):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=relative)
        for name, node in _public_functions(tree):
            if ast.get_docstring(node) is None:
                missing.append(f"{relative}:{node.lineno} {name}")
    return missing


def test_every_public_function_has_a_docstring() -> None:
    missing = undocumented()
    assert missing == [], f"{len(missing)} public functions without a docstring:\n" + "\n".join(missing)


def test_the_check_finds_a_function_without_a_docstring() -> None:
    tree = ast.parse(
        "def shown(): pass\n"
        "def _hidden(): pass\n"
        "class Public:\n"
        "    def method(self): pass\n"
        "    def documented(self):\n"
        '        """Yes."""\n'
        "class _Private:\n"
        "    def method(self): pass\n"
    )
    found = [(name, ast.get_docstring(node)) for name, node in _public_functions(tree)]
    assert found == [("shown", None), ("Public.method", None), ("Public.documented", "Yes.")]
