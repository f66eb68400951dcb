"""Every skill on documents from two producers: inputs untouched, outputs readable."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docx
import pytest

from dualtrack import Orchestrator
from dualtrack.plugins.document import read_document

from ._samples import build_rich, digest

CALLS: dict[str, Callable[[Path, Path], dict[str, Any]]] = {
    "summarize": lambda p, o: {"path": str(p), "save": True},
    "ask": lambda p, o: {"path": str(p), "question": "Who will audit the carriers?"},
    "rewrite": lambda p, o: {"path": str(p), "instruction": "more formal", "section": "Overview"},
    "suggest_edits": lambda p, o: {"path": str(p), "instruction": "more formal", "match": "costs fell"},
    "draft": lambda p, o: {"path": str(p), "instructions": "Add next steps", "after": "Actions"},
    "extract": lambda p, o: {"path": str(p), "kind": "action_items", "insert_table": True},
    "review": lambda p, o: {"path": str(p), "max_comments": 3},
    "compare": lambda p, o: {"path": str(p), "other": str(o)},
    "to_table": lambda p, o: {"path": str(p), "paragraphs": ["p6-p7"]},
}


@pytest.fixture(params=["python-docx", "libreoffice"])
def producer_docx(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    if request.param == "python-docx":
        return build_rich(tmp_path / "report.docx")
    made: Path = request.getfixturevalue("lo_docx")
    return Path(shutil.copyfile(made, tmp_path / "report.docx"))


@pytest.mark.parametrize("skill", sorted(CALLS))
async def test_skill_leaves_input_untouched_and_writes_readable_output(
    skill: str, producer_docx: Path, tmp_path: Path, doc_orc: Callable[..., Orchestrator]
) -> None:
    (tmp_path / "other").mkdir()
    other = build_rich(tmp_path / "other" / "report-v2.docx") if skill == "compare" else producer_docx
    if skill == "compare":
        d = docx.Document(str(other))
        d.paragraphs[3].text = "Shipping costs fell by a fifth."
        d.add_paragraph("A closing remark.")
        d.save(str(other))
    before = digest(producer_docx)
    result = await doc_orc().invoke(f"document.{skill}", **CALLS[skill](producer_docx, other))
    assert digest(producer_docx) == before
    assert result.calls, "each of these calls uses the model"
    output = getattr(result.value, "output", None)
    if skill in ("ask", "compare"):
        assert output is None
    else:
        assert output is not None and Path(output).parent == producer_docx.parent
        assert Path(output).name.startswith("report.") and Path(output) != producer_docx
        reopened = read_document(docx.Document(output))
        assert reopened.body()
    leftovers = [p.name for p in producer_docx.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []
