"""The document examples run end to end with a scripted model injected."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import docx
import pytest

from dualtrack import Orchestrator
from dualtrack.plugins.document import DocumentPlugin, list_revisions, read_document
from dualtrack.testing import FunctionConnector, model_card
from tests.plugins.document._fake import smart_reply

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def orchestrator() -> tuple[Orchestrator, FunctionConnector]:
    conn = FunctionConnector(smart_reply)
    card = model_card(conn, name="smol", capabilities={"chat", "json", "summarize", "rewrite", "extract"})
    return Orchestrator(models=[card], plugins=[DocumentPlugin]), conn


async def test_summarize_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    orc, conn = orchestrator()
    assert await load("document_summarize").main(orc=orc, out=tmp_path) == 0
    printed = capsys.readouterr().out
    assert "Summary:" in printed and "route for document.summarize" in printed and "[1/" in printed
    summary = docx.Document(str(tmp_path / "quarterly-report.summary.docx"))
    assert summary.paragraphs[0].style.name == "Title"
    assert conn.calls


async def test_edit_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    orc, _ = orchestrator()
    assert await load("document_edit").main(orc=orc, out=tmp_path) == 0
    printed = capsys.readouterr().out
    assert "== document.rewrite ==" in printed and "comment on" in printed
    suggested = docx.Document(str(tmp_path / "quarterly-report.suggested.docx"))
    assert {r.author for r in list_revisions(suggested.element)} <= {"Operations Office"}
    reviewed = docx.Document(str(tmp_path / "quarterly-report.reviewed.docx"))
    assert len(list(reviewed.comments)) >= 1
    assert (tmp_path / "quarterly-report.edited.docx").exists()


async def test_extract_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    orc, _ = orchestrator()
    assert await load("document_extract").main(orc=orc, out=tmp_path) == 0
    printed = capsys.readouterr().out
    assert "Maria Lopez" in printed and "found: True" in printed
    assert "changed" in printed and "added" in printed and "removed" in printed
    tabled = read_document(docx.Document(str(tmp_path / "quarterly-report.table.docx")))
    header = [b.text for b in tabled.blocks if b.kind == "table_row" and b.id.endswith(".r1")]
    assert "Supplier | Service" in header


def test_sample_report_is_multi_page_and_structured(tmp_path: Path) -> None:
    import sys

    sys.path.insert(0, str(EXAMPLES))
    try:
        from _sample_docs import make_sample_docx
    finally:
        sys.path.remove(str(EXAMPLES))
    view = read_document(docx.Document(str(make_sample_docx(tmp_path / "r.docx"))))
    kinds = {b.kind for b in view.blocks}
    assert {"title", "heading", "list_item", "table_row", "header", "footer"} <= kinds
    assert len(view.render()) > 3500  # about three pages
