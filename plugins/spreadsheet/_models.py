"""What the spreadsheet skills return (plain, JSON-ready pydantic models)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = [
    "AddColumnResult",
    "AnswerResult",
    "ChartResult",
    "ColumnProfile",
    "EditResult",
    "FormulaAttempt",
    "FormulaExplanation",
    "FormulaResult",
    "HighlightResult",
    "Precedent",
    "SheetProfile",
    "SummaryResult",
    "TableInfo",
    "WorkbookProfile",
]


class ColumnProfile(BaseModel):
    """Statistics of one column."""

    column: str
    name: str
    kind: str
    count: int = 0
    missing: int = 0
    distinct: int = 0
    distinct_estimated: bool = False
    min: Any = None
    max: Any = None
    mean: float | None = None
    first_date: str | None = None
    last_date: str | None = None
    top_values: list[tuple[str, int]] = Field(default_factory=list)
    outliers: int = 0
    outlier_examples: list[tuple[int, float]] = Field(default_factory=list)
    outliers_estimated: bool = False
    errors: int = 0
    numbers_as_text: int = 0


class TableInfo(BaseModel):
    """A table found in a sheet."""

    ref: str
    header_row: int | None
    data_rows: int
    headers: list[str]


class SheetProfile(BaseModel):
    """One sheet's profile."""

    sheet: str
    rows: int
    columns: int
    header_row: int | None
    tables: list[TableInfo] = Field(default_factory=list)
    more_tables: int = 0
    column_profiles: list[ColumnProfile] = Field(default_factory=list)
    formulas_without_values: int = 0


class WorkbookProfile(BaseModel):
    """Every sheet's profile."""

    path: str
    sheets: list[SheetProfile]
    sensitivity: str
    streamed: bool


class EditResult(BaseModel):
    """Fields every writing skill reports."""

    output: str | None = None
    warnings: list[str] = Field(default_factory=list)


class FormulaAttempt(BaseModel):
    """One formula a model proposed and what checking it found."""

    formula: str
    model: str | None
    ok: bool
    error: str | None = None
    value: Any = None
    escalated: bool = False


class FormulaResult(EditResult):
    """The outcome of ``spreadsheet.formula``."""

    ok: bool
    sheet: str
    target: str
    formula: str | None = None
    value: Any = None
    explanation: str = ""
    check: str | None = None
    expected: float | None = None
    attempts: list[FormulaAttempt] = Field(default_factory=list)


class Precedent(BaseModel):
    """A cell or range a formula reads."""

    ref: str
    sheet: str
    cells: int
    header: str | None = None
    sample: list[Any] = Field(default_factory=list)


class FormulaExplanation(BaseModel):
    """The outcome of ``spreadsheet.explain_formula``."""

    sheet: str
    cell: str
    formula: str
    value: Any = None
    functions: list[str] = Field(default_factory=list)
    precedents: list[Precedent] = Field(default_factory=list)
    explanation: str = ""


class AddColumnResult(EditResult):
    """The outcome of ``spreadsheet.add_column``."""

    ok: bool
    sheet: str
    column: str
    header: str
    mode: str
    formula: str | None = None
    rows_filled: int = 0
    rows_missing: int = 0
    model_calls: int = 0
    sample: list[Any] = Field(default_factory=list)
    attempts: list[FormulaAttempt] = Field(default_factory=list)


class HighlightResult(EditResult):
    """The outcome of ``spreadsheet.highlight``."""

    sheet: str
    range: str
    rule: str
    color: str
    matching_rows: int
    description: str = ""


class ChartResult(EditResult):
    """The outcome of ``spreadsheet.chart``."""

    sheet: str
    kind: str
    title: str
    categories: str | None
    values: list[str]
    anchor: str
    x_title: str | None = None
    y_title: str | None = None


class SummaryResult(EditResult):
    """The outcome of ``spreadsheet.summarize``."""

    ok: bool
    sheet: str
    group_by: str
    values: list[str]
    rows: list[dict[str, Any]] = Field(default_factory=list)
    mismatches: list[str] = Field(default_factory=list)


class AnswerResult(BaseModel):
    """The outcome of ``spreadsheet.ask``."""

    ok: bool
    question: str
    answer: str
    value: Any = None
    formula: str | None = None
    computation: str | None = None
    check: str | None = None
    expected: float | None = None
    attempts: list[FormulaAttempt] = Field(default_factory=list)
