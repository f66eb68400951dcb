"""Echoing or looping model replies are caught; another model or an extractive summary takes over."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from dualtrack import CompletionRequest, Orchestrator
from dualtrack.plugins.document import DocumentPlugin
from dualtrack.plugins.document._quality import clean_summary, extractive_summary, is_unusable, merge_bullets
from dualtrack.testing import FunctionConnector, model_card

from ._fake import data_of, smart_reply

SOURCE = "[p1] # Plan\n[p2] The depot opens in May after the survey. It needs staff.\n[p3] - Hire five drivers this year"


def echo(request: CompletionRequest) -> str:
    return "<document>\nPart 1:\n" + data_of(request) + "\n" + data_of(request)


def test_clean_summary_drops_delimiters_labels_and_repeats() -> None:
    text = "<document>\nPart 1:\n- The depot opens [p2]\n- The depot opens [p2]\n- Hire drivers [p3]\n</document>"
    assert clean_summary(text) == "- The depot opens [p2]\n- Hire drivers [p3]"


def test_is_unusable_spots_echoes_but_not_real_summaries() -> None:
    assert is_unusable(clean_summary(SOURCE), SOURCE)
    assert is_unusable("", SOURCE)
    assert not is_unusable("- The depot opens in May [p2]\n- Five drivers will be hired [p3]", SOURCE)


def test_extractive_summary_cites_first_sentences() -> None:
    assert (
        extractive_summary(SOURCE)
        == "- The depot opens in May after the survey. [p2]\n- Hire five drivers this year [p3]"
    )
    assert merge_bullets(["- a [p1]\n- b [p2]", "- b [p2]\n- c [p3]"]) == "- a [p1]\n- b [p2]\n- c [p3]"


async def test_echoing_model_falls_back_to_an_extractive_summary(
    rich_docx: Path, doc_orc: Callable[..., Orchestrator]
) -> None:
    result = await doc_orc(FunctionConnector(echo)).invoke("document.summarize", path=str(rich_docx))
    value = result.value
    assert value.fallback_parts == 1
    assert "[p3]" in value.summary and "<document>" not in value.summary and "(footnote)" not in value.summary
    assert set(value.cited) <= {"p3", "p4", "p6", "p7", "p11", "p13", "fn1"} and value.cited
    assert len(result.calls) == 1  # no other model qualified, so no second attempt


async def test_a_second_model_takes_over_from_an_echoing_one(rich_docx: Path) -> None:
    bad, good = FunctionConnector(echo), FunctionConnector(smart_reply)
    orc = Orchestrator(
        models=[
            model_card(bad, name="cheap", cost_input=0.0),
            model_card(good, name="better", cost_input=9.0),
        ],
        plugins=[DocumentPlugin],
    )
    result = await orc.invoke("document.summarize", path=str(rich_docx))
    assert result.models == ["cheap", "better"] and result.value.fallback_parts == 0
    assert result.value.summary.startswith("- The part covers")


def test_is_looping_catches_a_stuck_model_only() -> None:
    from dualtrack.plugins.document._quality import is_looping

    stuck = "The quarter's executive summary was titled: Executive Summary " * 4
    assert is_looping(stuck) and is_unusable(stuck)
    assert not is_looping(
        "Orders rose by a fifth. Returns fell. The new depot in Leeds opened on time in May."
    )
