"""The pieces under the skills: the evaluator, reference handling, request checks, registration."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import openpyxl.chart
import pytest

from dualtrack import Orchestrator
from dualtrack.plugins.spreadsheet._checks import infer_check
from dualtrack.plugins.spreadsheet._evaluator import check_syntax, compute
from dualtrack.plugins.spreadsheet._refs import bounded, formula_refs, translate
from dualtrack.plugins.spreadsheet._table import read_table


def _book() -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Bob's Data"
    ws.append(["Name", "Qty", "Price"])
    for i, (n, q, p) in enumerate([("a", 2, 1.5), ("b", 3, 2.0), ("c", 5, 4.0)], 2):
        ws.append([n, q, p])
        ws[f"D{i}"] = f"=B{i}*C{i}"
    other = wb.create_sheet("Other Sheet")
    other["A1"] = "='Bob''s Data'!B2+1"
    wb.defined_names["Quantities"] = openpyxl.workbook.defined_name.DefinedName(
        "Quantities", attr_text="'Bob''s Data'!$B$2:$B$4"
    )
    return wb


def test_evaluator_handles_quoted_sheet_names_whole_columns_names_and_errors():
    wb = _book()
    before = [[c.value for c in row] for row in wb["Bob's Data"].iter_rows()]
    cells = [("Other Sheet", c) for c in ["A1", "B1", "B2", "B3", "B4", "B5"]]
    got = compute(
        wb,
        cells,
        {
            ("Other Sheet", "B1"): "=SUM('Bob''s Data'!D:D)",
            ("Other Sheet", "B2"): "=SUM(Quantities)",
            ("Other Sheet", "B3"): "=1/0",
            ("Other Sheet", "B4"): "=VLOOKUP(\"b\",'Bob''s Data'!A2:C4,3,FALSE)",
            ("Other Sheet", "B5"): "=\"n=\"&COUNTA('Bob''s Data'!A:A)",
        },
    )
    assert got[("Other Sheet", "A1")].value == 3
    assert got[("Other Sheet", "B1")].value == pytest.approx(2 * 1.5 + 3 * 2 + 5 * 4)
    assert got[("Other Sheet", "B2")].value == 10
    assert got[("Other Sheet", "B3")].error == "#DIV/0!" and not got[("Other Sheet", "B3")].ok
    assert got[("Other Sheet", "B4")].value == 2.0
    assert got[("Other Sheet", "B5")].value == "n=4"
    # the workbook itself is untouched: candidates live only in the temporary copy
    assert [[c.value for c in row] for row in wb["Bob's Data"].iter_rows()] == before
    assert wb["Other Sheet"]["B1"].value is None


def test_check_syntax_reports_parser_errors():
    assert check_syntax("=SUM(A1:A3)") is None
    assert "cannot parse" in (check_syntax("=SUM(A1:A3") or "")
    assert check_syntax("SUM(A1)") == "a formula must start with '='"


def test_references_are_found_bounded_and_translated():
    refs = formula_refs("=SUMIFS('Bob''s Data'!$D:$D,B2:B9,\"x\")+Quantities", "Sheet1")
    assert [(r.sheet, r.min_col, r.min_row, r.max_col, r.max_row, r.name) for r in refs] == [
        ("Bob's Data", 4, None, 4, None, None),
        ("Sheet1", 2, 2, 2, 9, None),
        ("Sheet1", None, None, None, None, "Quantities"),
    ]
    assert refs[0].contains("bob's data", 4, 100) and not refs[1].contains("Sheet1", 2, 10)
    assert bounded("'Bob''s Data'!$D:$D", lambda s: (50, 4)) == "'Bob''s Data'!$D$1:$D$50"
    assert bounded("3:3", lambda s: (50, 4)) == "$A3:$D3"
    assert translate("=B2*$C$1+SUM(B$2:B2)", "E2", "E7") == "=B7*$C$1+SUM(B$2:B7)"


def test_read_table_computes_formulas_without_cached_values(tmp_path: Path):
    wb = _book()
    wb.save(tmp_path / "b.xlsx")
    f, v = (
        openpyxl.load_workbook(tmp_path / "b.xlsx"),
        openpyxl.load_workbook(tmp_path / "b.xlsx", data_only=True),
    )
    table = read_table(f, v, "bob's data")
    assert table.sheet == "Bob's Data" and table.block.ref == "A1:D4" and table.computed == 3
    assert [c.name for c in table.columns] == ["Name", "Qty", "Price", "D"]
    assert table.values[4] == [3.0, 6.0, 20.0] and table.columns[3].kind == "integer"
    assert table.range_ref(table.column("price"), sheet=True) == "'Bob''s Data'!$C$2:$C$4"


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        ("total amount for North", "sum of 'Amount' where 'Region' = 'North'"),
        ("What is the average Units?", "average of 'Units'"),
        ("how many sales in the South region", "count of rows where 'Region' = 'South'"),
        ("count orders with amount over 500", "count of rows where 'Amount' > 500.0"),
        ("lowest price for Gizmo", "min of 'Price' where 'Product' = 'Gizmo'"),
        ("sum of units above 10", "sum of 'Units' where 'Units' > 10.0"),
        ("total amount per region", None),  # a grouping, not one value
        ("total amount for North or South", None),
        ("average amount in March", None),  # dates are not checked
        ("amount as a percentage of the total", None),
        ("total of units and amount", None),  # two columns
        ("show me a Widget", None),  # no aggregate
        ("total amount in 2024", None),  # a number the reader does not model
        ("sum of units for product 3", None),
    ],
)
def test_infer_check_reads_only_plain_requests(sales, request_: str, expected: str | None):
    path, _ = sales
    wb, wbv = openpyxl.load_workbook(path), openpyxl.load_workbook(path, data_only=True)
    table = read_table(wb, wbv, None)
    check = infer_check(request_, table)
    assert (check.describe() if check else None) == expected


def test_plugin_registers_through_the_entry_point_with_honest_tags():
    orc = Orchestrator(plugins=["spreadsheet"])
    skills = {s["name"]: s for s in orc.manifest()["plugins"][0]["skills"]}
    assert set(skills) == {
        f"spreadsheet.{n}"
        for n in [
            "profile",
            "formula",
            "explain_formula",
            "add_column",
            "highlight",
            "chart",
            "summarize",
            "ask",
        ]
    }
    writes = {n for n, s in skills.items() if s["effects"] == "write"}
    assert writes == {
        f"spreadsheet.{n}" for n in ["formula", "add_column", "highlight", "chart", "summarize"]
    }
    assert skills["spreadsheet.profile"]["requires"] == []
    assert skills["spreadsheet.formula"]["requires"] == ["json"]
    params = skills["spreadsheet.add_column"]["parameters"]["properties"]
    assert params["mode"]["enum"] == ["auto", "formula", "model"] if "enum" in params["mode"] else True
    assert all(p.get("description") for p in params.values())


def test_importing_the_plugin_does_not_import_the_evaluator():
    import subprocess
    import sys

    code = "import sys; import dualtrack.plugins.spreadsheet; print('formulas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def _load(path: Path):
    return openpyxl.load_workbook(path), openpyxl.load_workbook(path, data_only=True)


def test_totals_row_below_the_data_is_not_data(tmp_path: Path, orc_with):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Item", "Cost"])
    for i in range(1, 6):
        ws.append([f"item {i}", i * 10])
    ws.append(["Total", "=SUM(B2:B6)"])
    wb.save(tmp_path / "t.xlsx")
    table = read_table(*_load(tmp_path / "t.xlsx"), None)
    assert (table.first_row, table.last_row, table.totals_row) == (2, 6, 7)
    assert "row 7 holds totals" in table.describe()
    check = infer_check("total cost", table)
    assert check is not None and check.expected(table) == 150


async def test_a_blank_row_inside_the_data_does_not_split_the_table(tmp_path: Path, orc_with):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Region", "Amount"])
    for r in [("North", 1), ("South", 2), None, ("North", 4), ("East", 8)]:
        ws.append(list(r) if r else [])
    ws["A9"] = "Prepared by finance"
    wb.save(tmp_path / "gap.xlsx")
    table = read_table(*_load(tmp_path / "gap.xlsx"), None)
    assert table.block.ref == "A1:B6"
    orc, _ = orc_with(json.dumps({"formula": '=SUMIFS(B2:B6,A2:A6,"North")', "explanation": "x"}))
    v = (
        await orc.invoke(
            "spreadsheet.formula", path=str(tmp_path / "gap.xlsx"), request="total amount for North"
        )
    ).value
    assert v.ok and v.value == 5 and v.expected == 5


def test_a_chart_sheet_as_the_active_sheet_is_skipped(sales):
    path, _ = sales
    wb = openpyxl.load_workbook(path)
    cs = wb.create_chartsheet("Chart")
    chart = openpyxl.chart.BarChart()
    chart.add_data(
        openpyxl.chart.Reference(wb["Sales"], min_col=4, min_row=1, max_row=41), titles_from_data=True
    )
    cs.add_chart(chart)
    wb.active = wb.sheetnames.index("Chart")
    wb.save(path)
    assert wb.active is cs
    table = read_table(*_load(path), None)
    assert table.sheet == "Sales" and table.last_row == 41


@pytest.mark.parametrize("book", ["sales", "grades", "inventory"])
def test_fast_calculator_agrees_with_the_whole_workbook_evaluator(book: str, request: pytest.FixtureRequest):
    from dualtrack.plugins.spreadsheet._fastcalc import FastCalc, Unsupported

    from .test_formula import CASES

    path, _ = request.getfixturevalue(book)
    wb, wbv = _load(path)
    calc = FastCalc(wb, wbv)
    sheet = wb.active.title
    formulas = [c[2] for c in CASES if c[0] == book] + ["=SUM(C:C)", '=COUNTA(A:A)&"x"', "=IFERROR(1/0,-1)"]
    assignments = {(sheet, f"Z{i}"): f for i, f in enumerate(formulas, 1)}
    slow = compute(wb, list(assignments), assignments)
    for (s, coord), f in assignments.items():
        try:
            fast = calc.evaluate(f, s, coord)
        except Unsupported as exc:  # pragma: no cover - shows which formula fell back
            pytest.fail(f"{f} fell back: {exc}")
        assert fast.error == slow[(s, coord)].error
        assert (
            fast.value == pytest.approx(slow[(s, coord)].value)
            if isinstance(fast.value, float)
            else (fast.value == slow[(s, coord)].value)
        ), f
    # uncached formula cells are computed in dependency order (Passed reads Average)
    if book == "grades":
        assert calc.cell_value(sheet, 2, 7) == compute(wb, [(sheet, "G2")])[(sheet, "G2")].value


def test_positional_formulas_fall_back_to_the_whole_workbook_evaluator(sales):
    from dualtrack.plugins.spreadsheet._fastcalc import FastCalc, Unsupported, compute_with

    path, _ = sales
    wb, wbv = _load(path)
    calc = FastCalc(wb, wbv)
    with pytest.raises(Unsupported):
        calc.evaluate("=ROW()*2", "Sales", "H5")
    assert (
        compute_with(calc, wb, [("Sales", "H5")], {("Sales", "H5"): "=ROW()*2"})[("Sales", "H5")].value == 10
    )


def test_missing_formulas_package_names_the_extra_to_install(monkeypatch: pytest.MonkeyPatch):
    import sys

    from dualtrack import UserError
    from dualtrack.plugins.spreadsheet import _evaluator

    _evaluator.load_formulas.cache_clear()
    monkeypatch.setitem(sys.modules, "formulas", None)
    try:
        with pytest.raises(UserError, match=r"pip install 'dualtrack\[spreadsheet\]'"):
            _evaluator.load_formulas()
    finally:
        monkeypatch.undo()
        _evaluator.load_formulas.cache_clear()
    assert _evaluator.load_formulas() is sys.modules["formulas"]
