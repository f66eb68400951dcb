"""code.docstrings: only docstrings change; every other byte is identical."""

from __future__ import annotations

import ast
import difflib
import json
import subprocess
from pathlib import Path

import pytest

from dualtrack import InputFileError
from dualtrack.plugins.code import CodePlugin, DocstringsResult
from dualtrack.plugins.code._docstrings import (
    collect_targets,
    insert_docstrings,
    only_docstrings_changed,
    render,
)

SOURCE = (
    "# -*- coding: utf-8 -*-\r\n"
    "import os  # keep this comment\r\n"
    "\r\n"
    "\r\n"
    "def area(width, height=1):\r\n"
    "    # a leading comment stays put\r\n"
    "    return width * height\r\n"
    "\r\n"
    "\r\n"
    "class Shape:\r\n"
    "    '''Old.'''\r\n"
    "\r\n"
    "    def scale(self, factor):\r\n"
    '        """Scale it."""\r\n'
    "        return factor  ;  \r\n"
    "\r\n"
    "    def one(self): return 1\r\n"
    "\r\n"
    "    def _private(self):\r\n"
    "        return os.sep\r\n"
)


def docstring_spans(code: str) -> set[int]:
    """0-based line numbers covered by docstrings, found with ast (independent of libcst)."""
    spans: set[int] = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                if isinstance(first.value.value, str):
                    spans.update(range(first.lineno - 1, first.end_lineno or first.lineno))
    return spans


def strip_with_ast(code: str) -> str:
    tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                node.body = node.body[1:] or [ast.Pass()]
    return ast.dump(tree)


def assert_only_docstrings_changed(old: str, new: str) -> None:
    # 1. byte level: every changed line of the old file is a docstring line, and so is every new line
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    old_docs, new_docs = docstring_spans(old), docstring_spans(new)
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag != "equal":
            assert set(range(i1, i2)) <= old_docs, (tag, a[i1:i2])
            assert set(range(j1, j2)) <= new_docs, (tag, b[j1:j2])
    # 2. tree level: with docstrings removed the programs are the same
    assert strip_with_ast(old) == strip_with_ast(new)


REPLY = json.dumps(
    {
        "docstrings": [
            {"name": "<module>", "docstring": "Shapes and areas."},
            {
                "name": "area",
                "docstring": 'Area of a rectangle.\n\nArgs:\n    width: Width.\n    height: Height, "1" by default.\n\n'
                'Returns:\n    The area.\n\nNote: quotes """ and a backslash \\ are kept as text.',
            },
            {"name": "Shape", "docstring": '"""A shape."""'},
            {
                "name": "Shape.scale",
                "docstring": "Scale it.\n\nArgs:\n    factor: How much.\n\nReturns:\n    factor.",
            },
            {"name": "Shape.one", "docstring": "ignored: one-line body"},
            {"name": "os.system('rm -rf /')", "docstring": "not a target"},
        ]
    }
)


async def test_docstrings_change_nothing_else(tmp_path: Path, scripted, make_orchestrator) -> None:
    path = tmp_path / "shapes.py"
    path.write_bytes(SOURCE.encode())
    card, conn = scripted(REPLY)
    orc = make_orchestrator(CodePlugin, models=[card])
    result: DocstringsResult = (await orc.invoke("code.docstrings", path=str(path))).value
    assert path.read_bytes() == SOURCE.encode()  # not applied: the file is untouched
    assert result.applied is False
    assert sorted(result.added) == ["<module>", "area"]
    assert result.updated == ["Shape.scale"]  # Shape's docstring is complete, so it is left alone
    # the diff is a real patch: git applies it, and the outcome only differs in docstrings
    subprocess.run(["git", "apply", "-"], input=result.diff.encode(), cwd=tmp_path, check=True)
    new = path.read_bytes().decode()
    assert_only_docstrings_changed(SOURCE, new)
    assert only_docstrings_changed(SOURCE, new)
    tree = ast.parse(new)
    assert ast.get_docstring(tree) == "Shapes and areas."
    area = tree.body[2]
    assert isinstance(area, ast.FunctionDef)
    assert 'quotes """ and a backslash \\ are kept' in (ast.get_docstring(area) or "")
    assert "class Shape:\r\n    '''Old.'''\r\n" in new
    assert "\r\n    Args:\r\n" in new  # the file's CRLF line endings are used inside docstrings too
    conn.assert_complete()
    prompt = conn.calls[0].messages[-1].content
    assert "Shape._private" not in prompt and "Shape.one" not in prompt


async def test_apply_rewrites_the_file(tmp_path: Path, scripted, make_orchestrator) -> None:
    path = tmp_path / "shapes.py"
    path.write_bytes(SOURCE.encode())
    card, _ = scripted(REPLY)
    orc = make_orchestrator(CodePlugin, models=[card])
    result = (await orc.invoke("code.docstrings", path=str(path), apply=True)).value
    assert result.applied
    assert_only_docstrings_changed(SOURCE, path.read_bytes().decode())


def test_detects_a_change_outside_docstrings() -> None:
    new = insert_docstrings(SOURCE, {"area": render("Area.", "    ")})
    assert only_docstrings_changed(SOURCE, new)
    assert not only_docstrings_changed(SOURCE, new.replace("width * height", "width*height"))
    assert not only_docstrings_changed(SOURCE, new.replace("# a leading comment", "# changed"))


def test_targets_missing_and_incomplete_docstrings() -> None:
    targets = {t.name: t.problems for t in collect_targets(SOURCE.replace("\r\n", "\n"))}
    assert targets == {
        "<module>": ["missing docstring"],
        "area": ["missing docstring"],
        "Shape.scale": ["Args: factor", "Returns section"],
    }


def test_render_escapes_and_indents() -> None:
    literal = render('First line.\n\nSay """hi""" \\ end"', "        ")
    assert ast.literal_eval(literal) == 'First line.\n\n        Say """hi""" \\ end"\n        '


async def test_syntax_errors_are_reported_not_rewritten(tmp_path: Path, make_orchestrator) -> None:
    path = tmp_path / "bad.py"
    path.write_text("def f(:\n")
    orc = make_orchestrator(CodePlugin, models=[])
    with pytest.raises(InputFileError, match="not valid Python"):
        await orc.invoke("code.docstrings", path=str(path))
    assert path.read_text() == "def f(:\n"
