"""The folders of core/ are its layers: imports only go down, TYPE_CHECKING ones included.

A module of one layer may import its own layer and the layers listed before it,
never one listed after it; ``_errors`` imports nothing of the package. The
plugins, connectors and (future) hosts import only the public API.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "core"
LAYERS = ["_errors", "_model", "_office", "_routing", "_runtime", "_plugins", "_app", "_eval", "_cli"]
RANK = {name: i for i, name in enumerate(LAYERS)}


def _relative_imports(path: Path) -> list[tuple[int, str]]:
    """Every ``from .x import`` / ``from ..x import`` in ``path`` as (line, dotted target)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = path.relative_to(CORE).parent.parts
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = list(package[: len(package) - node.level + 1]) if node.level > 1 else list(package)
            target = [*base, *(node.module.split(".") if node.module else [])]
            if not node.module:  # `from . import x`: each name is a module or an attribute
                target = [*base, node.names[0].name]
            found.append((node.lineno, ".".join(target)))
    return found


def _layer(dotted: str) -> str | None:
    head = dotted.split(".", 1)[0]
    return head if head in RANK else None


def _modules() -> list[Path]:
    return sorted(p for p in CORE.rglob("*.py") if p.relative_to(CORE).parts[0] in RANK or p.name == "_errors.py")


def test_every_core_module_lives_in_a_layer() -> None:
    top = {p.name for p in CORE.glob("*.py")}
    assert top <= {"__init__.py", "_errors.py", "tags.py", "checks.py"}, sorted(top)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(CORE)))
def test_imports_only_go_down(path: Path) -> None:
    me = "_errors" if path.name == "_errors.py" and path.parent == CORE else path.relative_to(CORE).parts[0]
    upward = []
    for line, target in _relative_imports(path):
        layer = _layer(target)
        if me == "_errors":
            upward.append(f"{line}: {target}")  # _errors depends on nothing else in the package
        elif layer is not None and RANK[layer] > RANK[me]:
            upward.append(f"{line}: {target}")
    assert not upward, f"{path.relative_to(CORE)} imports upward: {upward}"


def test_outer_packages_use_only_the_public_api() -> None:
    root = CORE.parent
    offenders = []
    for folder in ("connectors", "plugins", "hosts"):
        for path in (root / folder).rglob("*.py") if (root / folder).exists() else ():
            text = path.read_text(encoding="utf-8")
            if "from dualtrack._" in text or "import dualtrack._" in text:
                offenders.append(str(path.relative_to(root)))
    assert not offenders
