"""Packages built to exhaust memory or hide XML are refused; real documents of the same size still open.

Every hostile file starts from a real .docx (python-docx) or .xlsx (openpyxl) and is
rewritten at the zip level, the way an attacker would.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import docx
import openpyxl
import pytest

from dualtrack import InputFileError, inspect_package, read_sensitivity_label

WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
IMAGE_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/image"
LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
)
MiB = 1 << 20


def real_docx(path: Path, paragraphs: int = 3) -> Path:
    document = docx.Document()
    document.add_heading("Quarterly report", 1)
    for i in range(paragraphs):
        document.add_paragraph(f"Paragraph {i}: revenue grew in the north region, costs held steady. " * 4)
    document.save(str(path))
    return path


def real_xlsx(path: Path, rows: int = 3, cols: int = 2) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["region", "text"] + [f"c{i}" for i in range(cols - 2)])
    for r in range(rows):
        ws.append([f"north {r % 7}", f"label {r % 13}"] + [r * c for c in range(cols - 2)])
    wb.save(path)
    return path


def rewrite(path: Path, change: Callable[[dict[str, bytes]], None]) -> Path:
    """Rewrite the package in place through ``change(parts)`` (name -> bytes, order kept)."""
    with zipfile.ZipFile(path) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    change(parts)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return path


def rename(parts: dict[str, bytes], old: str, new: str, *, rels: str, content_type: bool = True) -> None:
    """Rename a part, its relationship target (in ``rels``) and its content-type override."""
    parts[new] = parts.pop(old)
    old_base, new_base = old.rsplit("/", 1)[-1], new.rsplit("/", 1)[-1]
    assert f'{old_base}"'.encode() in parts[rels]
    parts[rels] = parts[rels].replace(f'{old_base}"'.encode(), f'{new_base}"'.encode())
    if content_type:
        parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
            f"/{old}".encode(), f"/{new}".encode()
        )


def with_dtd(xml: bytes) -> bytes:
    body = xml.split(b"?>", 1)[1] if xml.startswith(b"<?xml") else xml
    return LAUGHS + body


# -- XML hidden from a name-based check -----------------------------------------------------


def docx_styles_renamed(path: Path) -> None:
    def change(parts: dict[str, bytes]) -> None:
        rename(parts, "word/styles.xml", "word/styles.XML", rels="word/_rels/document.xml.rels")
        parts["word/styles.XML"] = with_dtd(parts["word/styles.XML"])

    rewrite(real_docx(path), change)


def docx_settings_without_extension(path: Path) -> None:
    def change(parts: dict[str, bytes]) -> None:
        rename(parts, "word/settings.xml", "word/settings", rels="word/_rels/document.xml.rels")
        parts["word/settings"] = with_dtd(parts["word/settings"])

    rewrite(real_docx(path), change)


def docx_xml_declared_as_an_image(path: Path) -> None:
    """XML content behind a non-XML content type (declared image/png by extension)."""

    def change(parts: dict[str, bytes]) -> None:
        rename(parts, "word/fontTable.xml", "word/fontTable.png", rels="word/_rels/document.xml.rels")
        parts["word/fontTable.png"] = with_dtd(parts["word/fontTable.png"])
        parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
            b"<Default ", b'<Default Extension="png" ContentType="image/png"/><Default ', 1
        )

    rewrite(real_docx(path), change)


def docx_utf16_part(path: Path) -> None:
    def change(parts: dict[str, bytes]) -> None:
        parts["word/extra.bin"] = (LAUGHS.decode().replace('1.0"', '1.0" encoding="UTF-16"') + "<x/>").encode(
            "utf-16"
        )

    rewrite(real_docx(path), change)


def shared_strings(parts: dict[str, bytes], name: str, text: bytes = b"north 0", dtd: bool = False) -> None:
    """Move cell A2's text into a shared-strings part called ``name``, linked the way Excel links it."""
    sheet = parts["xl/worksheets/sheet1.xml"]
    inline = b'<c r="A2" t="inlineStr"><is><t>north 0</t></is></c>'
    assert inline in sheet
    parts["xl/worksheets/sheet1.xml"] = sheet.replace(inline, b'<c r="A2" t="s"><v>0</v></c>')
    sst = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
        b"<si><t>" + text + b"</t></si></sst>"
    )
    parts[name] = with_dtd(sst) if dtd else sst
    rel = (
        b'<Relationship Id="rIdSst" Target="' + name.split("/", 1)[1].encode() + b'" '
        b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/>'
    )
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", rel + b"</Relationships>"
    )
    override = (
        b'<Override PartName="/' + name.encode() + b'" '
        b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    )
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(b"</Types>", override + b"</Types>")


