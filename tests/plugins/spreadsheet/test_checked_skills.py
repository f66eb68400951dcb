"""Spreadsheet skills check their model's replies: a failing reply escalates to the next model."""

from __future__ import annotations

import json

import openpyxl
import pytest

from dualtrack import CheckFailedError, Orchestrator
from dualtrack.plugins.spreadsheet import SpreadsheetPlugin
from dualtrack.testing import ScriptedConnector, model_card

LOOP = " ".join(["average"] * 12)


def two_models(small: list[str], big: list[str]) -> tuple[Orchestrator, ScriptedConnector, ScriptedConnector]:
    first, second = ScriptedConnector(small), ScriptedConnector(big)
    orc = Orchestrator(
        models=[
            model_card(first, name="small", cost_input=0.0),
            model_card(second, name="big", cost_input=5.0),
        ],
        plugins=[SpreadsheetPlugin],
    )
    return orc, first, second


def escalated(res, reason: str) -> bool:  # type: ignore[no-untyped-def]
    text = res.explain()
    return f"small: rejected by check {reason}" in text and "→ big: passed" in text


async def test_explain_formula_escalates_from_a_looping_explanation(grades) -> None:
    path, _ = grades
    good = "It says yes when the average mark is at least 60."
    orc, small, big = two_models([LOOP, LOOP], [good])
    res = await orc.invoke("spreadsheet.explain_formula", path=str(path), cell="G3")
    assert res.value.explanation == good and escalated(res, "repetition ('average' \u00d712)")
    small.assert_complete()
    big.assert_complete()


async def test_explain_formula_raises_when_no_explanation_passes(grades) -> None:
    path, _ = grades
    orc, _, _ = two_models([LOOP, LOOP], [LOOP, LOOP])
    with pytest.raises(CheckFailedError, match="repetition"):
        await orc.invoke("spreadsheet.explain_formula", path=str(path), cell="G3")


async def test_summary_plan_escalates_from_a_column_the_table_lacks(budget) -> None:
    path, _ = budget
    wrong = json.dumps({"group_by": "Dept", "values": ["Total"], "functions": ["sum"]})
    good = json.dumps({"group_by": "Department", "values": ["Total"], "functions": ["sum"]})
    orc, small, big = two_models([wrong, wrong], [good])
    res = await orc.invoke("spreadsheet.summarize", path=str(path), request="total per department")
    assert res.value.ok and res.value.group_by == "Department"
    assert escalated(res, "columns (sheet")
    small.assert_complete()
    big.assert_complete()


async def test_chart_escalates_from_a_looping_title(sales) -> None:
    path, _ = sales
    spec = {"kind": "bar", "category": "Region", "values": ["Amount"]}
    loop, good = json.dumps({**spec, "title": LOOP}), json.dumps({**spec, "title": "Amount by region"})
    orc, small, big = two_models([loop, loop], [good])
    res = await orc.invoke("spreadsheet.chart", path=str(path), request="amount by region")
    assert res.value.title == "Amount by region" and escalated(res, "repetition")
    small.assert_complete()
    big.assert_complete()


async def test_highlight_escalates_from_a_column_the_table_lacks(sales) -> None:
    path, _ = sales
    rule = {"operator": "greater_than", "value": 5, "whole_row": True, "color": "red"}
    wrong, good = json.dumps({**rule, "column": "Ammount"}), json.dumps({**rule, "column": "Amount"})
    orc, small, big = two_models([wrong, wrong], [good])
    res = await orc.invoke("spreadsheet.highlight", path=str(path), request="big amounts")
    assert res.value.matching_rows > 0 and escalated(res, "columns (sheet 'Sales' has no column 'Ammount'")
    small.assert_complete()
    big.assert_complete()


async def test_model_column_escalates_from_looping_values_and_leaves_cells_empty_when_none_pass(
    feedback,
) -> None:
    path, _ = feedback
    args = {"instruction": "sentiment", "mode": "model", "source_columns": ["Comment"], "batch_size": 50}

    def values(value: str) -> str:
        return json.dumps({"values": [{"row": 2, "value": value}]})

    orc, small, big = two_models([values(LOOP), values(LOOP)], [values("positive")])
    res = await orc.invoke("spreadsheet.add_column", path=str(path), **args)
    assert res.value.rows_filled == 1 and escalated(res, "repetition")
    small.assert_complete()
    big.assert_complete()
    orc, _, _ = two_models([values(LOOP), values(LOOP)], [values(LOOP), values(LOOP)])
    res = await orc.invoke(
        "spreadsheet.add_column", path=str(path), output=str(path.with_name("o.xlsx")), **args
    )
    assert res.value.rows_filled == 0 and any("no reply passed the checks" in w for w in res.value.warnings)
    ws = openpyxl.load_workbook(res.value.output)["Feedback"]
    assert ws.cell(2, openpyxl.utils.column_index_from_string(res.value.column)).value is None


async def test_column_plan_escalates_from_a_looping_explanation(sales) -> None:
    path, _ = sales
    plan = {"kind": "formula", "formula": "=D2*E2", "header": "Check"}
    loop, good = (
        json.dumps({**plan, "explanation": LOOP}),
        json.dumps({**plan, "explanation": "Units times price."}),
    )
    orc, small, big = two_models([loop, loop], [good])
    res = await orc.invoke("spreadsheet.add_column", path=str(path), instruction="units times price")
    assert res.value.ok and res.value.formula == "=D2*E2" and escalated(res, "repetition")
    small.assert_complete()
    big.assert_complete()
