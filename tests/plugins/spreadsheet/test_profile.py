"""``spreadsheet.profile``: tables, headers, types, statistics; streamed with bounded memory."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import openpyxl
import pytest

from dualtrack import Orchestrator
from dualtrack.plugins.spreadsheet import SpreadsheetPlugin, WorkbookProfile

from . import workbooks


def _profile(path: Path, **plugin_args: int) -> WorkbookProfile:
    orc = Orchestrator(plugins=[SpreadsheetPlugin(**plugin_args)])
    return orc.invoke_sync("spreadsheet.profile", path=str(path)).value


def _cols(prof: WorkbookProfile, sheet: int = 0) -> dict[str, object]:
    return {c.name: c for c in prof.sheets[sheet].column_profiles}


def test_title_row_is_not_the_header_and_tables_are_found(inventory):
    path, rows = inventory
    prof = _profile(path)
    sheet = prof.sheets[0]
    assert sheet.header_row == 3
    assert [t.ref for t in sheet.tables] == ["A1:A1", "A3:G13"]
    cols = _cols(prof)
    assert list(cols) == ["SKU", "Item", "Category", "Stock", "Reorder Level", "Unit Cost", "Last Restock"]
    stock = cols["Stock"]
    assert (stock.kind, stock.count, stock.missing) == ("integer", 9, 1)
    assert stock.min == 2 and stock.max == 5000
    assert stock.mean == pytest.approx(sum(r["Stock"] for r in rows if r["Stock"]) / 9)
    assert 5000 in [v for _, v in stock.outlier_examples] and not stock.outliers_estimated
    assert (11, 5000.0) in stock.outlier_examples  # row 11 of the sheet holds the outlier
    assert cols["Category"].distinct == 3 and cols["Category"].top_values[0] == ("Supplies", 4)
    restock = cols["Last Restock"]
    assert restock.kind == "date" and restock.first_date.startswith("2024-03-01")
    assert restock.last_date.startswith("2024-03-19")
    assert cols["Unit Cost"].kind == "number"


def test_formulas_without_cached_values_are_computed(sales, grades):
    path, rows = sales
    amount = _cols(_profile(path))["Amount"]
    assert amount.count == 40 and amount.missing == 0
    assert amount.mean == pytest.approx(math.fsum(r["Amount"] for r in rows) / 40)
    gpath, grows = grades
    cols = _cols(_profile(gpath))
    assert cols["Average"].max == pytest.approx(max(r["Average"] for r in grows))
    assert dict(cols["Passed"].top_values) == {
        k: sum(r["Passed"] == k for r in grows) for k in {r["Passed"] for r in grows}
    }


def test_libreoffice_workbook_profile_reads_cached_values(budget):
    path, rows = budget
    prof = _profile(path)
    assert [s.sheet for s in prof.sheets] == ["Budget 2024", "Notes"]
    total = _cols(prof)["Total"]
    assert total.kind == "integer" and total.max == max(r["Total"] for r in rows)
    assert prof.sheets[0].formulas_without_values == 0


def test_streamed_profile_matches_the_loaded_one(budget):
    path, _ = budget
    loaded = _profile(path)
    streamed = _profile(path, stream_above=0)
    assert streamed.streamed and not loaded.streamed
    assert streamed.sheets == loaded.sheets


def test_streaming_counts_formulas_it_cannot_compute(sales):
    path, _ = sales
    prof = _profile(path, stream_above=0)
    assert prof.streamed
    assert prof.sheets[0].formulas_without_values == 40
    assert _cols(prof)["Amount"].missing == 40


def test_profile_reports_progress_and_calls_no_model(sales):
    path, _ = sales
    seen: list[tuple[int, int, str]] = []
    orc = Orchestrator(plugins=[SpreadsheetPlugin], on_progress=lambda s, d, t, m: seen.append((d, t, m)))
    res = orc.invoke_sync("spreadsheet.profile", path=str(path))
    assert res.calls == [] and res.value.sheets[0].rows == 41
    assert seen[-1] == (41, 41, "sheet Sales done")


def test_sheet_without_a_header_uses_letters(tmp_path: Path):
    wb = openpyxl.Workbook()
    for r in range(10):
        wb.active.append([r, r * 2.5, f"x{r}"])
    wb.save(tmp_path / "plain.xlsx")
    prof = _profile(tmp_path / "plain.xlsx")
    assert prof.sheets[0].header_row is None
    assert [c.name for c in prof.sheets[0].column_profiles] == ["A", "B", "C"]
    assert prof.sheets[0].column_profiles[0].count == 10


@pytest.mark.slow
def test_streamed_profile_peak_memory_is_far_below_a_full_load(tmp_path: Path):
    """tracemalloc, same file: the streamed profile against openpyxl's full load (40,000 cells)."""
    path = workbooks.big_sheet(tmp_path / "mid.xlsx", rows=2000)
    _profile(workbooks.big_sheet(tmp_path / "warm.xlsx", rows=10), stream_above=0)  # imports happen here
    tracemalloc.start()
    try:
        prof = _profile(path, stream_above=0)
        _, profile_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        wb = openpyxl.load_workbook(path)
        _, full_peak = tracemalloc.get_traced_memory()
        del wb
    finally:
        tracemalloc.stop()
    assert prof.streamed and _cols(prof)["amount"].count == 2000
    print(
        f"tracemalloc peak: profile {profile_peak / 1e6:.2f} MB, full load {(full_peak - base) / 1e6:.2f} MB"
    )
    assert profile_peak < 0.25 * (full_peak - base), (profile_peak, full_peak - base)


