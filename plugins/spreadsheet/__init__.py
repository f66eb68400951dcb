"""The ``spreadsheet`` plugin: Copilot-style skills for Excel workbooks.

Written against dualtrack's public API only, like any third-party plugin::

    from dualtrack import Orchestrator

    orc = Orchestrator.from_config()
    result = orc.invoke_sync("spreadsheet.formula", path="sales.xlsx", request="total amount for North")
    print(result.value.formula, result.value.value)

Formulas are computed with the ``formulas`` package (``pip install 'dualtrack[spreadsheet]'``).
"""

from __future__ import annotations

from ._models import (
    AddColumnResult,
    AnswerResult,
    ChartResult,
    ColumnProfile,
    FormulaAttempt,
    FormulaExplanation,
    FormulaResult,
    HighlightResult,
    Precedent,
    SheetProfile,
    SummaryResult,
    TableInfo,
    WorkbookProfile,
)
from ._plugin import SpreadsheetPlugin

__all__ = [
    "AddColumnResult",
    "AnswerResult",
    "ChartResult",
    "ColumnProfile",
    "FormulaAttempt",
    "FormulaExplanation",
    "FormulaResult",
    "HighlightResult",
    "Precedent",
    "SheetProfile",
    "SpreadsheetPlugin",
    "SummaryResult",
    "TableInfo",
    "WorkbookProfile",
]
