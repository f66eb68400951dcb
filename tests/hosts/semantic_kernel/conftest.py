"""Fixtures for the agent hosts: the scripted loopback server and a real .docx in tmp_path."""

from __future__ import annotations

import zipfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dualtrack import ModelCard, Orchestrator, Policy
from tests.e2e.test_labels import CONFIDENTIAL_ID, labelled
from tests.hosts.semantic_kernel.script_server import SUMMARY_MARK, ScriptServer

DOC_TEXT = "Quarterly revenue rose by twelve percent. The budget for the new plant is on track."


@pytest.fixture(scope="session")
def script_server() -> Iterator[ScriptServer]:
    server = ScriptServer().start()
    try:
        yield server
    finally:
        server.stop()


def cards(url: str) -> list[ModelCard]:
    """A partner preferred by quality, cleared for general; an in-house model cleared for everything."""
    tags = frozenset({"chat", "tools", "summarize", "json", "rewrite", "extract"})
    settings = {"base_url": url, "api_key": "test-key"}
    return [
        ModelCard(name="partner", track="partner", capabilities=tags, clearance="general", quality=1.0,
                  context_window=32000, settings={**settings, "model": "script-partner"}),
        ModelCard(name="inhouse", track="in-house", capabilities=tags, clearance="highly-confidential",
                  quality=0.1, context_window=32000, settings={**settings, "model": "script-inhouse"}),
    ]  # fmt: skip


def make_orc(server: ScriptServer, root: Path, **kw: object) -> Orchestrator:
    return Orchestrator(
        models=cards(server.url), policy=Policy(objective="quality"), plugins=["document"], roots=[root], **kw
    )


@pytest.fixture
async def orcs(script_server: ScriptServer) -> AsyncIterator[Callable[..., Orchestrator]]:
    """``orcs(root, **kw)``: an orchestrator on the script server, closed after the test."""
    made: list[Orchestrator] = []

    def make(root: Path, **kw: object) -> Orchestrator:
        made.append(make_orc(script_server, root, **kw))
        return made[-1]

    yield make
    for orc in made:
        await orc.aclose()


def make_docx(path: Path, text: str = DOC_TEXT) -> Path:
    import docx

    document = docx.Document()
    document.add_heading("Quarterly memo", level=1)
    document.add_paragraph(text)
    document.save(str(path))
    return path


def confidential_docx(path: Path, text: str = "Project Nightjar closes in May.") -> Path:
    """A .docx holding ``text`` (a secret about Project Nightjar), labelled Confidential."""
    return labelled(make_docx(path, text), CONFIDENTIAL_ID, "Confidential")


def leaked(bodies: list[str]) -> bool:
    """Whether any request body carries the confidential document's text or its summary."""
    return any("Nightjar" in b or SUMMARY_MARK in b for b in bodies)


def hostile_docx(path: Path) -> Path:
    """A .docx whose body declares XML entities (a billion-laughs bomb)."""
    make_docx(path)
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body><w:p><w:r><w:t>&lol2;</w:t></w:r></w:p></w:body></w:document>"
    )
    with zipfile.ZipFile(path) as zin:
        parts = {n: zin.read(n) for n in zin.namelist()}
    parts["word/document.xml"] = bomb.encode()
    with zipfile.ZipFile(path, "w") as zout:
        for name, data in parts.items():
            zout.writestr(name, data)
    return path


def bad_calls(
    tmp_path: Path, bad_schema: dict[str, Any], **extra: Any
) -> tuple[Path, Path, dict[str, dict[str, Any]]]:
    """A root ``inside`` with a good memo, and the arguments of calls that must fail, by case.

    ``schema`` gives the good file with ``bad_schema``; ``outside`` a file outside the root;
    ``hostile`` a hostile document inside it; ``extra`` goes with the last two.
    """
    inside = tmp_path / "inside"
    inside.mkdir()
    (tmp_path / "outside").mkdir()
    good = make_docx(inside / "memo.docx")
    return (
        inside,
        good,
        {
            "schema": {"path": str(good), **bad_schema},
            "outside": {"path": str(make_docx(tmp_path / "outside" / "x.docx")), **extra},
            "hostile": {"path": str(hostile_docx(inside / "bomb.docx")), **extra},
        },
    )
