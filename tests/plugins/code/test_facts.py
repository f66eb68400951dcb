"""AST facts: what a function calls and raises, its complexity, imports; text facts elsewhere."""

from __future__ import annotations

import pytest

from dualtrack import ArgumentError
from dualtrack.plugins.code._facts import complexity, module_facts, range_facts, symbol_facts
from dualtrack.plugins.code._languages import text_facts

SOURCE = '''\
import os.path
from json import loads as parse_json


class Store:
    """Keeps things."""

    def load(self, path, strict=False):
        """Load a file."""
        if not os.path.exists(path):
            raise FileNotFoundError(path)
        try:
            data = parse_json(open(path).read())
        except ValueError:
            if strict:
                raise
            data = {}
        for key in data:
            if key.startswith("_") and not strict:
                del data[key]
        return self.save(data) if data else None

    def save(self, data):
        return data


def helper(x):
    return [y for y in x if y]
'''


def test_function_facts_calls_raises_complexity() -> None:
    facts = symbol_facts(SOURCE, "Store.load")
    assert facts.kind == "function"
    assert (facts.line_start, facts.line_end) == (8, 21)
    assert facts.signature == "def load(self, path, strict=False):"
    assert facts.docstring == "Load a file."
    assert {"os.path.exists", "parse_json", "open", "open().read", "self.save", "key.startswith"} <= set(
        facts.calls
    )
    assert facts.raises == ["FileNotFoundError", "re-raise"]
    assert facts.catches == ["ValueError"]
    # 1 + if + except + if + for + if + `and` + ternary
    assert facts.complexity == 8
    assert facts.uses_imports == ["json.loads", "os.path"]


def test_module_facts() -> None:
    facts = module_facts(SOURCE)
    assert facts.imports == ["os.path", "json.loads"]
    names = [(d.name, d.kind) for d in facts.definitions]
    assert names == [
        ("Store", "class"),
        ("Store.load", "method"),
        ("Store.save", "method"),
        ("helper", "function"),
    ]
    assert facts.syntax_error is None


def test_module_facts_report_syntax_errors() -> None:
    facts = module_facts("def broken(:\n    pass\n")
    assert facts.syntax_error is not None and facts.syntax_error.startswith("line 1")


def test_range_facts_cover_only_statements_inside() -> None:
    facts = range_facts(SOURCE, 10, 11)
    assert facts.calls == ["os.path.exists"]
    assert facts.raises == ["FileNotFoundError"]
    assert facts.complexity == 2


def test_comprehension_adds_complexity() -> None:
    import ast

    tree = ast.parse("def f(x):\n    return [y for y in x if y]\n")
    assert complexity(tree.body[0].body) == 3  # type: ignore[attr-defined]


def test_unknown_symbol_names_close_matches() -> None:
    with pytest.raises(ArgumentError, match=r"did you mean Store\.load"):
        symbol_facts(SOURCE, "Store.lod")


def test_text_facts_for_other_languages() -> None:
    js = "export function total(items) {\n  return 1;\n}\nclass Cart {}\n"
    facts = text_facts(js, "javascript")
    assert facts.language == "javascript"
    assert [(d.name, d.line_start) for d in facts.definitions] == [("total", 1), ("Cart", 4)]
    assert facts.complexity is None


def test_class_facts_cover_its_methods() -> None:
    facts = symbol_facts(SOURCE, "Store")
    assert facts.kind == "class"
    assert "self.save" in facts.calls and facts.raises == ["FileNotFoundError", "re-raise"]
    assert facts.complexity == 8  # its most complex method, load
    assert [d.name for d in facts.definitions] == ["Store.load", "Store.save"]
