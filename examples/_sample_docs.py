"""Realistic sample Word documents for the examples and the README demo.

``make_sample_docx(path)`` writes a three-page quarterly operations report with
what real reports have: a title, headings on two levels, bold and italic runs,
hyperlinks, bullet and numbered lists, a table, a header and a footer.
``make_revised_docx(src, dest)`` writes a later version of it for ``compare``.
"""

from __future__ import annotations

from pathlib import Path

import docx
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph

__all__ = ["make_revised_docx", "make_sample_docx"]

REGIONS = [
    ("North", "14,200", "96.1%", "1.8%"),
    ("Midlands", "11,850", "94.7%", "2.3%"),
    ("South", "16,430", "97.4%", "1.2%"),
    ("Scotland", "5,120", "92.8%", "2.9%"),
]

OPERATIONS = [
    "Order volume grew steadily through the quarter, driven by the spring catalogue and by two new retail "
    "partners in the South. Peak weeks reached 4,300 orders a day, about a fifth above the same weeks last "
    "year, and the warehouses absorbed the increase without weekend shifts.",
    "The new warehouse management system went live in Leeds in the second week of April. Pick rates fell for "
    "ten days while staff learned the handheld scanners, then recovered and finished the quarter eight per "
    "cent above the old system. Mis-picks halved, which also reduced returns handling.",
    "Carrier performance was mixed. The national parcel carrier met its service level in every region except "
    "Scotland, where rural deliveries slipped to two days for a third of parcels. The regional pallet "
    "carrier raised prices by six per cent from May and no longer covers the Highlands.",
    "Staffing held at 212 full-time equivalents. Overtime fell by a quarter compared with the previous "
    "quarter, and agency hours were concentrated in the final three weeks. Two team leaders completed the "
    "new supervisor programme, and absence stayed below three per cent.",
]

RISKS = [
    "Fuel surcharges may rise again in the autumn; every one per cent adds about 18,000 pounds a quarter.",
    "The Leeds lease expires next March and the landlord has signalled a rent increase.",
    "Peak season forecasts assume the new retail partners keep their current volumes.",
]

ACTIONS = [
    "Maria Lopez will audit carrier invoices for the Scotland routes by 30 June.",
    "Tom Becker will open lease negotiations for the Leeds site by 15 July.",
    "Priya Shah will present a peak-season staffing plan to the board on 2 September.",
]

DECISIONS = [
    "The board approved a second depot near Glasgow, subject to a site survey.",
    "The operations team will keep the regional pallet carrier until the end of the year.",
]


def _hyperlink(paragraph: Paragraph, text: str, url: str) -> None:
    rid = paragraph.part.relate_to(url, RT.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), rid)
    run = OxmlElement("w:r")
    props = OxmlElement("w:rPr")
    style = OxmlElement("w:rStyle")
    style.set(qn("w:val"), "Hyperlink")
    props.append(style)
    run.append(props)
    t = OxmlElement("w:t")
    t.text = text
    run.append(t)
    link.append(run)
    paragraph._p.append(link)


def make_sample_docx(path: str | Path) -> Path:
    """Write the sample quarterly report to ``path`` and return it."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    d = docx.Document()
    d.core_properties.title = "Quarterly Operations Report"
    d.core_properties.author = "Northwind Logistics"
    d.sections[0].header.paragraphs[0].text = "Northwind Logistics - Internal"
    d.sections[0].footer.paragraphs[0].text = "Quarterly Operations Report, Q2"
    d.add_heading("Quarterly Operations Report", 0)
    intro = d.add_paragraph("Second quarter. Prepared by the ")
    intro.add_run("Operations Office").bold = True
    intro.add_run(" for the board meeting in July.")

    d.add_heading("Executive summary", 1)
    p = d.add_paragraph("The quarter closed ")
    p.add_run("ahead of plan").bold = True
    p.add_run(": orders rose by 19 per cent, on-time delivery reached ")
    p.add_run("96 per cent").italic = True
    p.add_run(
        " and the new warehouse system in Leeds is now live. Costs rose less than volume, so the cost per "
        "order fell. The main concerns are carrier coverage in Scotland and the Leeds lease. Details are "
        "on the "
    )
    _hyperlink(p, "operations dashboard", "https://example.com/operations/q2")
    p.add_run(".")
    for item in (
        "Orders up 19 per cent on last year",
        "On-time delivery at 96 per cent",
        "Warehouse system live in Leeds",
        "Cost per order down 4 per cent",
    ):
        d.add_paragraph(item, style="List Bullet")

    d.add_heading("Operations", 1)
    for title, text in zip(("Volume", "Warehouse system", "Carriers", "People"), OPERATIONS, strict=True):
        d.add_heading(title, 2)
        d.add_paragraph(text)
        d.add_paragraph(
            text.split(". ")[0] + ", as the regional managers confirmed in their monthly reports. "
            "The figures below come from the finance team and were reconciled at month end."
        )

    d.add_heading("Performance by region", 1)
    table = d.add_table(rows=1, cols=4)
    table.style = d.styles["Table Grid"]
    for cell, text in zip(table.rows[0].cells, ("Region", "Orders", "On time", "Returns"), strict=True):
        cell.text = text
        cell.paragraphs[0].runs[0].bold = True
    for row in REGIONS:
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            cell.text = text
    d.add_paragraph("Scotland remains the weakest region on time and returns; see the risks below.")

    d.add_heading("Risks", 1)
    for risk in RISKS:
        d.add_paragraph(risk, style="List Number")
    d.add_heading("Decisions", 1)
    for decision in DECISIONS:
        d.add_paragraph(decision)
    d.add_heading("Action items", 1)
    for action in ACTIONS:
        d.add_paragraph(action, style="List Bullet")
    d.add_heading("Suppliers", 1)
    d.add_paragraph("National Parcels: parcels, all regions")
    d.add_paragraph("Highland Haulage: pallets, Scotland")
    d.add_paragraph("Midland Freight: pallets, Midlands and North")
    d.save(str(target))
    return target


def make_revised_docx(src: str | Path, dest: str | Path) -> Path:
    """Write a later version of the sample report (a few paragraphs changed, one added, one removed)."""
    d = docx.Document(str(src))
    for p in d.paragraphs:
        if p.text.startswith("Staffing held at 212"):
            p.text = p.text.replace("212", "218").replace("by a quarter", "by a third")
        elif p.text.startswith("Tom Becker will open"):
            p.text = "Tom Becker will open lease negotiations for the Leeds site by 1 August."
        elif p.text.startswith("The operations team will keep"):
            p._p.getparent().remove(p._p)
    d.add_paragraph("Addendum: the Glasgow site survey is booked for 12 August.")
    d.save(str(dest))
    return Path(dest)
