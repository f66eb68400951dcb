"""rewrite, suggest_edits, review, draft and to_table: what ends up in the saved file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import docx
import pytest

from dualtrack import ArgumentError, CompletionRequest, InputFileError, Orchestrator
from dualtrack.plugins.document import list_revisions, read_document
from dualtrack.plugins.document._xml import qn, run_text, text_runs
from dualtrack.testing import FunctionConnector, ScriptedConnector

from ._fake import data_of
from ._samples import digest


def formal(request: CompletionRequest) -> str:
    text = data_of(request)
    return (
        text.replace("The team", "Our operations team")
        .replace("the new warehouse system", "the warehouse platform")
        .replace("fell", "decreased")
    )


def words_with_format(path: str, pid: str) -> dict[str, tuple[bool, bool, bool]]:
    view = read_document(docx.Document(path))
    p = view.elements[pid][0]
    out = {}
    for r in text_runs(p):
        rpr = r.find(qn("w:rPr"))
        flags = (
            rpr is not None and rpr.find(qn("w:b")) is not None,
            rpr is not None and rpr.find(qn("w:i")) is not None,
            r.getparent().tag == qn("w:hyperlink"),
        )
        for w in run_text(r).split():
            out[w.strip(".,")] = flags
    return out


async def test_rewrite_keeps_formatting_of_surviving_words_in_the_saved_file(
    rich_docx: Path, doc_orc: Callable[..., Orchestrator]
) -> None:
    before = digest(rich_docx)
    value = (
        await doc_orc(FunctionConnector(formal)).invoke(
            "document.rewrite", path=str(rich_docx), instruction="formal", paragraphs=["p3"]
        )
    ).value
    assert digest(rich_docx) == before
    assert [c.id for c in value.changed] == ["p3"]
    f = words_with_format(value.output, "p3")
    assert f["delivered"] == (True, False, False)
    assert f["ahead"] == f["schedule"] == (False, True, False)
    assert f["project"] == f["page"] == (False, False, True)
    assert f["operations"] == f["platform"] == (False, False, False)
    assert docx.Document(value.output).paragraphs[2].hyperlinks[0].url == "https://example.com/project"


async def test_rewrite_targets_by_section_match_and_range(
    rich_docx: Path, doc_orc: Callable[..., Orchestrator]
) -> None:
    orc = doc_orc(FunctionConnector(formal))
    by_section = (
        await orc.invoke("document.rewrite", path=str(rich_docx), instruction="x", section="overview")
    ).value
    assert [c.id for c in by_section.changed] == ["p3", "p4"]
    by_match = (
        await orc.invoke("document.rewrite", path=str(rich_docx), instruction="x", match="twelve PERCENT")
    ).value
    assert [c.id for c in by_match.changed] == ["p4"]  # found although "per" and "cent" are separate runs
    ranged = (
        await orc.invoke("document.rewrite", path=str(rich_docx), instruction="x", paragraphs=["p3-p4"])
    ).value
    assert [c.id for c in ranged.changed] == ["p3", "p4"]
    cell = (
        await orc.invoke("document.rewrite", path=str(rich_docx), instruction="x", paragraphs=["t1.r2.c1"])
    ).value
    assert cell.unchanged == ["t1.r2.c1"]
    with pytest.raises(ArgumentError, match="unknown id 'p99'"):
        await orc.invoke("document.rewrite", path=str(rich_docx), instruction="x", paragraphs=["p99"])
    with pytest.raises(ArgumentError, match="no heading matches"):
        await orc.invoke("document.rewrite", path=str(rich_docx), instruction="x", section="Appendix Z")


async def test_rewrite_output_rules(rich_docx: Path, doc_orc: Callable[..., Orchestrator]) -> None:
    orc = doc_orc(FunctionConnector(formal))
    with pytest.raises(InputFileError, match="in_place"):
        await orc.invoke("document.rewrite", path=str(rich_docx), instruction="x", output=str(rich_docx))
    with pytest.raises(InputFileError, match=r"\.docx"):
        await orc.invoke(
            "document.rewrite", path=str(rich_docx), instruction="x", output=str(rich_docx) + ".txt"
        )
    before = digest(rich_docx)
    value = (
        await orc.invoke(
            "document.rewrite", path=str(rich_docx), instruction="x", match="fell", in_place=True
        )
    ).value
    assert value.output == str(rich_docx) and digest(rich_docx) != before
    assert "decreased" in docx.Document(str(rich_docx)).paragraphs[3].text


async def test_suggest_edits_writes_revisions_with_author(
    rich_docx: Path, doc_orc: Callable[..., Orchestrator]
) -> None:
    value = (
        await doc_orc(FunctionConnector(formal)).invoke(
            "document.suggest_edits",
            path=str(rich_docx),
            instruction="formal",
            section="Overview",
            author="Ada",
        )
    ).value
    assert value.output.endswith("report.suggested.docx") and value.revisions >= 4
    revs = list_revisions(docx.Document(value.output).element)
    assert {r.author for r in revs} == {"Ada"}
    assert {"fell", "decreased"} <= {r.text for r in revs}
    view = read_document(docx.Document(value.output))
    assert view.text_of("p4") == "Shipping costs decreased by twelve percent in the second quarter."


async def test_review_anchors_comments_to_the_quoted_runs(
    rich_docx: Path, doc_orc: Callable[..., Orchestrator]
) -> None:
    reply = (
        '{"comments": [{"id": "p4", "quote": "twelve percent", "comment": "Give the absolute figure."},'
        ' {"id": "p3", "quote": "not in the text", "comment": "Name the system."},'
        ' {"id": "p404", "quote": "x", "comment": "ghost"}]}'
    )
    value = (
        await doc_orc(ScriptedConnector([reply])).invoke(
            "document.review", path=str(rich_docx), author="Rita"
        )
    ).value
    notes = {n.id: n for n in value.comments}
    assert notes["p4"].exact and notes["p4"].anchored_text == "twelve percent"
    assert not notes["p3"].exact and notes["p3"].anchored_text.startswith("The team delivered")
    assert "p404" not in notes
    out = docx.Document(value.output)
    assert {(c.author, c.text) for c in out.comments} >= {("Rita", "Give the absolute figure.")}
    p = read_document(out).elements["p4"][0]
    inside, started = [], False
    for el in p.iter():
        if el.tag == qn("w:commentRangeStart"):
            started = True
        elif el.tag == qn("w:commentRangeEnd"):
            started = False
        elif started and el.tag == qn("w:t"):
            inside.append(el.text)
    assert "".join(inside) == "twelve percent"


async def test_draft_uses_the_documents_styles_at_the_chosen_place(
    rich_docx: Path, doc_orc: Callable[..., Orchestrator]
) -> None:
    value = (
        await doc_orc().invoke("document.draft", path=str(rich_docx), instructions="next steps", after="p4")
    ).value
    out = docx.Document(value.output)
    styles = [(p.style.name, p.text) for p in out.paragraphs]
    at = styles.index(("Heading 2", "Next steps"))
    assert styles[at - 1][1].startswith("Shipping costs")
    assert ("List Bullet", "Train the staff") in styles and ("List Number", "Plan") in styles
    bold = [r.text for p in out.paragraphs for r in p.runs if r.bold]
    assert "finish" in bold
    assert any(t.style.name == "Table Grid" for t in out.tables)


async def test_draft_a_new_document(tmp_path: Path, doc_orc: Callable[..., Orchestrator]) -> None:
    out = tmp_path / "new.docx"
    value = (await doc_orc().invoke("document.draft", instructions="a memo", output=str(out))).value
    assert value.position == "new document" and out.exists()
    with pytest.raises(ArgumentError, match="output"):
        await doc_orc().invoke("document.draft", instructions="a memo")


async def test_to_table_splits_on_a_shared_delimiter_without_a_model(
    rich_docx: Path, doc_orc: Callable[..., Orchestrator]
) -> None:
    orc = doc_orc(ScriptedConnector([]))
    value = (
        await orc.invoke(
            "document.to_table", path=str(rich_docx), section="Contacts", columns=["Fruit", "Qty", "Unit"]
        )
    ).value
    assert not value.used_model and value.replaced == ["p15", "p16", "p17"]
    out = docx.Document(value.output)
    grid = [[c.text for c in row.cells] for row in out.tables[-1].rows]
    assert grid == [
        ["Fruit", "Qty", "Unit"],
        ["Apples", "12", "kg"],
        ["Pears", "8", "kg"],
        ["Plums", "5", "kg"],
    ]
    assert not any("Apples" in p.text for p in out.paragraphs)


async def test_to_table_asks_the_model_for_free_text_lists(
    rich_docx: Path, doc_orc: Callable[..., Orchestrator]
) -> None:
    value = (await doc_orc().invoke("document.to_table", path=str(rich_docx), paragraphs=["p6-p7"])).value
    assert value.used_model and value.columns == ["Item", "Detail"] and value.rows == 2
    out = docx.Document(value.output)
    table = next(t for t in out.tables if t.rows[0].cells[0].text == "Item")
    assert table.rows[1].cells[0].text == "Maria"


def test_clean_rewrite_strips_wrappers_and_rejects_runaways() -> None:
    from dualtrack.plugins.document._edit import clean_rewrite

    assert (
        clean_rewrite('Here is the rewritten paragraph:\n"Costs dropped."', "Costs fell.") == "Costs dropped."
    )
    assert clean_rewrite("```\n<passage>Costs dropped.</passage>\n```", "Costs fell.") == "Costs dropped."
    assert clean_rewrite("Costs\ndropped.", "Costs fell.") == "Costs dropped."
    assert clean_rewrite("<blocker> Costs dropped.", "Costs fell.") == "Costs dropped."
    assert clean_rewrite("Use <b> tags.", "Use <i> tags.") == "Use <b> tags."
    assert clean_rewrite("loop " * 200, "Costs fell.") == ""
