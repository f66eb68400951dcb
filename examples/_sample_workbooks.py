"""A realistic sample workbook for the spreadsheet examples.

``make_sales_workbook(path)`` writes what a small sales team keeps in Excel:

* "Sales": one row per order (date, region, rep, product, units, unit price) and an
  Amount column of formulas (=Units*Price) with no cached values, as openpyxl writes them;
* "Feedback": customer comments with a due date for a reply and a status.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import openpyxl
from openpyxl.styles import Font

__all__ = ["make_sales_workbook"]

REGIONS = ["North", "South", "East", "West"]
REPS = {"North": ["Ana", "Ben"], "South": ["Chen", "Dara"], "East": ["Eli"], "West": ["Fay", "Gus"]}
PRODUCTS = {"Widget": 12.5, "Gadget": 29.9, "Gizmo": 54.0, "Doohickey": 7.25}
COMMENTS = [
    ("Acme Ltd", "Delivery was fast and the widgets work perfectly."),
    ("Birch & Co", "Two gadgets arrived broken, we need replacements."),
    ("Cobalt", "Invoice amount does not match the quote."),
    ("Delta Foods", "Great support call, thank you!"),
    ("Ember", "Still waiting for a reply about our return."),
    ("Fjord", "Product is fine, packaging could be better."),
    ("Granite", "Please add us to the newsletter."),
    ("Harbor", "The gizmo stopped working after a week."),
]


def make_sales_workbook(path: str | Path, orders: int = 60) -> Path:
    """Write the sample workbook to ``path`` and return it."""
    path = Path(path)
    rnd = random.Random(2024)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sales"
    ws.append(["Date", "Region", "Rep", "Product", "Units", "Price", "Amount"])
    start = dt.datetime(2024, 1, 2)
    for i in range(orders):
        region = REGIONS[rnd.randrange(4)]
        product = rnd.choice(list(PRODUCTS))
        r = i + 2
        ws.append(
            [
                start + dt.timedelta(days=i * 2 + rnd.randrange(2)),
                region,
                rnd.choice(REPS[region]),
                product,
                rnd.randint(1, 30),
                PRODUCTS[product],
                f"=E{r}*F{r}",
            ]
        )
        ws.cell(r, 1).number_format = "yyyy-mm-dd"
        ws.cell(r, 7).number_format = "#,##0.00"
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.column_dimensions["A"].width = 12

    fb = wb.create_sheet("Feedback")
    fb.append(["Customer", "Comment", "Reply due", "Status"])
    today = dt.datetime.combine(dt.date.today(), dt.time())
    for i, (customer, comment) in enumerate(COMMENTS):
        due = today + dt.timedelta(days=(i * 5) - 15)
        fb.append([customer, comment, due, "Done" if i % 3 == 1 else "Open"])
        fb.cell(i + 2, 3).number_format = "yyyy-mm-dd"
    for cell in fb[1]:
        cell.font = Font(bold=True)
    fb.column_dimensions["B"].width = 50
    wb.save(path)
    return path