def xlsx_shared_strings_renamed(path: Path) -> None:
    rewrite(real_xlsx(path), lambda p: shared_strings(p, "xl/sharedStrings.XML", b"&lol3;", dtd=True))


def xlsx_sheet_without_extension(path: Path) -> None:
    def change(parts: dict[str, bytes]) -> None:
        rename(parts, "xl/worksheets/sheet1.xml", "xl/worksheets/sheet1", rels="xl/_rels/workbook.xml.rels")
        parts["xl/worksheets/sheet1"] = with_dtd(parts["xl/worksheets/sheet1"])

    rewrite(real_xlsx(path), change)


HIDDEN_XML = {
    "docx-styles.XML": (docx_styles_renamed, "word/styles.XML"),
    "docx-no-extension": (docx_settings_without_extension, "word/settings"),
    "docx-xml-as-png": (docx_xml_declared_as_an_image, "word/fontTable.png"),
    "docx-utf16-bin": (docx_utf16_part, "word/extra.bin"),
    "xlsx-sharedStrings.XML": (xlsx_shared_strings_renamed, "xl/sharedStrings.XML"),
    "xlsx-no-extension": (xlsx_sheet_without_extension, "xl/worksheets/sheet1"),
}


@pytest.mark.parametrize("kind", list(HIDDEN_XML))
def test_a_dtd_in_a_renamed_part_is_found(tmp_path: Path, kind: str) -> None:
    make, part = HIDDEN_XML[kind]
    path = tmp_path / ("hidden.xlsx" if kind.startswith("xlsx") else "hidden.docx")
    make(path)
    before = path.read_bytes()
    with pytest.raises(InputFileError, match="DTD") as err:
        inspect_package(path, [WORD_MAIN, XLSX_MAIN])
    assert part in str(err.value)
    assert path.read_bytes() == before


def test_the_renamed_shared_strings_attack_is_real(tmp_path: Path) -> None:
    """openpyxl follows the relationship to sharedStrings.XML and expands its entities."""
    from openpyxl.xml import DEFUSEDXML

    if DEFUSEDXML:
        pytest.skip("defusedxml is installed, so openpyxl itself refuses entities here")
    path = tmp_path / "real-attack.xlsx"
    xlsx_shared_strings_renamed(path)
    value = openpyxl.load_workbook(path).active["A2"].value
    assert value == "lol" * 100


def test_renamed_parts_without_a_dtd_are_fine(tmp_path: Path) -> None:
    path = rewrite(real_xlsx(tmp_path / "renamed.xlsx"), lambda p: shared_strings(p, "xl/sharedStrings.XML"))
    assert openpyxl.load_workbook(path).active["A2"].value == "north 0"
    info = inspect_package(path, [XLSX_MAIN])
    assert "xl/sharedStrings.XML" in info.xml_parts
    assert "xl/sharedStrings.XML" in info.content_types


def test_parts_whose_names_differ_only_in_case_are_refused(tmp_path: Path) -> None:
    path = real_docx(tmp_path / "twins.docx")
    rewrite(path, lambda p: p.update({"word/Document.xml": p["word/document.xml"]}))
    with pytest.raises(InputFileError, match="more than once"):
        inspect_package(path, [WORD_MAIN])


# -- memory: many parts that together expand far beyond the file ----------------------------


def many_part_bomb(path: Path, parts: int = 900, size: int = MiB) -> Path:
    """The reported attack: ``parts`` referenced media parts of exactly 1 MiB each (each under
    the per-part ratio check), about 1 MB on disk."""
    real_docx(path)
    with zipfile.ZipFile(path) as zf:
        existing = {i.filename: zf.read(i) for i in zf.infolist()}
    rels = existing["word/_rels/document.xml.rels"].decode()
    links = "".join(
        f'<Relationship Id="rIdBomb{i}" Type="{IMAGE_REL}" Target="media/image{i}.png"/>'
        for i in range(parts)
    )
    existing["word/_rels/document.xml.rels"] = rels.replace(
        "</Relationships>", links + "</Relationships>"
    ).encode()
    types = existing["[Content_Types].xml"]
    if b'Extension="png"' not in types:
        types = types.replace(b"<Default ", b'<Default Extension="png" ContentType="image/png"/><Default ', 1)
    existing["[Content_Types].xml"] = types
    blob = b"\0" * size
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data in existing.items():
            zf.writestr(name, data)
        for i in range(parts):
            zf.writestr(f"word/media/image{i}.png", blob)
    return path


