from __future__ import annotations

from pathlib import Path

import docx

from dualtrack.plugins.document import read_document


def _view(path: Path):
    return read_document(docx.Document(str(path)))


def test_blocks_have_stable_ids_levels_and_kinds(rich_docx: Path) -> None:
    view = _view(rich_docx)
    kinds = {b.id: (b.kind, b.level) for b in view.blocks}
    assert kinds["p1"] == ("title", 0)
    assert kinds["p2"] == ("heading", 1)
    assert kinds["p10"] == ("heading", 2)
    assert view.get("p6").kind == "list_item" and view.get("p6").marker == "-"
    assert [view.get(i).marker for i in ("p8", "p9")] == ["1.", "2."]
    assert view.get("p6").section == "p5"


def test_text_split_across_runs_and_hyperlinks_is_read_whole(rich_docx: Path) -> None:
    view = _view(rich_docx)
    assert view.text_of("p4") == "Shipping costs fell by twelve percent in the second quarter."
    assert "as described on the project page." in view.text_of("p3")


def test_tables_render_as_grids_with_cell_ids(rich_docx: Path) -> None:
    view = _view(rich_docx)
    assert view.get("t1.r2").text == "North | 1200 | 30"
    assert view.text_of("t1.r3.c2") == "950"
    assert view.has("t1") and view.has("t1.r1.c3") and not view.has("t1.r9")
    assert "[t1.r1] Region | Orders | Returns" in view.render()


def test_headers_footers_footnotes_comments_and_images_are_visible(rich_docx: Path) -> None:
    view = _view(rich_docx)
    by_kind = {b.kind: b for b in view.blocks}
    assert by_kind["header"].text == "Northwind Traders - Internal"
    assert by_kind["footer"].text == "Page footer: Operations"
    assert by_kind["footnote"].text == "Estimate from the finance team." and by_kind["footnote"].id == "fn1"
    assert by_kind["comment"].text == "(comment by Reviewer on p13) Source?"
    assert "[image]" in view.text_of("p12")


def test_empty_paragraphs_keep_numbering_stable(tmp_path: Path) -> None:
    d = docx.Document()
    d.add_paragraph("one")
    d.add_paragraph("")
    d.add_paragraph("three")
    d.save(str(tmp_path / "e.docx"))
    view = _view(tmp_path / "e.docx")
    assert view.text_of("p3") == "three"
    assert view.render() == "[p1] one\n[p3] three"


def test_valid_ids_filters_unknown_and_strips_brackets(rich_docx: Path) -> None:
    view = _view(rich_docx)
    assert view.valid_ids(["[p3]", "p999", "t1.r2.c1", "p3", "../etc/passwd"]) == ["p3", "t1.r2.c1"]


def test_libreoffice_made_file_reads_like_the_original(rich_docx: Path, lo_docx: Path) -> None:
    ours, theirs = _view(rich_docx), _view(lo_docx)
    body = lambda v: [(b.kind, b.level, b.marker, " ".join(b.text.split())) for b in v.body()]  # noqa: E731
    assert body(theirs) == body(ours)
    assert any(b.kind == "footnote" for b in theirs.blocks)
    assert any(b.kind == "comment" for b in theirs.blocks)
