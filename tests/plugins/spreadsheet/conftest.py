from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from dualtrack import Orchestrator
from dualtrack.plugins.spreadsheet import SpreadsheetPlugin
from dualtrack.testing import ScriptedConnector, model_card
from tests.office import SOFFICE, convert

from . import workbooks


@pytest.fixture
def sales(tmp_path: Path) -> tuple[Path, list[dict[str, Any]]]:
    return workbooks.sales(tmp_path / "sales.xlsx")


@pytest.fixture
def grades(tmp_path: Path) -> tuple[Path, list[dict[str, Any]]]:
    return workbooks.grades(tmp_path / "grades.xlsx")


@pytest.fixture
def inventory(tmp_path: Path) -> tuple[Path, list[dict[str, Any]]]:
    return workbooks.inventory(tmp_path / "inventory.xlsx")


@pytest.fixture
def feedback(tmp_path: Path) -> tuple[Path, list[dict[str, Any]]]:
    return workbooks.feedback(tmp_path / "feedback.xlsx")


@pytest.fixture(scope="session")
def _lo_budget(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    if SOFFICE is None and not os.environ.get("CI"):
        pytest.skip("LibreOffice (soffice) is not installed; it produces the budget workbook")
    src_dir = tmp_path_factory.mktemp("budget-src")
    src, data = workbooks.budget_source(src_dir / "budget.xlsx")
    out = convert(src, "xlsx", tmp_path_factory.mktemp("budget-lo"))
    return out, data


@pytest.fixture
def budget(
    _lo_budget: tuple[Path, list[dict[str, Any]]], tmp_path: Path
) -> tuple[Path, list[dict[str, Any]]]:
    """The budget workbook as LibreOffice wrote it (formulas with cached values)."""
    src, data = _lo_budget
    dest = tmp_path / "budget.xlsx"
    shutil.copyfile(src, dest)
    return dest, data


def formula_reply(formula: str, explanation: str = "computes it") -> str:
    return json.dumps({"formula": formula, "explanation": explanation})


@pytest.fixture
def orc_with() -> Callable[..., tuple[Orchestrator, ScriptedConnector]]:
    """``orc, conn = orc_with("reply 1", "reply 2")``: the spreadsheet plugin and one scripted model."""

    def make(*replies: Any, **card: Any) -> tuple[Orchestrator, ScriptedConnector]:
        conn = ScriptedConnector(replies)
        return Orchestrator(
            models=[model_card(conn, name="scripted", **card)], plugins=[SpreadsheetPlugin]
        ), conn

    return make


def lo_recalculated(path: Path, outdir: Path) -> Any:
    """LibreOffice opens ``path`` (computing every formula without a cached value) and saves a copy;
    returns that copy's cached values (openpyxl ``data_only``)."""
    out = convert(path, "xlsx", outdir)
    return openpyxl.load_workbook(out, data_only=True)
