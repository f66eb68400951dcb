"""Natural-language formulas with known answers: computed by the evaluator, agreed by LibreOffice."""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from dualtrack import Orchestrator, UserError, tags
from dualtrack.plugins.spreadsheet import SpreadsheetPlugin
from dualtrack.testing import ScriptedConnector, model_card
from tests.office import requires_soffice

from .conftest import formula_reply, lo_recalculated

Rows = list[dict[str, Any]]


def _sum(rows: Rows, col: str, **where: Any) -> float:
    return math.fsum(r[col] for r in rows if all(r[k] == v for k, v in where.items()) and r[col] is not None)


def _avg(rows: Rows, col: str, **where: Any) -> float:
    vals = [r[col] for r in rows if all(r[k] == v for k, v in where.items())]
    return math.fsum(vals) / len(vals)


# (workbook, request, the formula the scripted model returns, expected value from the data, checked)
CASES: list[tuple[str, str, str, Callable[[Rows], float], bool]] = [
    (
        "sales",
        "total amount for North",
        '=SUMIFS(F2:F41,B2:B41,"North")',
        lambda d: _sum(d, "Amount", Region="North"),
        True,
    ),
    ("sales", "average units", "=AVERAGE(D2:D41)", lambda d: _avg(d, "Units"), True),
    (
        "sales",
        "how many sales in the South region",
        '=COUNTIF(B2:B41,"South")',
        lambda d: sum(r["Region"] == "South" for r in d),
        True,
    ),
    ("sales", "largest price", "=MAX(E2:E41)", lambda d: max(r["Price"] for r in d), True),
    (
        "sales",
        "sum of units for Gadget in the West",
        '=SUMIFS(D2:D41,C2:C41,"Gadget",B2:B41,"West")',
        lambda d: _sum(d, "Units", Product="Gadget", Region="West"),
        True,
    ),
    (
        "budget",
        "total Q3 for Marketing",
        "=SUMIFS('Budget 2024'!E2:E16,'Budget 2024'!A2:A16,\"Marketing\")",
        lambda d: _sum(d, "Q3", Department="Marketing"),
        True,
    ),
    ("budget", "highest Total", "=MAX(G2:G16)", lambda d: max(r["Total"] for r in d), True),
    (
        "budget",
        "Travel spending over the whole year",
        '=SUMIFS(G2:G16,B2:B16,"Travel")',
        lambda d: _sum(d, "Total", Category="Travel"),
        False,
    ),
    (
        "grades",
        "average Math score for class B",
        '=AVERAGEIFS(C2:C13,B2:B13,"B")',
        lambda d: _avg(d, "Math", Class="B"),
        True,
    ),
    ("grades", "best average of a student", "=MAX(F2:F13)", lambda d: max(r["Average"] for r in d), False),
    (
        "grades",
        "how many passed",
        '=COUNTIF(G2:G13,"yes")',
        lambda d: sum(r["Passed"] == "yes" for r in d),
        False,
    ),
    (
        "inventory",
        "how many rows have stock below 10",
        '=COUNTIF(D4:D13,"<10")',
        lambda d: sum(1 for r in d if r["Stock"] is not None and r["Stock"] < 10),
        True,
    ),
    ("inventory", "minimum unit cost", "=MIN(F4:F13)", lambda d: min(r["Unit Cost"] for r in d), True),
    (
        "inventory",
        "total stock in Tools",
        '=SUMIFS(D4:D13,C4:C13,"Tools")',
        lambda d: _sum(d, "Stock", Category="Tools"),
        True,
    ),
]


@pytest.mark.parametrize(
    ("book", "request_", "formula", "expected", "checked"), CASES, ids=[c[1] for c in CASES]
)
async def test_known_answers_compute_the_expected_value(
    book: str,
    request_: str,
    formula: str,
    expected: Callable[[Rows], float],
    checked: bool,
    request: pytest.FixtureRequest,
    orc_with,
):
    path, rows = request.getfixturevalue(book)
    orc, conn = orc_with(formula_reply(formula))
    res = await orc.invoke("spreadsheet.formula", path=str(path), request=request_)
    v = res.value
    assert v.ok, v.attempts
    assert v.formula == formula
    assert v.value == pytest.approx(expected(rows))
    assert (v.check is not None) == checked
    if checked:
        assert v.expected == pytest.approx(expected(rows))
    out = openpyxl.load_workbook(v.output)
    assert out[v.sheet][v.target].value == formula
    assert out[v.sheet][v.target].data_type == "f"
    assert "Write one Excel formula" in conn.prompts[0]
    assert len(v.attempts) == 1 and v.attempts[0].model == "scripted"


@requires_soffice
@pytest.mark.parametrize("book", ["sales", "budget", "grades", "inventory"])
async def test_libreoffice_recalculation_agrees_with_the_evaluator(
    book: str, request: pytest.FixtureRequest, tmp_path: Path, orc_with
):
    path, rows = request.getfixturevalue(book)
    work = tmp_path / "work" / path.name
    work.parent.mkdir()
    shutil.copyfile(path, work)
    ours: dict[str, Any] = {}
    sheet = None
    cases = [c for c in CASES if c[0] == book]
    for i, (_, req, formula, expected, _) in enumerate(cases):
        orc, _ = orc_with(formula_reply(formula))
        target = f"K{2 + i}"
        res = await orc.invoke(
            "spreadsheet.formula", path=str(work), request=req, target=target, in_place=True
        )
        assert res.value.ok, res.value.attempts
        ours[target] = (res.value.value, expected(rows))
        sheet = res.value.sheet
    stale = openpyxl.load_workbook(work, data_only=True)[sheet]
    assert all(stale[t].value is None for t in ours)  # no cached values: LibreOffice has to compute them
    recalculated = lo_recalculated(work, tmp_path / "lo")
    for target, (value, want) in ours.items():
        lo_value = recalculated[sheet][target].value
        assert lo_value == pytest.approx(value), (target, lo_value, value)
        assert value == pytest.approx(want)


