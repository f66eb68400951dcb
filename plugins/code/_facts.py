"""Facts about Python code established without a model, from Python's own ``ast``."""

from __future__ import annotations

import ast
import difflib
from collections.abc import Iterable, Iterator, Sequence

from dualtrack import ArgumentError

from ._models import CodeFacts, Definition

__all__ = ["complexity", "dotted", "find_symbol", "module_facts", "parse", "range_facts", "symbol_facts"]

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_BRANCHES = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.IfExp, ast.ExceptHandler, ast.Assert)


def dotted(node: ast.AST) -> str:
    """``a.b.c`` for a name/attribute chain; ``<expr>.name`` for anything else."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    elif isinstance(node, ast.Call):
        parts.append(dotted(node.func) + "()")
    else:
        parts.append("<expr>")
    return ".".join(reversed(parts))


def _walk_local(nodes: Iterable[ast.AST]) -> Iterator[ast.AST]:
    """Walk ``nodes`` without entering nested functions and classes."""
    stack = list(nodes)[::-1]
    while stack:  # depth-first, in source order
        node = stack.pop()
        yield node
        children = [c for c in ast.iter_child_nodes(node) if not isinstance(c, (*_DEFS, ast.Lambda))]
        stack.extend(reversed(children))


def complexity(nodes: Iterable[ast.AST]) -> int:
    """Cyclomatic complexity: 1 plus each branch, loop, handler, boolean operator and case."""
    score = 1
    for node in _walk_local(nodes):
        if isinstance(node, _BRANCHES):
            score += 1
        elif isinstance(node, ast.BoolOp):
            score += len(node.values) - 1
        elif isinstance(node, ast.comprehension):
            score += 1 + len(node.ifs)
        elif isinstance(node, ast.match_case):
            score += 1
    return score


def _behaviour(nodes: Sequence[ast.AST]) -> tuple[list[str], list[str], list[str], set[str]]:
    calls: dict[str, None] = {}
    raises: dict[str, None] = {}
    catches: dict[str, None] = {}
    names: set[str] = set()
    raised = {id(n.exc) for n in _walk_local(nodes) if isinstance(n, ast.Raise) and n.exc is not None}
    for node in _walk_local(nodes):
        if isinstance(node, ast.Call) and id(node) not in raised:
            calls[dotted(node.func)] = None
        elif isinstance(node, ast.Raise):
            exc = node.exc
            if exc is None:
                raises["re-raise"] = None
            else:
                raises[dotted(exc.func if isinstance(exc, ast.Call) else exc)] = None
        elif isinstance(node, ast.ExceptHandler) and node.type is not None:
            types = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
            for t in types:
                catches[dotted(t)] = None
        elif isinstance(node, ast.Name):
            names.add(node.id)
    return sorted(calls), list(raises), list(catches), names


def _imports(tree: ast.Module) -> tuple[list[str], dict[str, str]]:
    modules: dict[str, None] = {}
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                modules[a.name] = None
                aliases[a.asname or a.name.split(".")[0]] = a.name
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            for a in node.names:
                full = f"{base}.{a.name}" if base and not base.endswith(".") else base + a.name
                modules[full] = None
                aliases[a.asname or a.name] = full
    return list(modules), aliases


def _definitions(tree: ast.Module) -> list[Definition]:
    found: list[Definition] = []

    def visit(body: list[ast.stmt], prefix: str, in_class: bool) -> None:
        for node in body:
            if isinstance(node, _DEFS):
                name = prefix + node.name
                if isinstance(node, ast.ClassDef):
                    kind = "class"
                elif in_class:
                    kind = "method"
                else:
                    kind = "async function" if isinstance(node, ast.AsyncFunctionDef) else "function"
                found.append(
                    Definition(
                        name=name,
                        kind=kind,
                        line_start=_first_line(node),
                        line_end=node.end_lineno or node.lineno,
                    )
                )
                visit(node.body, name + ".", isinstance(node, ast.ClassDef))

    visit(tree.body, "", False)
    return found


def _first_line(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> int:
    return min([node.lineno, *(d.lineno for d in node.decorator_list)])


def parse(source: str, filename: str = "<code>") -> ast.Module:
    """Parse Python source, raising ``SyntaxError`` as Python would."""
    return ast.parse(source, filename=filename)


def module_facts(source: str) -> CodeFacts:
    """Facts about a whole Python file (a syntax error is reported, not raised)."""
    lines = max(1, len(source.splitlines()))
    try:
        tree = parse(source)
    except SyntaxError as exc:
        return CodeFacts(
            language="python", kind="module", line_end=lines, syntax_error=f"line {exc.lineno}: {exc.msg}"
        )
    imports, _ = _imports(tree)
    calls, raises, catches, _ = _behaviour(tree.body)
    doc = ast.get_docstring(tree)
    return CodeFacts(
        language="python",
        kind="module",
        line_start=1,
        line_end=lines,
        docstring=doc.strip().splitlines()[0] if doc else None,
        definitions=_definitions(tree),
        imports=imports,
        calls=calls,
        raises=raises,
        catches=catches,
        complexity=complexity(tree.body),
    )


def find_symbol(tree: ast.Module, qualname: str) -> ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef:
    """Find ``Class.method`` / ``outer.inner`` / ``name`` in a module.

    Raises:
        ArgumentError: Naming close matches when it is not found.
    """
    body: list[ast.stmt] = tree.body
    node: ast.AST | None = None
    for part in qualname.split("."):
        node = next((n for n in body if isinstance(n, _DEFS) and n.name == part), None)
        if node is None:
            break
        body = node.body  # type: ignore[attr-defined]
    if isinstance(node, _DEFS):
        return node
    known = [d.name for d in _definitions(tree)]
    close = difflib.get_close_matches(qualname, known, n=3)
    hint = (
        f"did you mean {', '.join(close)}?"
        if close
        else f"defined here: {', '.join(known[:20]) or 'nothing'}"
    )
    raise ArgumentError("code", [("symbol", f"{qualname!r} is not defined in the file; {hint}")])


def symbol_facts(source: str, qualname: str) -> CodeFacts:
    """Facts about one function or class of a Python file."""
    tree = parse(source)
    node = find_symbol(tree, qualname)
    _, aliases = _imports(tree)
    body: list[ast.stmt] = list(node.body)
    score = complexity(node.body)
    if isinstance(node, ast.ClassDef):  # a class: what its methods do; its most complex method
        methods = [m for m in node.body if isinstance(m, ast.FunctionDef | ast.AsyncFunctionDef)]
        body += [stmt for m in methods for stmt in m.body]
        score = max([score, *(complexity(m.body) for m in methods)])
    calls, raises, catches, names = _behaviour(body)
    lines = source.splitlines()
    header_end = node.body[0].lineno - 1 if node.body else node.lineno
    signature = "\n".join(lines[node.lineno - 1 : max(node.lineno, header_end)]).strip()
    doc = ast.get_docstring(node)
    kind = "class" if isinstance(node, ast.ClassDef) else "function"
    return CodeFacts(
        language="python",
        kind=kind,
        name=qualname,
        line_start=_first_line(node),
        line_end=node.end_lineno or node.lineno,
        signature=signature,
        docstring=doc.strip().splitlines()[0] if doc else None,
        definitions=[d for d in _definitions(tree) if d.name.startswith(qualname + ".")],
        calls=calls,
        raises=raises,
        catches=catches,
        complexity=score,
        uses_imports=sorted(aliases[n] for n in names if n in aliases),
    )


def range_facts(source: str, start: int, end: int) -> CodeFacts:
    """Facts about the statements that lie within lines ``start``-``end``."""
    tree = parse(source)
    _, aliases = _imports(tree)
    inside: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and node.lineno >= start and (node.end_lineno or node.lineno) <= end:
            inside.append(node)
    # keep only outermost statements so nothing is counted twice
    ids = {id(n) for n in inside}
    outer = [n for n in inside if not any(id(p) in ids for p in _parents(tree, n))]
    calls, raises, catches, names = _behaviour(outer)
    defs = [d for d in _definitions(tree) if d.line_start <= end and d.line_end >= start]
    return CodeFacts(
        language="python",
        kind="lines",
        line_start=start,
        line_end=end,
        definitions=defs,
        calls=calls,
        raises=raises,
        catches=catches,
        complexity=complexity(outer),
        uses_imports=sorted(aliases[n] for n in names if n in aliases),
    )


def _parents(tree: ast.AST, target: ast.AST) -> list[ast.AST]:
    path: list[ast.AST] = []

    def search(node: ast.AST) -> bool:
        for child in ast.iter_child_nodes(node):
            if child is target or search(child):
                path.append(node)
                return True
        return False

    search(tree)
    return path
