"""Real workbooks for the spreadsheet tests, built with openpyxl (and one by LibreOffice).

Each builder returns the path and the plain Python rows it wrote, so tests can
compute expected answers independently of the plugin.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import openpyxl

REGIONS = ["North", "South", "East", "West"]
PRODUCTS = ["Widget", "Gadget", "Gizmo"]


def sales(path: Path, rows: int = 40) -> tuple[Path, list[dict[str, Any]]]:
    """Sheet "Sales": Date, Region, Product, Units, Price, Amount (=Units*Price, no cached value)."""
    rnd = random.Random(7)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sales"
    ws.append(["Date", "Region", "Product", "Units", "Price", "Amount"])
    data = []
    for i in range(rows):
        d = dt.datetime(2024, 1, 1) + dt.timedelta(days=3 * i)
        region, product = REGIONS[i % 4], PRODUCTS[rnd.randrange(3)]
        units, price = rnd.randint(1, 40), round(rnd.uniform(2, 60), 2)
        r = i + 2
        ws.append([d, region, product, units, price, f"=D{r}*E{r}"])
        ws.cell(r, 1).number_format = "yyyy-mm-dd"
        data.append(
            {
                "Date": d,
                "Region": region,
                "Product": product,
                "Units": units,
                "Price": price,
                "Amount": units * price,
            }
        )
    wb.save(path)
    return path, data


def budget_source(path: Path) -> tuple[Path, list[dict[str, Any]]]:
    """Sheet "Budget 2024": Department, Category, Q1..Q4, Total (=SUM); saved by openpyxl (no cached values)."""
    rnd = random.Random(11)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Budget 2024"
    ws.append(["Department", "Category", "Q1", "Q2", "Q3", "Q4", "Total"])
    data = []
    r = 2
    for dept in ["Marketing", "Sales", "Engineering", "Support", "Finance"]:
        for cat in ["Salaries", "Travel", "Software"]:
            q = [rnd.randrange(1000, 50000, 50) for _ in range(4)]
            ws.append([dept, cat, *q, f"=SUM(C{r}:F{r})"])
            data.append(
                {
                    "Department": dept,
                    "Category": cat,
                    "Q1": q[0],
                    "Q2": q[1],
                    "Q3": q[2],
                    "Q4": q[3],
                    "Total": sum(q),
                }
            )
            r += 1
    notes = wb.create_sheet("Notes")
    notes["A1"] = "Figures in EUR"
    wb.save(path)
    return path, data


def grades(path: Path) -> tuple[Path, list[dict[str, Any]]]:
    """Sheet "Bob's Grades" (a quote in the name): Student, Class, Math, Science, English, Average, Passed."""
    rnd = random.Random(3)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Bob's Grades"
    ws.append(["Student", "Class", "Math", "Science", "English", "Average", "Passed"])
    data = []
    names = ["Ana", "Ben", "Chen", "Dara", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lea"]
    for i, name in enumerate(names):
        r = i + 2
        m, s, e = rnd.randint(35, 100), rnd.randint(35, 100), rnd.randint(35, 100)
        ws.append([name, "AB"[i % 2], m, s, e, f"=AVERAGE(C{r}:E{r})", f'=IF(F{r}>=60,"yes","no")'])
        avg = (m + s + e) / 3
        data.append(
            {
                "Student": name,
                "Class": "AB"[i % 2],
                "Math": m,
                "Science": s,
                "English": e,
                "Average": avg,
                "Passed": "yes" if avg >= 60 else "no",
            }
        )
    wb.save(path)
    return path, data


def inventory(path: Path) -> tuple[Path, list[dict[str, Any]]]:
    """A title in A1, a blank row, then a table from row 3 with a missing value and one outlier."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Stock"
    ws["A1"] = "Inventory March 2024"
    ws.append([])
    ws.append(["SKU", "Item", "Category", "Stock", "Reorder Level", "Unit Cost", "Last Restock"])
    items = [
        ("Bolt M4", "Hardware", 120, 50, 0.12),
        ("Nut M4", "Hardware", 8, 40, 0.05),
        ("Drill", "Tools", 5, 3, 89.0),
        ("Saw", "Tools", 2, 4, 35.5),
        ("Glue", "Supplies", 30, 10, 4.2),
        ("Tape", "Supplies", 7, 15, 2.1),
        ("Hammer", "Tools", 11, 5, 19.9),
        ("Screw M3", "Hardware", 5000, 100, 0.03),
        ("Paint", "Supplies", None, 6, 12.0),
        ("Brush", "Supplies", 14, 8, 3.4),
    ]
    data = []
    for i, (item, cat, stock, reorder, cost) in enumerate(items):
        day = dt.datetime(2024, 3, 1) + dt.timedelta(days=2 * i)
        ws.append([f"SKU-{100 + i}", item, cat, stock, reorder, cost, day])
        data.append(
            {
                "SKU": f"SKU-{100 + i}",
                "Item": item,
                "Category": cat,
                "Stock": stock,
                "Reorder Level": reorder,
                "Unit Cost": cost,
                "Last Restock": day,
            }
        )
    wb.save(path)
    return path, data


