"""Strict Open XML documents open, read and write like Transitional ones; the input never changes."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import docx
import pytest

from dualtrack import read_sensitivity_label
from dualtrack.plugins.document._strict import is_strict, translate
from dualtrack.testing import ScriptedConnector
from tests.office import SOFFICE, convert

from ._samples import add_label, build_rich, digest

_TRANSITIONAL = re.compile(rb"http://schemas\.openxmlformats\.org/([A-Za-z]+)/2006/([A-Za-z/-]+)")
_STRICT_NAMES = {b"extended-properties": b"extendedProperties", b"custom-properties": b"customProperties"}


def _to_strict(match: re.Match[bytes]) -> bytes:
    area, rest = match.group(1), match.group(2)
    if area == b"package":  # the packaging (OPC) namespaces are the same in Strict
        return match.group(0)
    head, _, last = rest.rpartition(b"/")
    last = _STRICT_NAMES.get(last, last)
    return b"http://purl.oclc.org/ooxml/" + area + b"/" + (head + b"/" + last if head else last)


def make_strict(src: Path, dest: Path) -> Path:
    """What Word's "Strict Open XML Document" writes: purl.oclc.org namespaces and relationship
    types, and ``w:conformance="strict"`` on the document (the package namespaces stay)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith((".xml", ".rels")) and info.filename != "[Content_Types].xml":
                data = _TRANSITIONAL.sub(_to_strict, data)
            if info.filename == "word/document.xml":
                data = data.replace(b"<w:document ", b'<w:document w:conformance="strict" ', 1)
            zout.writestr(info, data)
    return dest


@pytest.fixture
def strict_docx(tmp_path: Path) -> Path:
    return make_strict(build_rich(tmp_path / "source.docx"), tmp_path / "strict.docx")


def test_the_sample_is_strict_and_python_docx_refuses_it(strict_docx: Path) -> None:
    with zipfile.ZipFile(strict_docx) as zf:
        rels = zf.read("_rels/.rels")
        body = zf.read("word/document.xml")
    assert b"http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument" in rels
    assert b"http://purl.oclc.org/ooxml/wordprocessingml/main" in body
    assert b"schemas.openxmlformats.org/wordprocessingml" not in body
    assert is_strict(strict_docx)
    with pytest.raises(KeyError, match="officeDocument"):
        docx.Document(str(strict_docx))  # why the translation is needed


def test_translation_maps_the_renamed_property_relationships() -> None:
    rels = (
        b'<Relationship Type="http://purl.oclc.org/ooxml/officeDocument/relationships/extendedProperties"/>'
        b'<Relationship Type="http://purl.oclc.org/ooxml/officeDocument/relationships/customProperties"/>'
        b'<w:document xmlns:w="http://purl.oclc.org/ooxml/wordprocessingml/main" w:conformance="strict"/>'
    )
    out = translate(rels)
    assert b"officeDocument/2006/relationships/extended-properties" in out
    assert b"officeDocument/2006/relationships/custom-properties" in out
    assert b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"/>' in out
    assert b"purl.oclc.org" not in out and b"conformance" not in out


async def test_read_skills_work_and_say_the_file_was_converted(strict_docx: Path, doc_orc) -> None:
    before = digest(strict_docx)
    connector = ScriptedConnector(["Shipping costs fell by twelve percent [p4]."], repeat_last=True)
    res = await doc_orc(connector).invoke("document.summarize", path=str(strict_docx))
    assert "twelve percent" in res.value.summary and res.value.fallback_parts == 0
    assert any("Strict Open XML" in n and "strict.docx" in n for n in res.value.notes)
    prompt = connector.calls[0].messages[-1].content
    assert "Overview" in prompt  # the document's text reached the model
    extracted = await doc_orc().invoke("document.extract", path=str(strict_docx), kind="action_items")
    assert any("Strict Open XML" in n for n in extracted.value.notes)
    assert digest(strict_docx) == before  # the user's file is never modified


async def test_a_transitional_file_has_no_note(rich_docx: Path, doc_orc) -> None:
    connector = ScriptedConnector(["A report [p2]."], repeat_last=True)
    res = await doc_orc(connector).invoke("document.summarize", path=str(rich_docx))
    assert res.value.notes == []


async def test_writes_produce_a_transitional_docx_next_to_the_input(strict_docx: Path, doc_orc) -> None:
    before = digest(strict_docx)
    connector = ScriptedConnector(
        ["An executive summary: costs fell by twelve percent [p4]."], repeat_last=True
    )
    res = await doc_orc(connector).invoke("document.summarize", path=str(strict_docx), save=True)
    out = Path(res.value.output)
    assert out.parent == strict_docx.parent and out.name == "strict.summary.docx"
    with zipfile.ZipFile(out) as zf:
        assert not is_strict(out)
        assert b"purl.oclc.org" not in zf.read("word/document.xml")
    assert "executive summary" in "\n".join(p.text for p in docx.Document(str(out)).paragraphs)
    assert digest(strict_docx) == before


def test_a_label_in_a_strict_file_is_read(tmp_path: Path) -> None:
    labelled = add_label(build_rich(tmp_path / "src.docx"), tmp_path / "labelled.docx", "Highly Confidential")
    strict = make_strict(labelled, tmp_path / "strict-labelled.docx")
    with zipfile.ZipFile(strict) as zf:
        assert b"purl.oclc.org/ooxml/officeDocument/relationships/customProperties" in zf.read("_rels/.rels")
    assert read_sensitivity_label(strict).value == "highly-confidential"


def test_libreoffice_strict_export_opens(tmp_path: Path, doc_orc) -> None:
    if SOFFICE is None:
        pytest.skip("LibreOffice (soffice) is not installed; cannot make a Strict file with a real exporter")
    (tmp_path / "src").mkdir()
    src = build_rich(tmp_path / "src" / "lo.docx")
    # LibreOffice has no "Office Open XML Text (Strict)" export filter; it writes Transitional
    # ("MS Word 2007 XML") or ISO/IEC 29500 Transitional ("Office Open XML Text").
    out = convert(src, "docx:Office Open XML Text", tmp_path / "out")
    if not is_strict(out):
        pytest.skip("this LibreOffice cannot export Strict Open XML (its OOXML filter writes Transitional)")
    res = doc_orc().invoke_sync("document.extract", path=str(out), kind="action_items")
    assert any("Strict Open XML" in n for n in res.value.notes)
