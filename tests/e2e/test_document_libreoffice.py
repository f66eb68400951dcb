"""Document skill outputs checked in a real office suite (LibreOffice, headless)."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import docx
import pytest

from dualtrack import CompletionRequest, Orchestrator
from dualtrack.plugins.document import DocumentPlugin, list_revisions
from dualtrack.testing import FunctionConnector, model_card
from tests.office import convert, requires_soffice
from tests.plugins.document._fake import data_of, smart_reply
from tests.plugins.document._samples import build_rich

pytestmark = [requires_soffice, pytest.mark.slow]


def reply(request: CompletionRequest) -> str:
    if request.json_schema and "comments" in request.json_schema.get("properties", {}):
        return (
            '{"comments": [{"id": "p4", "quote": "twelve percent", "comment": "Give the absolute figure."},'
            ' {"id": "t1.r2", "quote": "North", "comment": "Which depots?"}]}'
        )
    if request.messages[-1].content.startswith("Rewrite"):
        return data_of(request).replace("fell", "decreased").replace("The team", "Our team")
    return smart_reply(request)


def orchestrator() -> Orchestrator:
    return Orchestrator(models=[model_card(FunctionConnector(reply))], plugins=[DocumentPlugin])


def odt_content(path: Path, outdir: Path) -> str:
    odt = convert(path, "odt", outdir)
    with zipfile.ZipFile(odt) as zf:
        return zf.read("content.xml").decode()


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("lo-outputs")
    src = build_rich(base / "report.docx")
    orc = orchestrator()
    calls = {
        "summarize": {"save": True, "style": "bullets"},
        "rewrite": {"instruction": "formal", "section": "Overview"},
        "suggest_edits": {"instruction": "formal", "section": "Overview", "author": "Ada Reviewer"},
        "review": {"author": "Rita"},
        "draft": {"instructions": "next steps", "after": "Actions"},
        "extract": {"insert_table": True},
        "to_table": {"section": "Contacts"},
    }
    made = {}
    for skill, args in calls.items():
        result = orc.invoke_sync(f"document.{skill}", path=str(src), **args)
        made[skill] = Path(result.value.output)
        orc = orchestrator()
    return made


@pytest.mark.parametrize(
    "skill", ["summarize", "rewrite", "suggest_edits", "review", "draft", "extract", "to_table"]
)
def test_output_converts_to_pdf(skill: str, outputs: dict[str, Path], tmp_path: Path) -> None:
    pdf = convert(outputs[skill], "pdf", tmp_path)
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 1000


def test_tracked_changes_survive_as_revisions_in_odt(outputs: dict[str, Path], tmp_path: Path) -> None:
    content = odt_content(outputs["suggest_edits"], tmp_path)
    assert "<text:tracked-changes" in content
    assert "<text:insertion>" in content and "<text:deletion>" in content
    assert "<dc:creator>Ada Reviewer</dc:creator>" in content
    assert "fell" in content  # the deleted word is kept as a revision, not lost


def test_tracked_changes_survive_a_libreoffice_docx_round_trip(
    outputs: dict[str, Path], tmp_path: Path
) -> None:
    src = shutil.copyfile(outputs["suggest_edits"], tmp_path / "suggested.docx")
    again = convert(src, "docx", tmp_path / "lo")
    revisions = list_revisions(docx.Document(str(again)).element)
    kinds = {(r.kind, r.text.strip()) for r in revisions}
    assert ("delete", "fell") in kinds and ("insert", "decreased") in kinds
    assert {r.author for r in revisions} == {"Ada Reviewer"}


def test_review_comments_survive_as_annotations(outputs: dict[str, Path], tmp_path: Path) -> None:
    content = odt_content(outputs["review"], tmp_path)
    assert content.count("<office:annotation ") + content.count("<office:annotation>") >= 2
    assert "Give the absolute figure." in content and "<dc:creator>Rita</dc:creator>" in content


def test_rewrite_formatting_and_link_survive(outputs: dict[str, Path], tmp_path: Path) -> None:
    content = odt_content(outputs["rewrite"], tmp_path)
    assert "Our team" in content and "decreased" in content
    assert 'xlink:href="https://example.com/project"' in content


def test_new_tables_are_real_tables(outputs: dict[str, Path], tmp_path: Path) -> None:
    content = odt_content(outputs["to_table"], tmp_path)
    assert content.count("<table:table ") == 2  # the original figures table and the new one
    assert "Apples" in content


def test_libreoffice_made_input_through_edit_skills(lo_docx_e2e: Path, tmp_path: Path) -> None:
    src = shutil.copyfile(lo_docx_e2e, tmp_path / "lo-report.docx")
    orc = orchestrator()
    suggested = orc.invoke_sync(
        "document.suggest_edits", path=str(src), instruction="formal", match="costs fell", author="Ada"
    )
    content = odt_content(Path(suggested.value.output), tmp_path / "odt")
    assert "<text:tracked-changes" in content and "<dc:creator>Ada</dc:creator>" in content


@pytest.fixture(scope="module")
def lo_docx_e2e(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("lo-made")
    odt = convert(build_rich(base / "src.docx"), "odt", base / "odt")
    return convert(odt, "docx", base / "docx")
