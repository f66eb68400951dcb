from __future__ import annotations

import copy

import docx
from docx.text.paragraph import Paragraph
from hypothesis import given, settings
from hypothesis import strategies as st

from dualtrack.plugins.document._revisions import RevisionStamp, apply_tracked, list_revisions
from dualtrack.plugins.document._runs import apply_plan, find_text, isolate, plan_edit
from dualtrack.plugins.document._xml import paragraph_text, qn, run_text, text_runs

from ._samples import add_hyperlink


def mixed_paragraph() -> tuple[docx.document.Document, Paragraph]:
    d = docx.Document()
    p = d.add_paragraph("The team ")
    p.add_run("delivered").bold = True
    p.add_run(" the new system ")
    p.add_run("ahead of schedule").italic = True
    p.add_run(", see ")
    add_hyperlink(p, "the project page", "https://example.com/p")
    p.add_run(" for details.")
    return d, p


def word_formats(p: Paragraph) -> dict[str, tuple[bool, bool, bool]]:
    """word -> (bold, italic, inside a hyperlink), from the XML runs."""
    out: dict[str, tuple[bool, bool, bool]] = {}
    for r in text_runs(p._p):
        rpr = r.find(qn("w:rPr"))
        bold = rpr is not None and rpr.find(qn("w:b")) is not None
        italic = rpr is not None and rpr.find(qn("w:i")) is not None
        link = r.getparent().tag == qn("w:hyperlink")
        for word in run_text(r).split():
            out[word.strip(".,")] = (bold, italic, link)
    return out


def test_rewrite_keeps_bold_italic_and_hyperlink_on_surviving_words() -> None:
    _, p = mixed_paragraph()
    new = "Our team delivered the whole new system well ahead of schedule, see the project page for more details."
    apply_plan(plan_edit(p._p, new))
    assert paragraph_text(p._p) == new
    f = word_formats(p)
    assert f["delivered"] == (True, False, False)
    assert f["ahead"] == f["of"] == f["schedule"] == (False, True, False)
    assert f["project"] == f["page"] == (False, False, True)
    assert f["Our"] == f["whole"] == f["more"] == (False, False, False)
    assert len(p.hyperlinks) == 1 and p.hyperlinks[0].url == "https://example.com/p"


def test_words_inserted_next_to_a_link_do_not_become_link_text() -> None:
    _, p = mixed_paragraph()
    new = paragraph_text(p._p).replace("project page for", "project page today for")
    apply_plan(plan_edit(p._p, new))
    assert p.hyperlinks[0].text == "the project page"
    assert paragraph_text(p._p) == new


def test_replaced_word_takes_the_replaced_words_formatting() -> None:
    _, p = mixed_paragraph()
    apply_plan(plan_edit(p._p, paragraph_text(p._p).replace("delivered", "shipped")))
    assert word_formats(p)["shipped"] == (True, False, False)


def test_deleting_a_whole_link_removes_the_empty_hyperlink() -> None:
    _, p = mixed_paragraph()
    apply_plan(plan_edit(p._p, "The team delivered the new system ahead of schedule."))
    assert p._p.find(qn("w:hyperlink")) is None
    assert paragraph_text(p._p) == "The team delivered the new system ahead of schedule."


def test_text_split_across_runs_is_found_and_isolated() -> None:
    d = docx.Document()
    p = d.add_paragraph("Shipping costs fell by twelve per")
    p.add_run("cent").bold = True
    p.add_run(" in the second quarter.")
    span = find_text(p._p, "twelve percent in")
    assert span is not None
    runs = isolate(p._p, *span)
    assert "".join(run_text(r) for r in runs) == "twelve percent in"
    assert paragraph_text(p._p) == "Shipping costs fell by twelve percent in the second quarter."
    assert find_text(p._p, "TWELVE   percent") is not None
    assert find_text(p._p, "thirteen") is None


def test_empty_paragraph_gets_a_new_run() -> None:
    d = docx.Document()
    p = d.add_paragraph()
    apply_plan(plan_edit(p._p, "Fresh text"))
    assert p.text == "Fresh text"


def test_tracked_changes_carry_author_date_and_unique_ids() -> None:
    d, p = mixed_paragraph()
    stamp = RevisionStamp.for_document(d, "Ada")
    marks = apply_tracked(plan_edit(p._p, paragraph_text(p._p).replace("new system", "platform")), stamp)
    revs = list_revisions(d.element)
    assert marks == len(revs) >= 2
    assert {r.author for r in revs} == {"Ada"} and all(r.date.endswith("Z") for r in revs)
    ids = [el.get(qn("w:id")) for el in d.element.iter(qn("w:ins"), qn("w:del"))]
    assert len(ids) == len(set(ids))
    assert "".join(r.text for r in revs if r.kind == "delete").replace(" ", "") == "newsystem"


WORDS = st.sampled_from(["alpha", "beta", "gamma", "delta", "of", "the", "42", ",", "."])
TEXT = st.lists(WORDS, min_size=1, max_size=12).map(" ".join)


@settings(max_examples=60, deadline=None)
@given(old=TEXT, new=TEXT, cuts=st.lists(st.integers(1, 60), max_size=4))
def test_any_edit_reads_back_exactly_plain_and_tracked(old: str, new: str, cuts: list[int]) -> None:
    d = docx.Document()
    p = d.add_paragraph()
    points = sorted({c for c in cuts if c < len(old)})
    for i, (a, b) in enumerate(zip([0, *points], [*points, len(old)], strict=True)):
        p.add_run(old[a:b]).bold = i % 2 == 1
    tracked = copy.deepcopy(p._p)
    apply_plan(plan_edit(p._p, new))
    assert paragraph_text(p._p) == new
    apply_tracked(plan_edit(tracked, new), RevisionStamp("t", "2025-01-01T00:00:00Z", 1))
    assert paragraph_text(tracked) == new  # accepting every change gives the new text
    rejected = "".join(
        (t.text or "")
        for t in tracked.iter(qn("w:t"), qn("w:delText"))
        if t.tag == qn("w:delText") or t.getparent().getparent().tag != qn("w:ins")
    )
    assert rejected == old  # rejecting every change restores the old text
