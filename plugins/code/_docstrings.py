"""Google-style docstrings: find what is missing, insert with libcst, prove nothing else changed.

libcst keeps every byte of a file it did not touch (comments, blank lines,
quotes, line endings). :func:`only_docstrings_changed` strips the docstrings
from the old and the new file and compares the rest byte for byte.
"""

from __future__ import annotations

import ast
import inspect
import re
from dataclasses import dataclass, field

import libcst as cst

__all__ = ["MODULE", "DocTarget", "collect_targets", "insert_docstrings", "only_docstrings_changed", "render"]

MODULE = "<module>"
_SECTION = re.compile(r"^\s*(Args|Arguments|Returns|Yields|Raises|Attributes|Example|Examples|Note)s?:\s*$")


@dataclass(slots=True)
class DocTarget:
    """A module, class or function whose docstring is missing or incomplete.

    Attributes:
        name: Qualified name, or ``<module>``.
        kind: ``module``, ``class`` or ``function``.
        signature: The header line(s) of the definition.
        indent: The indentation of the body (for multi-line docstrings).
        current: The current docstring, if any.
        problems: What is missing (``missing docstring``, ``Args: x`` ...).
    """

    name: str
    kind: str
    signature: str
    indent: str
    current: str | None
    problems: list[str] = field(default_factory=list)


