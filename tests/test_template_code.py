"""The template's own code stays in small pieces: no class in tests/ or hooks/ over
MAX_CLASS_LINES lines, no function (method, nested function) over MAX_FUNCTION_LINES.

A long test becomes named steps in tests/support (so that it reads like a manual); a long
class becomes a few classes, each with one concern, composed by a small one.
"""

import ast

import pytest

from tests.support.options import REPO_ROOT

MAX_CLASS_LINES = 150
MAX_FUNCTION_LINES = 50
CHECKED = ("tests", "hooks")


def definitions(kinds):
    """(where, name, lines) of every definition of ``kinds`` in the checked folders."""
    for folder in CHECKED:
        for path in sorted((REPO_ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, kinds):
                    where = f"{path.relative_to(REPO_ROOT)}:{node.lineno}"
                    yield where, node.name, node.end_lineno - node.lineno + 1


def over(kinds, limit):
    return [
        f"{where} {name}: {lines} lines"
        for where, name, lines in definitions(kinds)
        if lines > limit
    ]


@pytest.mark.parametrize(
    ("kinds", "limit"),
    [
        pytest.param(ast.ClassDef, MAX_CLASS_LINES, id="classes"),
        pytest.param((ast.FunctionDef, ast.AsyncFunctionDef), MAX_FUNCTION_LINES, id="functions"),
    ],
)
def test_no_class_or_function_is_over_its_size_limit(kinds, limit):
    offenders = over(kinds, limit)
    assert not offenders, f"over {limit} lines:\n" + "\n".join(offenders)
