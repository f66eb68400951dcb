from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dualtrack import InputFileError, Orchestrator
from dualtrack.testing import ScriptedConnector

from ._hostile import HOSTILE
from ._samples import build_rich, digest

REASONS = {
    "not-a-zip": "not a zip",
    "truncated": "truncated",
    "zip-bomb": "bomb",
    "password-protected": "password-protected",
    "macro-enabled-content-type": "macroEnabled",
    "template-content-type": "template.main",
    "xml-entities": "DTD",
    "late-xml-entity": "DTD",
    "broken-xml": "not a readable Word document",
}

SKILLS: dict[str, Callable[[str, str], dict[str, Any]]] = {
    "summarize": lambda bad, good: {"path": bad, "save": True},
    "ask": lambda bad, good: {"path": bad, "question": "What is this?"},
    "rewrite": lambda bad, good: {"path": bad, "instruction": "shorter"},
    "suggest_edits": lambda bad, good: {"path": bad, "instruction": "shorter"},
    "draft": lambda bad, good: {"path": bad, "instructions": "add a conclusion"},
    "extract": lambda bad, good: {"path": bad, "insert_table": True},
    "review": lambda bad, good: {"path": bad},
    "compare": lambda bad, good: {"path": good, "other": bad},
    "to_table": lambda bad, good: {"path": bad, "match": "Apples"},
}


@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("hostile")
    return {name: make(base / f"{name}.docx") for name, make in HOSTILE.items()}


@pytest.mark.parametrize("skill", sorted(SKILLS))
@pytest.mark.parametrize("kind", sorted(HOSTILE))
async def test_hostile_input_is_refused_and_nothing_changes(
    kind: str,
    skill: str,
    hostile_files: dict[str, Path],
    tmp_path: Path,
    doc_orc: Callable[..., Orchestrator],
) -> None:
    bad = shutil.copyfile(hostile_files[kind], tmp_path / "input.docx")
    good = build_rich(tmp_path / "good.docx")
    before = {p.name: digest(p) for p in tmp_path.iterdir()}
    model = ScriptedConnector([])  # any model call would fail the test loudly
    orc = doc_orc(model)
    with pytest.raises(InputFileError) as info:
        await orc.invoke(f"document.{skill}", **SKILLS[skill](str(bad), str(good)))
    assert REASONS[kind].lower() in str(info.value).lower()
    assert {p.name: digest(p) for p in tmp_path.iterdir()} == before
    assert model.calls == []


@pytest.mark.parametrize("suffix", [".docm", ".dotx", ".doc", ".txt"])
async def test_wrong_suffix_is_refused(
    suffix: str, tmp_path: Path, doc_orc: Callable[..., Orchestrator]
) -> None:
    path = build_rich(tmp_path / "report.docx").rename(tmp_path / f"report{suffix}")
    with pytest.raises(InputFileError, match=r"expected a \.docx file"):
        await doc_orc(ScriptedConnector([])).invoke("document.summarize", path=str(path))


async def test_missing_file_says_so(tmp_path: Path, doc_orc: Callable[..., Orchestrator]) -> None:
    with pytest.raises(InputFileError, match="no such file"):
        await doc_orc(ScriptedConnector([])).invoke(
            "document.ask", path=str(tmp_path / "nope.docx"), question="?"
        )