def feedback(path: Path) -> tuple[Path, list[dict[str, Any]]]:
    """Sheet "Feedback": Customer, Comment, Due (dates, some past), Status."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Feedback"
    ws.append(["Customer", "Comment", "Due", "Status"])
    comments = [
        ("Acme", "Great service, fast delivery", -10, "Open"),
        ("Birch", "Package arrived broken", -3, "Paid"),
        ("Cobalt", "Okay I guess", 5, "Open"),
        ("Delta", "Love it!", 12, "Open"),
        ("Ember", "Terrible support, never again", -30, "Open"),
    ]
    today = dt.datetime.combine(dt.date.today(), dt.time())
    data = []
    for cust, text, days, status in comments:
        due = today + dt.timedelta(days=days)
        ws.append([cust, text, due, status])
        data.append({"Customer": cust, "Comment": text, "Due": due, "Status": status})
    wb.save(path)
    return path, data


# -- package surgery: parts openpyxl cannot create ------------------------------------------

PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cf"
    "c0f01f0005000201e2a7a4500000000049454e44ae426082"
)
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def rewrite_zip(src: Path, dest: Path, edit: Any) -> Path:
    """Copy the zip ``src`` to ``dest``; ``edit(parts)`` may change the ``{name: bytes}`` dict."""
    import zipfile

    with zipfile.ZipFile(src) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    edit(parts)
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return dest


def _add_override(parts: dict[str, bytes], xml: str) -> None:
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>", xml.encode() + b"</Types>"
    )


def with_image(src: Path, dest: Path) -> Path:
    """``src`` with a picture (PNG) anchored on the first sheet, the way Excel stores one."""

    def edit(parts: dict[str, bytes]) -> None:
        parts["xl/media/image1.png"] = PNG_1X1
        parts["xl/drawings/drawing1.xml"] = (
            '<xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing" '
            f'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="{_R}">'
            "<xdr:oneCellAnchor><xdr:from><xdr:col>8</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>1</xdr:row>"
            '<xdr:rowOff>0</xdr:rowOff></xdr:from><xdr:ext cx="952500" cy="952500"/><xdr:pic><xdr:nvPicPr>'
            '<xdr:cNvPr id="2" name="Logo"/><xdr:cNvPicPr/></xdr:nvPicPr><xdr:blipFill><a:blip r:embed="rId1"/>'
            '<a:stretch><a:fillRect/></a:stretch></xdr:blipFill><xdr:spPr><a:prstGeom prst="rect"><a:avLst/>'
            "</a:prstGeom></xdr:spPr></xdr:pic><xdr:clientData/></xdr:oneCellAnchor></xdr:wsDr>"
        ).encode()
        parts["xl/drawings/_rels/drawing1.xml.rels"] = (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{_R}/image" Target="../media/image1.png"/></Relationships>'
        ).encode()
        parts["xl/worksheets/_rels/sheet1.xml.rels"] = (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rIdImg" Type="{_R}/drawing" Target="../drawings/drawing1.xml"/></Relationships>'
        ).encode()
        parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"].replace(
            b"</worksheet>", f'<drawing xmlns:r="{_R}" r:id="rIdImg"/></worksheet>'.encode()
        )
        _add_override(
            parts,
            '<Default Extension="png" ContentType="image/png"/><Override PartName="/xl/drawings/drawing1.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.drawing+xml"/>',
        )

    return rewrite_zip(src, dest, edit)


VBA_BYTES = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"vba project stand-in " * 40


def as_xlsm(src: Path, dest: Path) -> Path:
    """``src`` turned into a macro-enabled workbook with a vbaProject.bin part."""

    def edit(parts: dict[str, bytes]) -> None:
        parts["xl/vbaProject.bin"] = VBA_BYTES
        ct = parts["[Content_Types].xml"]
        ct = ct.replace(
            b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
            b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
        )
        parts["[Content_Types].xml"] = ct
        _add_override(parts, '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>')
        rels = parts["xl/_rels/workbook.xml.rels"]
        parts["xl/_rels/workbook.xml.rels"] = rels.replace(
            b"</Relationships>",
            b'<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" '
            b'Target="vbaProject.bin"/></Relationships>',
        )

    return rewrite_zip(src, dest, edit)


def with_label(src: Path, dest: Path, name: str = "Confidential") -> Path:
    """``src`` carrying a Microsoft sensitivity label in docProps/custom.xml."""
    guid = "4e4d6a2b-1c1d-4b5e-9d6f-123456789abc"

    def edit(parts: dict[str, bytes]) -> None:
        ns = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
        vt = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
        props = "".join(
            f'<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="{i}" name="MSIP_Label_{guid}_{k}">'
            f"<vt:lpwstr>{v}</vt:lpwstr></property>"
            for i, (k, v) in enumerate([("Enabled", "true"), ("Name", name), ("SiteId", "x")], 2)
        )
        parts["docProps/custom.xml"] = (
            f'<Properties xmlns="{ns}" xmlns:vt="{vt}">{props}</Properties>'.encode()
        )
        _add_override(
            parts,
            '<Override PartName="/docProps/custom.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.custom-properties+xml"/>',
        )
        rels = parts["_rels/.rels"]
        parts["_rels/.rels"] = rels.replace(
            b"</Relationships>",
            b'<Relationship Id="rIdCustom" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            b'relationships/custom-properties" Target="docProps/custom.xml"/></Relationships>',
        )

    return rewrite_zip(src, dest, edit)


def with_dimension(src: Path, dest: Path, ref: str) -> Path:
    """``src`` whose first sheet declares ``<dimension ref=...>`` (a lie when it is huge)."""
    import re

    def edit(parts: dict[str, bytes]) -> None:
        xml = parts["xl/worksheets/sheet1.xml"]
        parts["xl/worksheets/sheet1.xml"] = re.sub(
            rb'<dimension ref="[^"]*"', f'<dimension ref="{ref}"'.encode(), xml
        )

    return rewrite_zip(src, dest, edit)


def big_sheet(path: Path, rows: int, cols: int = 20) -> Path:
    """A sheet "Big" of ``rows`` x ``cols`` cells plus a header: ids, amounts, a category, integers.

    The package skeleton is openpyxl's write-only output; the sheet's rows are streamed into
    the zip as XML (what write-only mode writes, without its per-cell cost), so a million
    cells take seconds to make.
    """
    import zipfile

    from openpyxl.utils.cell import get_column_letter

    skeleton = path.with_suffix(".skeleton.xlsx")
    wb = openpyxl.Workbook(write_only=True)
    wb.create_sheet("Big").append(["id"])
    wb.save(skeleton)
    letters = [get_column_letter(c) for c in range(1, cols + 1)]
    cats = ["alpha", "beta", "gamma", "delta"]
    rnd = random.Random(5)
    with zipfile.ZipFile(skeleton) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                dst.writestr(info, src.read(info))
                continue
            head, _, _ = src.read(info).partition(b"<sheetData>")
            with dst.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as out:
                out.write(head + b"<sheetData>")
                names = ["id", "amount", "category"] + [f"m{i}" for i in range(3, cols)]
                out.write(
                    (
                        '<row r="1">'
                        + "".join(
                            f'<c r="{letters[i]}1" t="inlineStr"><is><t>{names[i]}</t></is></c>'
                            for i in range(cols)
                        )
                        + "</row>"
                    ).encode()
                )
                chunk: list[str] = []
                for r in range(2, rows + 2):
                    cells = [
                        f'<c r="A{r}"><v>{r - 1}</v></c>',
                        f'<c r="B{r}"><v>{rnd.randrange(10000) / 100}</v></c>',
                        f'<c r="C{r}" t="inlineStr"><is><t>{cats[r % 4]}</t></is></c>',
                    ]
                    cells += [
                        f'<c r="{letters[c]}{r}"><v>{rnd.randrange(100000)}</v></c>' for c in range(3, cols)
                    ]
                    chunk.append(f'<row r="{r}">{"".join(cells)}</row>')
                    if len(chunk) == 2000:
                        out.write("".join(chunk).encode())
                        chunk = []
                out.write("".join(chunk).encode())
                out.write(b"</sheetData></worksheet>")
    skeleton.unlink()
    return path
