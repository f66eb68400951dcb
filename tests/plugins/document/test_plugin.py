"""Registration, manifest and the public surface of the document plugin."""

from __future__ import annotations

import ast
from pathlib import Path

import dualtrack
import dualtrack.plugins.document as document
from dualtrack import Orchestrator
from dualtrack.plugins.document import DocumentPlugin

PLUGIN_DIR = Path(document.__file__).parent


def test_installed_entry_point_loads_the_plugin() -> None:
    orc = Orchestrator(models=[], plugins=["document"])
    names = {s["name"] for s in orc.manifest()["plugins"][0]["skills"]}
    assert names == {
        f"document.{n}"
        for n in (
            "summarize",
            "ask",
            "rewrite",
            "suggest_edits",
            "draft",
            "extract",
            "review",
            "compare",
            "to_table",
        )
    }


def test_tags_and_effects_are_honest() -> None:
    skills = {
        s["name"]: s
        for s in Orchestrator(models=[], plugins=[DocumentPlugin]).manifest()["plugins"][0]["skills"]
    }
    reading = {"document.ask", "document.compare"}
    for name, s in skills.items():
        assert s["effects"] == ("read" if name in reading else "write"), name
        assert s["needs_model"]
        assert set(s["requires"]) <= {"chat", "json", "summarize", "rewrite", "extract"}, name
        for prop in s["parameters"]["properties"].values():
            assert prop.get("description"), name
    assert skills["document.summarize"]["requires"] == ["summarize"]
    assert "long-context" in skills["document.summarize"]["prefers"]


def test_every_skill_routes_to_a_small_model_with_its_tags() -> None:
    from dualtrack.testing import ScriptedConnector, model_card

    small = model_card(
        ScriptedConnector([]),
        name="smol",
        capabilities={"chat", "json", "summarize", "rewrite", "extract"},
        context_window=2048,
    )
    orc = Orchestrator(models=[small], plugins=[DocumentPlugin])
    for s in orc.manifest()["plugins"][0]["skills"]:
        assert orc.route(s["name"], tokens=1200).chosen == "smol", s["name"]


def test_exports_match_all() -> None:
    assert set(document.__all__) == {n for n in dir(document) if not n.startswith("_")} - {"annotations"}


def test_plugin_imports_only_the_public_api() -> None:
    for path in PLUGIN_DIR.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("dualtrack"):
                assert node.module in ("dualtrack", "dualtrack.checks", "dualtrack.testing"), (path.name, node.module)
                if node.module == "dualtrack":
                    assert all(a.name in dualtrack.__all__ for a in node.names), path.name


def test_modules_stay_focused() -> None:
    sizes = {p.name: len(p.read_text().splitlines()) for p in PLUGIN_DIR.glob("*.py")}
    assert max(sizes.values()) <= 320, sizes
