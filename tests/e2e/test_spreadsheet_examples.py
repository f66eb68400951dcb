"""The spreadsheet examples run end to end with a scripted model, on the workbook they create."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType

import openpyxl
import pytest

from dualtrack import CompletionRequest, Orchestrator
from dualtrack.plugins.spreadsheet import SpreadsheetPlugin
from dualtrack.testing import FunctionConnector, model_card
from tests.office import convert, requires_soffice

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _formula(f: str, why: str) -> str:
    return json.dumps({"formula": f, "explanation": why})


def reply(request: CompletionRequest) -> str:
    """Answer each kind of spreadsheet request as a capable model would."""
    prompt = request.messages[-1].content
    system = request.messages[0].content if request.messages[0].role == "system" else ""
    rows = re.search(r"data rows (\d+)-(\d+)", prompt)
    first, last = (rows.group(1), rows.group(2)) if rows else ("2", "61")
    if "You explain spreadsheet formulas" in system:
        return "Amount is the number of units sold multiplied by the unit price of that order."
    if "Task for each row" in prompt:
        batch = json.loads(prompt.split("<rows>\n", 1)[1].split("\n</rows>", 1)[0])  # the data block
        good = ("fast", "great", "perfectly", "thank")
        bad = ("broken", "does not match", "waiting", "stopped")

        def mood(text: str) -> str:
            low = text.lower()
            return (
                "positive"
                if any(w in low for w in good)
                else "negative"
                if any(w in low for w in bad)
                else "neutral"
            )

        return json.dumps({"values": [{"row": r["row"], "value": mood(r["Comment"])} for r in batch]})
    if "A new column is to be added" in prompt:
        return json.dumps({"kind": "formula", "formula": f"=G{first}*1.2", "header": "Amount incl. VAT",
                           "explanation": "Amount times 1.2"})  # fmt: skip
    if "Question:" in prompt:
        return _formula(
            f'=AVERAGEIFS(G{first}:G{last},B{first}:B{last},"South")', "the average Amount of South orders"
        )
    if "Write one Excel formula for cell" in prompt:
        return _formula(
            f'=SUMIFS(G{first}:G{last},B{first}:B{last},"North")', "adds Amount where Region is North"
        )
    if "Plan a group-by summary" in prompt:
        return json.dumps(
            {"group_by": "Region", "values": ["Amount"], "functions": ["sum", "average", "count"]}
        )
    if "Describe the chart" in prompt:
        return json.dumps({"kind": "bar", "category": "Region", "values": ["Amount"], "title": "Amount by region",
                           "y_title": "Amount (EUR)"})  # fmt: skip
    if "conditional-formatting rule" in prompt:
        return json.dumps({"column": "Reply due", "operator": "formula", "formula": f'=AND($C{first}<TODAY(),$D{first}="Open")',
                           "color": "red", "whole_row": True, "description": "overdue open items"})  # fmt: skip
    raise AssertionError(f"unexpected request: {prompt[:200]}")


def orchestrator() -> tuple[Orchestrator, FunctionConnector]:
    conn = FunctionConnector(reply)
    return Orchestrator(models=[model_card(conn, name="sheets-model")], plugins=[SpreadsheetPlugin]), conn


def _sales(workdir: Path) -> list[dict[str, object]]:
    wb = openpyxl.load_workbook(workdir / "sales.xlsx")
    ws = wb["Sales"]
    return [
        {"Region": ws.cell(r, 2).value, "Amount": ws.cell(r, 5).value * ws.cell(r, 6).value}
        for r in range(2, ws.max_row + 1)
    ]


def test_profile_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    orc, conn = orchestrator()
    out = load("spreadsheet_profile").main(orc, tmp_path)
    prof = out["profile"].value
    assert conn.calls == [] and [s.sheet for s in prof.sheets] == ["Sales", "Feedback"]
    amount = next(c for c in prof.sheets[0].column_profiles if c.name == "Amount")
    assert amount.count == 60 and amount.kind == "number"  # computed: the file has no cached values
    printed = capsys.readouterr().out
    assert "sheet 'Sales'" in printed and "no model calls" in printed


def test_formulas_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    orc, _ = orchestrator()
    out = load("spreadsheet_formulas").main(orc, tmp_path)
    rows = _sales(tmp_path)
    north = sum(r["Amount"] for r in rows if r["Region"] == "North")
    f = out["formula"].value
    assert f.ok and f.value == pytest.approx(north) and f.expected == pytest.approx(north)
    e = out["explain"].value
    assert e.formula == "=E2*F2" and [p.header for p in e.precedents] == ["Units", "Price"]
    vat = out["vat"].value
    assert vat.ok and vat.mode == "formula" and vat.formula == "=G2*1.2" and vat.rows_filled == 60
    mood = out["sentiment"].value
    assert mood.rows_filled == 8 and mood.model_calls == 1
    ws = openpyxl.load_workbook(mood.output)["Feedback"]
    assert [ws.cell(r, 5).value for r in range(2, 10)][:3] == ["positive", "negative", "negative"]
    assert (tmp_path / "sales-formula.xlsx").exists() and (tmp_path / "sales-vat.xlsx").exists()
    printed = capsys.readouterr().out
    assert "spreadsheet.formula" in printed and "sheets-model" in printed


def test_report_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    orc, _ = orchestrator()
    out = load("spreadsheet_report").main(orc, tmp_path)
    rows = _sales(tmp_path)
    s = out["summary"].value
    assert s.ok and not s.mismatches
    south = [r["Amount"] for r in rows if r["Region"] == "South"]
    assert next(r for r in s.rows if r["Region"] == "South")["Sum of Amount"] == pytest.approx(sum(south))
    assert out["chart"].value.kind == "bar" and out["chart"].value.y_title == "Amount (EUR)"
    h = out["highlight"].value
    assert h.sheet == "Feedback" and h.matching_rows >= 1
    a = out["ask"].value
    assert a.ok and a.value == pytest.approx(sum(south) / len(south)) and a.formula in a.answer
    report = openpyxl.load_workbook(tmp_path / "sales-report.xlsx")
    assert {"Sales", "Feedback", "Summary by Region", "Chart data Sales"} <= set(report.sheetnames)
    assert report["Sales"]._charts and list(report["Feedback"].conditional_formatting)
    assert "report written to" in capsys.readouterr().out


@requires_soffice
def test_report_opens_in_libreoffice(tmp_path: Path):
    orc, _ = orchestrator()
    load("spreadsheet_report").main(orc, tmp_path)
    pdf = convert(tmp_path / "sales-report.xlsx", "pdf", tmp_path / "pdf")
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 5000
