"""``add_column`` (formula and model modes), ``explain_formula`` and formula-injection safety."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from dualtrack import UserError
from dualtrack.plugins.spreadsheet._cells import write_value
from tests.office import requires_soffice

from .conftest import formula_reply, lo_recalculated

INJECTIONS = [
    '=HYPERLINK("http://evil.example","click")',
    "=cmd|' /C calc'!A0",
    "+SUM(1,2)",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
]


def _plan(kind: str, formula: str = "", header: str = "") -> str:
    return json.dumps({"kind": kind, "formula": formula, "header": header, "explanation": "x"})


def _values(rows: list[tuple[int, object]]) -> str:
    return json.dumps({"values": [{"row": r, "value": v} for r, v in rows]})


@pytest.mark.parametrize("text", INJECTIONS)
def test_write_value_stores_formula_like_text_as_text(text: str, tmp_path: Path):
    wb = openpyxl.Workbook()
    write_value(wb.active["A1"], text)
    wb.save(tmp_path / "x.xlsx")
    cell = openpyxl.load_workbook(tmp_path / "x.xlsx").active["A1"]
    assert cell.data_type == "s" and cell.value == text and cell.quotePrefix


async def test_model_column_writes_injection_strings_as_text_in_few_calls(feedback, orc_with, tmp_path: Path):
    path, _ = feedback
    answers = [(r, INJECTIONS[i]) for i, r in enumerate(range(2, 7))]
    orc, conn = orc_with(_values(answers[:3]), _values(answers[3:]))
    res = await orc.invoke(
        "spreadsheet.add_column",
        path=str(path),
        instruction="classify the sentiment of Comment",
        mode="model",
        source_columns=["Comment"],
        batch_size=3,
        header="Sentiment",
    )
    v = res.value
    assert v.ok and v.mode == "model" and v.model_calls == 2 and v.rows_filled == 5 and v.column == "E"
    conn.assert_complete()
    assert (
        '"row": 2' in conn.prompts[0] and "Great service" in conn.prompts[0] and "Acme" not in conn.prompts[0]
    )
    ws = openpyxl.load_workbook(v.output)["Feedback"]
    assert ws["E1"].value == "Sentiment"
    for r, text in answers:
        cell = ws.cell(r, 5)
        assert cell.value == text and cell.data_type == "s", (r, cell.value, cell.data_type)
    assert not any(c.data_type == "f" for row in ws.iter_rows() for c in row)


async def test_model_column_reports_rows_the_model_skipped(feedback, orc_with):
    path, _ = feedback
    orc, _ = orc_with(_values([(2, "positive"), (3, "negative"), (99, "ignored")]))
    res = await orc.invoke(
        "spreadsheet.add_column",
        path=str(path),
        instruction="sentiment",
        mode="model",
        source_columns=["Comment"],
        batch_size=20,
    )
    v = res.value
    assert (v.rows_filled, v.rows_missing, v.model_calls) == (2, 3, 1)
    assert any("no answer for 3 row(s)" in w for w in v.warnings)
    ws = openpyxl.load_workbook(v.output)["Feedback"]
    assert ws["E4"].value is None and ws["E2"].value == "positive"


async def test_auto_mode_formula_column_is_validated_and_copied_down(sales, orc_with):
    path, rows = sales
    orc, conn = orc_with(_plan("formula", "=D2*E2*1.2", "Gross"))
    res = await orc.invoke("spreadsheet.add_column", path=str(path), instruction="amount with 20% tax")
    v = res.value
    assert v.ok and v.mode == "formula" and v.header == "Gross" and v.column == "G"
    assert len(conn.calls) == 1 and v.rows_filled == 40
    assert v.sample == pytest.approx(
        [rows[0]["Amount"] * 1.2, rows[19]["Amount"] * 1.2, rows[39]["Amount"] * 1.2]
    )
    ws = openpyxl.load_workbook(v.output)["Sales"]
    assert ws["G1"].value == "Gross"
    assert ws["G2"].value == "=D2*E2*1.2" and ws["G41"].value == "=D41*E41*1.2"


async def test_formula_column_with_absolute_refs_is_sent_back(sales, orc_with):
    path, _ = sales
    orc, conn = orc_with(formula_reply("=$D$2*$E$2"), formula_reply("=D2*E2"))
    res = await orc.invoke(
        "spreadsheet.add_column",
        path=str(path),
        instruction="units times price",
        mode="formula",
        header="Check",
    )
    v = res.value
    assert v.ok and v.formula == "=D2*E2"
    assert "absolute" in v.attempts[0].error and "absolute" in conn.prompts[1]


async def test_formula_column_referring_to_itself_is_rejected(sales, orc_with):
    path, _ = sales
    orc, _ = orc_with(formula_reply("=G2+D2"), formula_reply("=D2+1"))
    res = await orc.invoke(
        "spreadsheet.add_column", path=str(path), instruction="units plus one", mode="formula"
    )
    assert res.value.ok and "circular" in res.value.attempts[0].error


@requires_soffice
async def test_formula_column_values_agree_with_libreoffice(grades, orc_with, tmp_path: Path):
    path, rows = grades
    orc, _ = orc_with(formula_reply("=MAX(C2:E2)-MIN(C2:E2)"))
    res = await orc.invoke(
        "spreadsheet.add_column",
        path=str(path),
        instruction="spread between best and worst subject",
        mode="formula",
        header="Spread",
    )
    ws = lo_recalculated(Path(res.value.output), tmp_path / "lo")["Bob's Grades"]
    for i, r in enumerate(rows, 2):
        marks = [r["Math"], r["Science"], r["English"]]
        assert ws.cell(i, 8).value == max(marks) - min(marks)
    assert res.value.sample[0] == pytest.approx(ws["H2"].value)


async def test_explain_formula_lists_precedents_with_headers(grades, orc_with):
    path, rows = grades
    orc, conn = orc_with("It averages the three subject marks of the student on this row.")
    res = await orc.invoke("spreadsheet.explain_formula", path=str(path), cell="G3")
    v = res.value
    assert v.formula == '=IF(F3>=60,"yes","no")' and v.functions == ["IF"]
    assert v.value == rows[1]["Passed"]  # computed: openpyxl wrote no cached value
    assert [(p.ref, p.header) for p in v.precedents] == [("'Bob''s Grades'!F3", "Average")]
    assert "F3" in conn.prompts[0] and "Average" in conn.prompts[0]
    v2 = (
        await orc_with("Averages C2 to E2.")[0].invoke(
            "spreadsheet.explain_formula", path=str(path), cell="'Bob''s Grades'!F2"
        )
    ).value
    assert v2.functions == ["AVERAGE"] and v2.precedents[0].cells == 3
    assert v2.precedents[0].sample == [rows[0]["Math"], rows[0]["Science"], rows[0]["English"]]


async def test_explain_formula_on_a_value_cell_says_so(sales, orc_with):
    path, _ = sales
    orc, conn = orc_with("unused")
    with pytest.raises(UserError, match="not a formula"):
        await orc.invoke("spreadsheet.explain_formula", path=str(path), cell="D2")
    assert conn.calls == []