_PROBE = """
import json, resource, sys
import docx, openpyxl
from dualtrack import InputFileError, inspect_package
path, main = sys.argv[1], sys.argv[2]
outcome = "opened"
try:
    inspect_package(path, [main])
    if path.endswith(".docx"):
        docx.Document(path)
    else:
        openpyxl.load_workbook(path)
except InputFileError as exc:
    outcome = str(exc)
# VmHWM is this image's own peak: ru_maxrss would also count the parent's peak, which a
# child started by fork/vfork + exec inherits on Linux (a big pytest run would read as ~700 MB)
try:
    with open("/proc/self/status") as status:
        kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
except (OSError, StopIteration):
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"outcome": outcome, "peak_mb": kb / 1024}))
"""


def open_in_child(path: Path, main: str) -> dict[str, object]:
    """Check and open ``path`` the way the plugins do, in a fresh interpreter; its peak RSS in MB."""
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, str(path), main],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def test_many_part_bomb_is_refused_with_bounded_memory(tmp_path: Path) -> None:
    path = many_part_bomb(tmp_path / "bomb.docx")
    assert path.stat().st_size < 2 * MiB
    with zipfile.ZipFile(path) as zf:
        assert all(i.file_size <= MiB for i in zf.infolist())  # no single part trips the per-part check
    result = open_in_child(path, WORD_MAIN)
    assert "zip bomb" in str(result["outcome"]) and "900" in str(result["outcome"])
    baseline = open_in_child(real_docx(tmp_path / "plain.docx"), WORD_MAIN)  # interpreter + libraries
    peak, base = float(str(result["peak_mb"])), float(str(baseline["peak_mb"]))
    assert peak < 300 and peak - base < 50, (result, baseline)  # opened unchecked, it peaks near 930 MB


def test_too_many_parts(tmp_path: Path) -> None:
    path = real_docx(tmp_path / "confetti.docx")
    rewrite(path, lambda p: p.update({f"word/media/x{i}.bin": b"x" for i in range(5_001)}))
    with pytest.raises(InputFileError, match=r"parts \(limit 5000\)"):
        inspect_package(path, [WORD_MAIN])


def test_the_total_budget_scales_with_the_file_and_has_a_floor(tmp_path: Path) -> None:
    path = real_docx(tmp_path / "small.docx")
    rewrite(path, lambda p: p.update({"word/media/pad.bin": b"\0" * (MiB - 1)}))
    inspect_package(path, [WORD_MAIN])  # a small file may expand to the 64 MB floor
    with pytest.raises(InputFileError, match=r"limit 0\.1 MB"):
        inspect_package(path, [WORD_MAIN], min_budget=0, max_total_ratio=2)


def test_ordinary_large_files_still_open(tmp_path: Path) -> None:
    long_doc = real_docx(tmp_path / "long.docx", paragraphs=400)  # about 20 pages
    assert len(docx.Document(str(long_doc)).paragraphs) > 400
    doc = open_in_child(long_doc, WORD_MAIN)
    assert doc["outcome"] == "opened", doc
    book = real_xlsx(tmp_path / "cells.xlsx", rows=10_000, cols=10)  # 100,000 cells
    sheet = open_in_child(book, XLSX_MAIN)
    assert sheet["outcome"] == "opened", sheet
    assert float(str(doc["peak_mb"])) < 300 and float(str(sheet["peak_mb"])) < 300, (doc, sheet)


def test_labels_still_read_from_a_hostile_package(tmp_path: Path) -> None:
    """The label reader runs before the package check; a bomb does not make it read everything."""
    path = many_part_bomb(tmp_path / "bomb.docx", parts=50)
    assert read_sensitivity_label(path) is None


# -- the plugins' open paths use the same check -----------------------------------------------


@pytest.mark.parametrize("kind", [k for k in HIDDEN_XML if k.startswith("xlsx")])
def test_the_spreadsheet_plugin_refuses_hidden_xml(tmp_path: Path, kind: str) -> None:
    from dualtrack.plugins.spreadsheet._workbook import open_checked

    path = tmp_path / "hidden.xlsx"
    HIDDEN_XML[kind][0](path)
    with pytest.raises(InputFileError, match="DTD"):
        open_checked(None, path, max_cells=1_000_000)


@pytest.mark.parametrize("kind", [k for k in HIDDEN_XML if k.startswith("docx")])
async def test_the_document_plugin_refuses_hidden_xml(tmp_path: Path, kind: str) -> None:
    from dualtrack import Orchestrator
    from dualtrack.plugins.document import DocumentPlugin
    from dualtrack.testing import ScriptedConnector, model_card

    path = tmp_path / "hidden.docx"
    HIDDEN_XML[kind][0](path)
    model = ScriptedConnector([])
    orc = Orchestrator(models=[model_card(model, name="m")], plugins=[DocumentPlugin])
    with pytest.raises(InputFileError, match="DTD"):
        await orc.invoke("document.summarize", path=str(path))
    assert model.calls == []
