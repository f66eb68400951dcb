"""Markup Word writes that python-docx never does: fields, bookmarks, proofing marks,
smart tags, content controls and other people's tracked changes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import docx
import pytest

from dualtrack import CompletionRequest, Orchestrator
from dualtrack.plugins.document import list_revisions, read_document
from dualtrack.plugins.document._xml import qn
from dualtrack.testing import FunctionConnector
from tests.office import convert, requires_soffice

from ._fake import data_of

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
WORDLIKE = f"""
<w:p xmlns:w="{W}" w:rsidR="00A10B2C" w:rsidRDefault="00A10B2C">
  <w:bookmarkStart w:id="0" w:name="_Ref1"/>
  <w:r w:rsidRPr="00B21C3D"><w:t xml:space="preserve">The </w:t></w:r>
  <w:proofErr w:type="spellStart"/>
  <w:r><w:rPr><w:b/></w:rPr><w:t>contrct</w:t></w:r>
  <w:proofErr w:type="spellEnd"/>
  <w:r><w:t xml:space="preserve"> is due on page </w:t></w:r>
  <w:r><w:fldChar w:fldCharType="begin"/></w:r>
  <w:r><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r>
  <w:r><w:fldChar w:fldCharType="separate"/></w:r>
  <w:r><w:t>3</w:t></w:r>
  <w:r><w:fldChar w:fldCharType="end"/></w:r>
  <w:bookmarkEnd w:id="0"/>
  <w:smartTag w:uri="urn:schemas-microsoft-com:office:smarttags" w:element="place">
    <w:r><w:t xml:space="preserve"> in London</w:t></w:r>
  </w:smartTag>
  <w:sdt><w:sdtPr><w:alias w:val="Client"/></w:sdtPr>
    <w:sdtContent><w:r><w:t xml:space="preserve"> for Acme</w:t></w:r></w:sdtContent></w:sdt>
  <w:ins w:id="5" w:author="Bob" w:date="2024-01-01T00:00:00Z"><w:r><w:t xml:space="preserve"> soon</w:t></w:r></w:ins>
  <w:del w:id="6" w:author="Bob" w:date="2024-01-01T00:00:00Z"><w:r><w:delText xml:space="preserve"> later</w:delText></w:r></w:del>
  <w:r><w:lastRenderedPageBreak/><w:t>.</w:t></w:r>
</w:p>"""
TOC = f"""
<w:sdt xmlns:w="{W}"><w:sdtPr><w:docPartObj><w:docPartGallery w:val="Table of Contents"/></w:docPartObj></w:sdtPr>
  <w:sdtContent><w:p><w:r><w:t>Contents: Terms ... 3</w:t></w:r></w:p></w:sdtContent></w:sdt>"""
TEXT = "The contrct is due on page 3 in London for Acme soon."


@pytest.fixture
def wordlike(tmp_path: Path) -> Path:
    d = docx.Document()
    d.add_heading("Terms", 1)
    body = d.element.body
    body.insert(0, docx.oxml.parse_xml(TOC))
    body.insert(2, docx.oxml.parse_xml(WORDLIKE))
    d.save(str(tmp_path / "wordlike.docx"))
    return tmp_path / "wordlike.docx"


def fix_typo(request: CompletionRequest) -> str:
    return data_of(request).replace("contrct", "contract")


async def fix_typos_with(skill: str, path: Path, doc_orc: Callable[..., Orchestrator]) -> Any:
    """Run ``skill`` on the "due on page" paragraph of ``path`` with a model that fixes its typo."""
    orc = doc_orc(FunctionConnector(fix_typo))
    return (await orc.invoke(skill, path=str(path), instruction="fix typos", match="due on page")).value


def test_reader_sees_what_word_shows(wordlike: Path) -> None:
    view = read_document(docx.Document(str(wordlike)))
    assert [b.text for b in view.body()] == ["Contents: Terms ... 3", "Terms", TEXT]


async def test_rewrite_keeps_fields_bookmarks_controls_and_others_revisions(
    wordlike: Path, doc_orc: Callable[..., Orchestrator]
) -> None:
    value = await fix_typos_with("document.rewrite", wordlike, doc_orc)
    assert [c.id for c in value.changed] == ["p3"]
    out = docx.Document(value.output)
    p = read_document(out).elements["p3"][0]
    tags = [el.tag for el in p.iter()]
    for name in ("w:fldChar", "w:instrText", "w:bookmarkStart", "w:bookmarkEnd", "w:smartTag", "w:sdt"):
        assert qn(name) in tags, name
    assert [r.author for r in list_revisions(p)] == ["Bob", "Bob"]
    assert read_document(out).text_of("p3") == TEXT.replace("contrct", "contract")
    bold = [t.text for t in p.iter(qn("w:t")) if t.getparent().find(f"{qn('w:rPr')}/{qn('w:b')}") is not None]
    assert bold == ["contract"]


async def test_suggestions_get_ids_clear_of_existing_annotations(
    wordlike: Path, doc_orc: Callable[..., Orchestrator]
) -> None:
    value = await fix_typos_with("document.suggest_edits", wordlike, doc_orc)
    out = docx.Document(value.output)
    ids = [el.get(qn("w:id")) for el in out.element.body.iter(qn("w:ins"), qn("w:del"))]
    assert len(ids) == len(set(ids)) == 4
    assert {"5", "6"} <= set(ids) and all(int(i) > 6 for i in ids if i not in ("5", "6"))


@requires_soffice
async def test_wordlike_output_converts(
    wordlike: Path, tmp_path: Path, doc_orc: Callable[..., Orchestrator]
) -> None:
    value = await fix_typos_with("document.suggest_edits", wordlike, doc_orc)
    pdf = convert(Path(value.output), "pdf", tmp_path / "pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
