"""``highlight``, ``chart``, ``summarize`` and ``ask`` on real workbooks, checked in LibreOffice where it matters."""

from __future__ import annotations

import json
import math
import zipfile
from pathlib import Path

import openpyxl
import pytest

from dualtrack import CheckFailedError, UserError
from tests.office import convert, requires_soffice

from .conftest import formula_reply, lo_recalculated


def _rule(**kw: object) -> str:
    return json.dumps({"whole_row": True, "color": "red", **kw})


async def test_highlight_overdue_rows_builds_a_formula_rule(feedback, orc_with):
    path, rows = feedback
    orc, conn = orc_with(_rule(column="Due", operator="date_before_today", description="overdue"))
    res = await orc.invoke("spreadsheet.highlight", path=str(path), request="highlight overdue rows in red")
    v = res.value
    assert v.range == "A2:D6" and v.color == "FFC7CE"
    assert v.rule == "=AND(ISNUMBER($C2),$C2<TODAY())"
    assert v.matching_rows == sum(r["Due"].date() < __import__("datetime").date.today() for r in rows) == 3
    ws = openpyxl.load_workbook(v.output)["Feedback"]
    ((rng, rules),) = [(str(cf.sqref), cf.rules) for cf in ws.conditional_formatting]
    assert rng == "A2:D6" and rules[0].formula == ["AND(ISNUMBER($C2),$C2<TODAY())"]
    assert rules[0].dxf.fill.bgColor.rgb.endswith("FFC7CE")
    assert "highlight overdue rows in red" in conn.prompts[0]


async def test_highlight_with_a_model_condition_counts_matches_by_computing_it(feedback, orc_with):
    path, _ = feedback
    cond = '=AND($C2<TODAY(),$D2<>"Paid")'
    orc, _ = orc_with(_rule(column="Due", operator="formula", formula=cond, color="#FF9900"))
    v = (
        await orc.invoke("spreadsheet.highlight", path=str(path), request="overdue and unpaid, orange")
    ).value
    assert v.rule == cond and v.matching_rows == 2 and v.color == "FF9900"


async def test_highlight_cell_rule_quotes_model_values(inventory, orc_with):
    path, rows = inventory
    orc, _ = orc_with(
        _rule(column="Category", operator="equal", value='Tools")+HYPERLINK("x', whole_row=False)
    )
    v = (await orc.invoke("spreadsheet.highlight", path=str(path), request="tools")).value
    assert v.range == "C4:C13" and v.matching_rows == 0
    ws = openpyxl.load_workbook(v.output)["Stock"]
    (cf,) = list(ws.conditional_formatting)
    assert cf.rules[0].type == "cellIs" and cf.rules[0].formula == ['"Tools"")+HYPERLINK(""x"']
    orc, _ = orc_with(_rule(column="Stock", operator="less_than", value=10, whole_row=False, color="yellow"))
    v = (await orc.invoke("spreadsheet.highlight", path=str(path), request="low stock in yellow")).value
    assert v.matching_rows == sum(1 for r in rows if r["Stock"] is not None and r["Stock"] < 10)


async def test_highlight_unknown_column_or_colour_is_a_user_error(sales, orc_with):
    path, _ = sales
    misspelt = _rule(column="Ammount", operator="greater_than", value=5)
    orc, conn = orc_with(misspelt, misspelt)  # the check sends the unknown column back once
    with pytest.raises(CheckFailedError, match="Did you mean 'Amount'"):
        await orc.invoke("spreadsheet.highlight", path=str(path), request="big amounts")
    assert "has no column 'Ammount'" in conn.prompts[1]
    orc, _ = orc_with(_rule(column="Amount", operator="greater_than", value=5, color="ultraviolet"))
    with pytest.raises(UserError, match="unknown colour"):
        await orc.invoke("spreadsheet.highlight", path=str(path), request="big amounts")


async def test_bar_chart_of_repeated_categories_sums_them_on_a_chart_data_sheet(sales, orc_with):
    path, _rows = sales
    spec = {"kind": "bar", "category": "Region", "values": ["Amount"], "title": "Amount by region"}
    orc, _ = orc_with(json.dumps(spec))
    v = (await orc.invoke("spreadsheet.chart", path=str(path), request="amount by region")).value
    assert v.kind == "bar" and v.title == "Amount by region" and v.anchor == "H1"
    assert (v.x_title, v.y_title) == ("Region", "Amount")
    assert v.categories == "'Chart data Sales'!$A$2:$A$5"
    wb = openpyxl.load_workbook(v.output)
    data_sheet = wb["Chart data Sales"]
    assert [data_sheet.cell(r, 1).value for r in range(2, 6)] == ["East", "North", "South", "West"]
    assert data_sheet["B3"].value.startswith("=SUMIFS(")
    with zipfile.ZipFile(v.output) as zf:
        assert any(n.startswith("xl/charts/chart") for n in zf.namelist())