def _params(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    a = node.args
    names = [p.arg for p in [*a.posonlyargs, *a.args, *a.kwonlyargs]]
    names += [f"*{a.vararg.arg}"] if a.vararg else []
    names += [f"**{a.kwarg.arg}"] if a.kwarg else []
    return [n for n in names if n not in ("self", "cls")]


def _returns_value(node: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[bool, bool]:
    returns = yields = False
    stack: list[ast.AST] = list(node.body)
    while stack:
        n = stack.pop()
        if isinstance(n, ast.Return) and n.value is not None:
            if not (isinstance(n.value, ast.Constant) and n.value.value is None):
                returns = True
        elif isinstance(n, ast.Yield | ast.YieldFrom):
            yields = True
        if not isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            stack.extend(ast.iter_child_nodes(n))
    return returns, yields


def google_problems(doc: str | None, node: ast.AST) -> list[str]:
    """What a Google-style docstring for ``node`` lacks (empty when it is complete)."""
    if not doc or not doc.strip():
        return ["missing docstring"]
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return []
    sections = {m.group(1) for line in doc.splitlines() if (m := _SECTION.match(line))}
    problems = []
    for p in _params(node):
        bare = p.lstrip("*")
        if not re.search(rf"^\s*\**{re.escape(bare)}\s*(\(.*\))?\s*:", doc, re.M):
            problems.append(f"Args: {p}")
    returns, yields = _returns_value(node)
    if yields and "Yields" not in sections:
        problems.append("Yields section")
    elif returns and not yields and "Returns" not in sections and not doc.lstrip().startswith("Return"):
        problems.append("Returns section")
    return problems


def collect_targets(
    source: str, *, include_private: bool = False, names: list[str] | None = None
) -> list[DocTarget]:
    """Definitions whose docstring is missing or incomplete (or every one in ``names``).

    Functions nested inside functions and one-line bodies (``def f(): ...``) are skipped.
    """
    tree = ast.parse(source)
    lines = source.splitlines()
    out: list[DocTarget] = []
    if tree.body and (names is None or MODULE in names):
        doc = ast.get_docstring(tree, clean=False)
        if names is not None or not doc:
            out.append(DocTarget(MODULE, "module", "", "", doc, ["missing docstring"] if not doc else []))

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue
            qual = prefix + node.name
            private = node.name.startswith("_")
            wanted = qual in names if names is not None else (include_private or not private)
            first = node.body[0]
            one_line = lines[first.lineno - 1][: first.col_offset].strip() != ""
            if wanted and not one_line:
                doc = ast.get_docstring(node, clean=True)
                problems = google_problems(doc, node)
                if problems or names is not None:
                    head = lines[node.lineno - 1 : first.lineno - 1]
                    header = "\n".join(h for h in head if not h.strip().startswith("#")).strip()
                    indent = re.match(r"[ \t]*", lines[first.lineno - 1]).group(0)  # type: ignore[union-attr]
                    kind = "class" if isinstance(node, ast.ClassDef) else "function"
                    out.append(DocTarget(qual, kind, header, indent, doc, problems))
            if isinstance(node, ast.ClassDef):
                visit(node.body, qual + ".")

    visit(tree.body, "")
    return out


def render(text: str, indent: str, newline: str = "\n") -> str:
    """A docstring literal (``\"\"\"...\"\"\"``) for ``text``, indented for its body.

    Raises:
        ValueError: When the text is empty.
    """
    text = text.strip()
    for q in ('"""', "'''"):
        if text.startswith(q) and text.endswith(q) and len(text) >= 6:
            text = text[3:-3]
    text = inspect.cleandoc(text)
    if not text:
        raise ValueError("empty docstring")
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    if text.endswith('"'):
        text = text[:-1] + '\\"'
    lines = [line.rstrip() for line in text.split("\n")]
    if len(lines) == 1:
        literal = f'"""{lines[0]}"""'
    else:
        rest = newline.join(indent + line if line else "" for line in lines[1:])
        literal = f'"""{lines[0]}{newline}{rest}{newline}{indent}"""'
    if not isinstance(ast.literal_eval(literal), str):  # pragma: no cover - defensive
        raise ValueError("not a string literal")
    return literal


def _is_doc(stmt: cst.BaseStatement) -> bool:
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
        return False
    expr = stmt.body[0]
    if not isinstance(expr, cst.Expr):
        return False
    value = expr.value
    if isinstance(value, cst.SimpleString):
        return "b" not in value.prefix.lower()
    return isinstance(value, cst.ConcatenatedString)


def _with_doc(body: list[cst.BaseStatement], literal: str) -> list[cst.BaseStatement]:
    new = cst.Expr(cst.SimpleString(literal))
    if body and _is_doc(body[0]):
        first = body[0]
        assert isinstance(first, cst.SimpleStatementLine)
        return [first.with_changes(body=[new]), *body[1:]]
    return [cst.SimpleStatementLine(body=[new]), *body]


class _Docs(cst.CSTTransformer):
    """Insert (``literals`` given) or strip (``None``) docstrings."""

    def __init__(self, literals: dict[str, str] | None) -> None:
        self.literals = literals
        self.stack: list[str] = []

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.stack.append(node.name.value)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.stack.append(node.name.value)

    def _change(self, body: list[cst.BaseStatement], name: str) -> list[cst.BaseStatement]:
        if self.literals is None:
            return body[1:] if body and _is_doc(body[0]) else body
        return _with_doc(body, self.literals[name]) if name in self.literals else body

    def _leave_def(self, updated: cst.ClassDef | cst.FunctionDef) -> cst.ClassDef | cst.FunctionDef:
        name = ".".join(self.stack)
        self.stack.pop()
        if not isinstance(updated.body, cst.IndentedBlock):
            return updated
        return updated.with_changes(
            body=updated.body.with_changes(body=self._change(list(updated.body.body), name))
        )

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        return self._leave_def(updated)  # type: ignore[return-value]

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        return self._leave_def(updated)  # type: ignore[return-value]

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        return updated.with_changes(body=self._change(list(updated.body), MODULE))


def insert_docstrings(source: str, literals: dict[str, str]) -> str:
    """Put each rendered docstring literal on its definition (replacing an old one)."""
    module = cst.parse_module(source)
    return module.visit(_Docs(literals)).code


def strip_docstrings(source: str) -> str:
    """The source with every module, class and function docstring removed."""
    return cst.parse_module(source).visit(_Docs(None)).code


def only_docstrings_changed(old: str, new: str) -> bool:
    """Whether ``new`` differs from ``old`` in docstrings only (byte-identical elsewhere)."""
    try:
        ast.parse(new)
        return strip_docstrings(old) == strip_docstrings(new)
    except (SyntaxError, cst.ParserSyntaxError):
        return False