_MEASURE = """
import json, os, resource, sys, threading, time
import openpyxl
from dualtrack import Orchestrator
from dualtrack.plugins.spreadsheet import SpreadsheetPlugin

PAGE = os.sysconf("SC_PAGE_SIZE")
peak = 0
done = threading.Event()


def rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * PAGE


def sample() -> None:
    global peak
    while not done.is_set():
        peak = max(peak, rss())
        time.sleep(0.005)


mode, path = sys.argv[1], sys.argv[2]
before = rss()
threading.Thread(target=sample, daemon=True).start()
out = {}
if mode == "profile":
    prof = Orchestrator(plugins=[SpreadsheetPlugin]).invoke_sync("spreadsheet.profile", path=path).value
    out = {"streamed": prof.streamed, "counts": [c.count for c in prof.sheets[0].column_profiles]}
elif mode == "full":
    wb = openpyxl.load_workbook(path)
    out = {"cells": sum(1 for row in wb.active.iter_rows() for c in row if c.value is not None)}
done.set()
out["peak_bytes"] = max(peak, rss()) - before
print(json.dumps(out))
"""


def _measure(mode: str, path: Path) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURE, mode, str(path)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "MALLOC_TRIM_THRESHOLD_": str(1 << 40)},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_million_cell_sheet_is_profiled_in_bounded_memory(tmp_path: Path):
    """50,000 rows x 20 columns. tracemalloc slows openpyxl's parser about fivefold, which would take
    this test to minutes, so each side runs in a fresh process and reports its peak resident memory
    above the imports (sampled from /proc, with glibc told not to hand freed memory back early, so a
    peak cannot hide). The full load is measured on a tenth of the rows (same layout) and scaled x10."""
    big = workbooks.big_sheet(tmp_path / "big.xlsx", rows=50_000)
    tenth = workbooks.big_sheet(tmp_path / "tenth.xlsx", rows=5_000)
    prof = _measure("profile", big)
    full = _measure("full", tenth)
    assert prof["streamed"] is True and prof["counts"] == [50_000] * 20
    assert full["cells"] == 5_001 * 20
    full_scaled = 10 * int(full["peak_bytes"])
    print(
        f"peak memory: profile {prof['peak_bytes'] / 1e6:.1f} MB, full load (scaled) {full_scaled / 1e6:.1f} MB"
    )
    assert int(prof["peak_bytes"]) < 0.15 * full_scaled, (prof["peak_bytes"], full_scaled)


def test_month_and_year_headers_merged_titles_and_numbers_stored_as_text(tmp_path: Path):
    import datetime as dt

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Budget"
    ws.append(["Category", dt.datetime(2024, 1, 1), dt.datetime(2024, 2, 1), 2025])
    for c in ["Rent", "Travel", "Food"]:
        ws.append([c, 100, 200, 300])
    merged = wb.create_sheet("Merged")
    merged["A1"] = "Report"
    merged.merge_cells("A1:C1")
    merged.append(["Name", "Qty", "Note"])
    merged.append(["x", "12", "ok"])
    merged.append(["y", " 3.5 ", "fine"])
    wb.save(tmp_path / "m.xlsx")
    prof = _profile(tmp_path / "m.xlsx")
    budget, rep = prof.sheets
    assert budget.header_row == 1 and [c.name for c in budget.column_profiles] == [
        "Category",
        "2024-01-01",
        "2024-02-01",
        "2025",
    ]
    assert rep.header_row == 2 and [t.ref for t in rep.tables] == ["A2:C4"]
    qty = _cols(prof, 1)["Qty"]
    assert qty.kind == "text" and qty.numbers_as_text == 2