def _two_models() -> tuple[Orchestrator, ScriptedConnector, ScriptedConnector]:
    small = ScriptedConnector(
        [formula_reply('=SUMIFS(F2:F41,B2:B41,"South")'), formula_reply("=SUM(F2:F10)")]
    )
    big = ScriptedConnector(
        [formula_reply('=SUMIFS(F2:F41,B2:B41,"North")', "Sums Amount where Region is North")]
    )
    cards = [
        model_card(small, name="small", capabilities=frozenset({tags.CHAT, tags.JSON})),
        model_card(big, name="big", cost_input=10.0, cost_output=30.0),
    ]
    return Orchestrator(models=cards, plugins=[SpreadsheetPlugin]), small, big


async def test_wrong_formula_is_fed_back_then_escalated_to_a_reasoning_model(sales):
    path, rows = sales
    orc, small, big = _two_models()
    res = await orc.invoke("spreadsheet.formula", path=str(path), request="total amount for North")
    v = res.value
    assert v.ok and v.value == pytest.approx(_sum(rows, "Amount", Region="North"))
    assert [(a.model, a.ok, a.escalated) for a in v.attempts] == [
        ("small", False, False),
        ("small", False, False),
        ("big", True, True),
    ]
    assert all(
        "does not match the sum of 'Amount' where 'Region' = 'North'" in a.error for a in v.attempts[:2]
    )
    # the second request carried the first failure back to the model
    assert "failed" in small.prompts[1] and '"South"' in small.prompts[1]
    # the escalated call required the reasoning tag and excluded the model already tried
    last = res.decisions[-1]
    assert tags.REASONING in last.requirements.requires
    assert "small" in last.requirements.exclude
    assert big.calls and "Earlier formulas" in big.prompts[0]
    small.assert_complete()
    big.assert_complete()


async def test_when_nothing_validates_nothing_is_written(sales, tmp_path: Path, orc_with):
    path, _ = sales
    before = sorted(p.name for p in tmp_path.iterdir())
    orc, _ = orc_with(formula_reply("=1234"), formula_reply("=SUM(Z2:Z41"))
    res = await orc.invoke("spreadsheet.formula", path=str(path), request="total amount for North")
    v = res.value
    assert not v.ok and v.output is None
    assert [a.ok for a in v.attempts] == [False, False, False]
    assert "no cell references" in v.attempts[0].error
    assert "cannot parse" in v.attempts[1].error
    assert v.attempts[2].escalated and "no stronger model" in v.attempts[2].error
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize(
    ("formula", "error"),
    [
        ("=SUM(H1:H5)", "circular"),
        ("=SUM(Nowhere!A1:A3)", "does not exist"),
        ("=1/0+D2", "#DIV/0!"),
        ("=NOSUCHFUNCTION(D2)", "#NAME?"),
        ("=D1", "does not match the sum"),
    ],
)
async def test_bad_formulas_are_rejected_with_a_reason(formula: str, error: str, sales, orc_with):
    path, _ = sales
    good = "=SUM(D2:D41)"
    orc, conn = orc_with(formula_reply(formula), formula_reply(good))
    res = await orc.invoke("spreadsheet.formula", path=str(path), request="sum of units", target="H2")
    v = res.value
    assert v.ok and v.formula == good
    assert error in v.attempts[0].error and not v.attempts[0].ok
    assert error in conn.prompts[1]


async def test_default_target_sits_beside_the_table_with_a_text_label(sales, orc_with):
    path, _ = sales
    orc, _ = orc_with(formula_reply("=SUM(D2:D41)"))
    req = '=HYPERLINK("http://x") sum of units'
    res = await orc.invoke("spreadsheet.formula", path=str(path), request=req)
    v = res.value
    assert (v.sheet, v.target) == ("Sales", "H2")
    ws = openpyxl.load_workbook(v.output)["Sales"]
    assert ws["H1"].value == req[:80] and ws["H1"].data_type == "s" and ws["H1"].quotePrefix
    assert ws["G2"].value is None


async def test_formula_reply_without_equals_sign_or_with_fences_is_normalised(sales, orc_with):
    path, _ = sales
    orc, _ = orc_with(json.dumps({"formula": "`SUM(D2:D41)`", "explanation": "x"}))
    res = await orc.invoke("spreadsheet.formula", path=str(path), request="sum of units", target="H2")
    assert res.value.ok and res.value.formula == "=SUM(D2:D41)"


async def test_formula_for_a_whole_column_writes_one_checked_formula_per_row(sales, orc_with):
    path, rows = sales
    orc, conn = orc_with(formula_reply("=D2*E2*2"))
    res = await orc.invoke("spreadsheet.formula", path=str(path), request="double the amount", target="H:H")
    v = res.value
    assert v.ok and v.target == "H2:H41" and v.formula == "=D2*E2*2"
    assert v.value == pytest.approx([2 * rows[0]["Amount"], 2 * rows[19]["Amount"], 2 * rows[39]["Amount"]])
    assert "copied down to row 41" in conn.prompts[0]
    ws = openpyxl.load_workbook(v.output)["Sales"]
    assert ws["H1"].value == "double the amount" and ws["H41"].value == "=D41*E41*2"


async def test_formula_for_a_column_that_holds_data_is_refused(sales, orc_with):
    path, _ = sales
    orc, conn = orc_with(formula_reply("=D2*2"))
    with pytest.raises(UserError, match="holds data"):
        await orc.invoke("spreadsheet.formula", path=str(path), request="double units", target="Sales!D")
    assert conn.calls == []