async def test_scatter_and_pie_charts_check_their_columns(sales, orc_with):
    path, _ = sales
    orc, _ = orc_with(json.dumps({"kind": "scatter", "category": "Units", "values": ["Amount"]}))
    v = (await orc.invoke("spreadsheet.chart", path=str(path), request="units against amount")).value
    assert v.categories == "'Sales'!$D$2:$D$41" and v.values == ["'Sales'!$F$2:$F$41"]
    orc, _ = orc_with(json.dumps({"kind": "pie", "category": "Region", "values": ["Amount", "Units"]}))
    with pytest.raises(UserError, match="pie chart shows one value column"):
        await orc.invoke("spreadsheet.chart", path=str(path), request="pie")
    orc, _ = orc_with(json.dumps({"kind": "line", "category": "Date", "values": ["Region"]}))
    with pytest.raises(UserError, match="not numbers"):
        await orc.invoke("spreadsheet.chart", path=str(path), request="line")


async def test_summarize_writes_live_formulas_that_match_the_data(sales, orc_with):
    path, rows = sales
    orc, _conn = orc_with()
    res = await orc.invoke(
        "spreadsheet.summarize",
        path=str(path),
        group_by="Region",
        values=["Amount"],
        functions=["sum", "average", "max", "count"],
    )
    v = res.value
    assert v.ok and not v.mismatches and res.calls == [] and v.sheet == "Summary by Region"
    by = {r["Region"]: r for r in v.rows}
    for region in ["North", "South", "East", "West"]:
        amounts = [r["Amount"] for r in rows if r["Region"] == region]
        assert by[region]["Sum of Amount"] == pytest.approx(math.fsum(amounts))
        assert by[region]["Average of Amount"] == pytest.approx(math.fsum(amounts) / len(amounts))
        assert by[region]["Max of Amount"] == pytest.approx(max(amounts))
        assert by[region]["Count"] == len(amounts)
    ws = openpyxl.load_workbook(v.output)["Summary by Region"]
    assert ws["B2"].value == "=SUMIFS(Sales!$F$2:$F$41,Sales!$B$2:$B$41,$A2)"
    assert ws["A6"].value == "Total" and ws["B6"].value == "=SUM(B2:B5)"


async def test_summarize_from_a_request_asks_the_model_for_the_plan(budget, orc_with):
    path, rows = budget
    plan = {"group_by": "Department", "values": ["Total"], "functions": ["sum", "average"]}
    orc, conn = orc_with(json.dumps(plan))
    v = (
        await orc.invoke("spreadsheet.summarize", path=str(path), request="total budget per department")
    ).value
    assert v.ok and len(conn.calls) == 1
    mk = next(r for r in v.rows if r["Department"] == "Marketing")
    assert mk["Sum of Total"] == sum(r["Total"] for r in rows if r["Department"] == "Marketing")


@requires_soffice
async def test_summary_and_chart_outputs_open_in_libreoffice_with_the_same_values(
    sales, orc_with, tmp_path: Path
):
    path, _ = sales
    orc, _ = orc_with()
    v = (
        await orc.invoke(
            "spreadsheet.summarize",
            path=str(path),
            group_by="Product",
            values=["Units", "Amount"],
            functions=["sum", "average", "count"],
        )
    ).value
    lo = lo_recalculated(Path(v.output), tmp_path / "lo")[v.sheet]
    for i, row in enumerate(v.rows, 2):
        for j, key in enumerate(list(row)[1:], 2):
            assert lo.cell(i, j).value == pytest.approx(row[key]), (i, key)
    spec = {"kind": "line", "category": "Date", "values": ["Units", "Amount"], "title": "Daily"}
    orc, _ = orc_with(json.dumps(spec))
    out = (
        await orc.invoke("spreadsheet.chart", path=str(path), request="units and amount over time")
    ).value.output
    pdf = convert(Path(out), "pdf", tmp_path / "pdf")
    assert pdf.stat().st_size > 1000


async def test_ask_answers_with_the_formula_that_computed_it(sales, orc_with, tmp_path: Path):
    path, rows = sales
    orc, _ = orc_with(formula_reply('=AVERAGEIFS(D2:D41,B2:B41,"East")', "Average Units for East"))
    before = path.read_bytes()
    v = (
        await orc.invoke("spreadsheet.ask", path=str(path), question="What is the average units for East?")
    ).value
    want = sum(r["Units"] for r in rows if r["Region"] == "East") / 10
    assert v.ok and v.value == pytest.approx(want) and v.expected == pytest.approx(want)
    assert v.formula in v.answer and "Cross-checked" in v.answer
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["sales.xlsx"]


async def test_ask_rejects_a_wrong_answer_and_says_so(sales, orc_with):
    path, _ = sales
    orc, _ = orc_with(formula_reply("=SUM(D2:D20)"), formula_reply("=SUM(D3:D41)"))
    v = (await orc.invoke("spreadsheet.ask", path=str(path), question="total units")).value
    assert not v.ok and v.value is None and len(v.attempts) == 3
    assert "No formula computed a checked answer" in v.answer
