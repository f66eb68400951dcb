"""Real .docx samples built with python-docx (plus hand-written parts python-docx lacks)."""

from __future__ import annotations

import hashlib
import io
import shutil
import struct
import zipfile
import zlib
from pathlib import Path

import docx
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import qn
from docx.shared import Inches
from docx.text.paragraph import Paragraph

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
LABEL_GUID = "3f2b5c1e-8a4d-4e6f-9b7a-1c2d3e4f5a6b"


def tiny_png(width: int = 4, height: int = 4) -> bytes:
    """A valid RGB PNG built by hand."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    raw = b"".join(b"\x00" + b"\xcc\x33\x33" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def add_hyperlink(paragraph: Paragraph, text: str, url: str, *, bold: bool = False) -> None:
    """Append a real w:hyperlink (external relationship) holding one run."""
    rid = paragraph.part.relate_to(url, RT.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), rid)
    run = OxmlElement("w:r")
    rpr = OxmlElement("w:rPr")
    style = OxmlElement("w:rStyle")
    style.set(qn("w:val"), "Hyperlink")
    rpr.append(style)
    if bold:
        rpr.append(OxmlElement("w:b"))
    run.append(rpr)
    t = OxmlElement("w:t")
    t.text = text
    t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    run.append(t)
    link.append(run)
    paragraph._p.append(link)


def add_footnotes(document: docx.document.Document, notes: dict[int, str], paragraph: Paragraph) -> None:
    """Add a footnotes part (python-docx has no API for it) and reference note 1 from ``paragraph``."""
    body = "".join(
        f'<w:footnote w:id="{i}"><w:p><w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p></w:footnote>'
        for i, text in notes.items()
    )
    xml = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:footnotes xmlns:w="{W_NS}">'
        '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
        '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/></w:r>'
        f"</w:p></w:footnote>{body}</w:footnotes>"
    )
    part = Part(
        PackURI("/word/footnotes.xml"),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml",
        xml.encode(),
        document.part.package,
    )
    document.part.relate_to(part, RT.FOOTNOTES)
    ref = parse_xml(
        f'<w:r xmlns:w="{W_NS}"><w:rPr><w:vertAlign w:val="superscript"/></w:rPr>'
        f'<w:footnoteReference w:id="{next(iter(notes))}"/></w:r>'
    )
    paragraph._p.append(ref)


def build_rich(path: Path) -> Path:
    """A report with everything: title, headings, mixed runs, a link, lists, a table,
    header/footer, a comment, an image and a footnote."""
    d = docx.Document()
    d.core_properties.title = "Quarterly Operations Report"
    d.sections[0].header.paragraphs[0].text = "Northwind Traders - Internal"
    d.sections[0].footer.paragraphs[0].text = "Page footer: Operations"
    d.add_heading("Quarterly Operations Report", 0)
    d.add_heading("Overview", 1)
    p = d.add_paragraph("The team ")
    p.add_run("delivered").bold = True
    p.add_run(" the new warehouse system ")
    p.add_run("ahead of schedule").italic = True
    p.add_run(", as described on ")
    add_hyperlink(p, "the project page", "https://example.com/project")
    p.add_run(".")
    split = d.add_paragraph("Shipping costs fell by twelve per")
    split.add_run("cent in the second quarter.")
    d.add_heading("Actions", 1)
    d.add_paragraph("Maria Lopez will audit the carriers by 30 June.", style="List Bullet")
    d.add_paragraph("Tom Becker will renegotiate the lease by 15 July.", style="List Bullet")
    d.add_paragraph("Review the budget.", style="List Number")
    d.add_paragraph("Approve the hiring plan.", style="List Number")
    d.add_heading("Figures", 2)
    table = d.add_table(rows=3, cols=3)
    for r, row in enumerate(
        [["Region", "Orders", "Returns"], ["North", "1200", "30"], ["South", "950", "12"]]
    ):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    d.add_paragraph("Board decision: the company will open a second depot in Leeds.")
    pic = d.add_paragraph()
    pic.add_run().add_picture(io.BytesIO(tiny_png()), width=Inches(0.5))
    pic.add_run(" Figure 1: depot map.")
    noted = d.add_paragraph("Costs are expected to rise next year.")
    add_footnotes(d, {1: "Estimate from the finance team."}, noted)
    d.add_comment(noted.runs[0], text="Source?", author="Reviewer", initials="RV")
    d.add_heading("Contacts", 1)
    d.add_paragraph("Apples\t12\tkg")
    d.add_paragraph("Pears\t8\tkg")
    d.add_paragraph("Plums\t5\tkg")
    d.save(str(path))
    return path


def build_long(path: Path, sections: int = 150, paragraphs: int = 20) -> Path:
    """A ~300-page document: many headed sections of several-sentence paragraphs."""
    d = docx.Document()
    d.add_heading("Annual Compendium", 0)
    sentence = "This paragraph records routine operational detail about logistics and staffing. "
    for s in range(1, sections + 1):
        d.add_heading(f"Section {s}", 1)
        for k in range(paragraphs):
            d.add_paragraph(f"Item {s}.{k}: " + sentence * 3)
    d.save(str(path))
    return path


def add_label(src: Path, dest: Path, name: str = "Confidential", guid: str = LABEL_GUID) -> Path:
    """Copy ``src`` with a Microsoft sensitivity label written the way Office writes it."""
    props = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
        'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
    )
    fields = {
        "Enabled": "true",
        "SetDate": "2025-01-10T09:00:00Z",
        "Method": "Standard",
        "Name": name,
        "SiteId": "0f0e0d0c-0b0a-0908-0706-050403020100",
        "ActionId": "11111111-2222-3333-4444-555555555555",
        "ContentBits": "0",
    }
    for pid, (key, value) in enumerate(fields.items(), start=2):
        props += (
            f'<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="{pid}" '
            f'name="MSIP_Label_{guid}_{key}"><vt:lpwstr>{value}</vt:lpwstr></property>'
        )
    props += "</Properties>"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "[Content_Types].xml":
                data = data.replace(
                    b"</Types>",
                    b'<Override PartName="/docProps/custom.xml" ContentType="application/'
                    b'vnd.openxmlformats-officedocument.custom-properties+xml"/></Types>',
                )
            elif item.filename == "_rels/.rels":
                data = data.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdLabel1" Type="http://schemas.openxmlformats.org/officeDocument/'
                    b'2006/relationships/custom-properties" Target="docProps/custom.xml"/></Relationships>',
                )
            zout.writestr(item, data)
        zout.writestr("docProps/custom.xml", props)
    return dest


def rewrite_part(src: Path, dest: Path, part: str, transform: object) -> Path:
    """Copy a package, passing one part's bytes through ``transform(bytes) -> bytes``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == part:
                data = transform(data)  # type: ignore[operator]
            zout.writestr(item, data)
    return dest


def digest(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def copy(src: Path, dest: Path) -> Path:
    """Copy a file and return the copy."""
    shutil.copyfile(src, dest)
    return dest
