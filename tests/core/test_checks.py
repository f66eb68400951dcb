"""dualtrack.checks: degenerate output, length ratio, preserved facts, grounding, schema, on real texts."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from dualtrack import UserError
from dualtrack.checks import (
    CheckContext,
    block_lines,
    citations,
    degenerate,
    facts_of,
    grounded,
    json_schema,
    length_ratio,
    on_parts,
    preserved_facts,
    repetition,
)

PROSE = (
    "Orders rose by a fifth in the second quarter, driven by the new depot in Leeds. Returns fell "
    "to 2.1%, the lowest since 2019. The board expects the depot to break even in May, and it "
    "asks the regional teams to hire five more drivers before the summer peak."
)
LIST = "- Revenue rose in the north [p1]\n- Revenue fell in the south [p2]\n- Revenue held in the east [p3]"
TABLE = "| Region | Q1 | Q2 | Q3 |\n|---|---|---|---|\n| North | 0 | 0 | 0 |\n| South | 0 | 0 | 0 |\n| East | 12 | 12 | 12 |"
YES_TABLE = "| Check | A | B | C | D |\n| Done | Yes | Yes | Yes | Yes |\n| Signed | Yes | Yes | Yes | Yes |"
NUMBERS = "10 20 30\n10 20 30\n10 20 30\n10 20 30"


def run(check, text: str, **context: str):  # type: ignore[no-untyped-def]
    return check(text, CheckContext(**context))


@pytest.mark.parametrize(
    ("text", "name", "reason"),
    [
        ("Duck Duck Duck Duck Duck Duck Duck Duck Duck Duck Duck", "repetition", "'Duck' \u00d711"),
        ("Duck\nDuck\nDuck\nDuck\nDuck\nDuck\nDuck\nDuck\nDuck", "repetition", "'Duck' \u00d79 of 9 words"),
        ("The plan is. the plan is. the plan is. the plan is.", "repetition", "'The plan is' \u00d74"),
        ("", "empty", "no text"),
        ("  \n ** \n", "empty", "no text"),
        (
            "The quarter's executive summary was titled: Executive Summary " * 4,
            "repetition",
            "\u00d7",
        ),
    ],
)
def test_degenerate_replies_are_rejected_with_a_readable_reason(text: str, name: str, reason: str) -> None:
    result = run(degenerate(), text, source="Duck")
    assert not result.passed and result.name == name and reason in result.reason


@pytest.mark.parametrize("text", [PROSE, LIST, TABLE, YES_TABLE, NUMBERS, "Duck", "No, no, no.", "Yes"])
def test_normal_prose_lists_and_tables_pass(text: str) -> None:
    assert repetition(text) is None
    assert run(degenerate(echo_source=True), text, source=PROSE if text != PROSE else "").passed


def test_runaway_length_and_echo_of_the_prompt_or_the_data_block() -> None:
    runaway = run(degenerate(), "word " * 300 + "end", source="A short paragraph of text.")
    assert runaway.name in ("runaway", "repetition") and not runaway.passed
    long = run(degenerate(), PROSE + "\n" + LIST + "\n" + TABLE, source="Orders rose.")
    assert long.name == "runaway" and "characters" in long.reason
    prompt = "Rewrite the passage below in plain language for a general reader.\n<passage>\nOrders rose.\n</passage>"
    echo = run(
        degenerate(),
        "Rewrite the passage below in plain language for a general reader. Orders rose.",
        prompt=prompt,
        source="Orders rose.",
    )
    assert echo.name == "echo" and "prompt" in echo.reason
    source = "[p1] The depot opens in May after the survey.\n[p2] It needs staff for the night shift."
    copied = run(
        degenerate(echo_source=True),
        "[p1] The depot opens in May after the survey.\nIt needs staff for the night shift.",
        source=source,
    )
    assert copied.name == "echo" and "data block" in copied.reason
    # an unchanged paragraph is a valid rewrite: echo of the source only counts when asked
    assert run(degenerate(), "Orders rose.", source="Orders rose.", prompt=prompt).passed


def test_length_ratio_allows_slack_for_short_sources() -> None:
    check = length_ratio(0.25, 4.0)
    assert run(check, "Duck", source="Duck").passed
    assert run(check, "Orders rose sharply.", source=PROSE).passed is False
    assert "at least" in run(check, "Orders rose.", source=PROSE).reason
    assert "at most 4" in run(check, PROSE * 5, source=PROSE).reason
    assert run(check, PROSE[:200], source=PROSE).passed
    assert run(check, "anything", source="").passed


def test_facts_of_finds_numbers_dates_names_links_and_placeholders() -> None:
    text = (
        "Dear {name}, the Leeds depot of Acme Ltd opens on 12 May 2025 (see https://acme.example/depot). "
        "It cost $1,200.50 and employs 42 people; mail ops@acme.example or reply by {{deadline}}."
    )
    facts = facts_of(text)
    assert facts["placeholders"] == ["{name}", "{{deadline}}"]
    assert facts["links"] == ["https://acme.example/depot", "ops@acme.example"]
    assert facts["dates"] == ["12 May 2025"]
    assert facts["numbers"] == ["1,200.50", "42"]
    assert facts["names"] == ["Leeds", "Acme", "Ltd"]


def test_preserved_facts_names_what_a_rewrite_lost() -> None:
    source = "Hi {name}, Acme shipped 1,200 units to Leeds on 2025-05-12; details at https://acme.example/q2."
    check = preserved_facts()
    good = "Hello {name}. Acme sent 1,200 units to leeds on 2025-05-12. See https://acme.example/q2 for more."
    assert run(check, good, source=source).passed
    french = "Bonjour {name}, Acme a expédié 1 200 unités à Leeds le 2025-05-12 ; détails : https://acme.example/q2."
    assert run(check, french, source=source).passed
    bad = run(check, "Hello there, Acme shipped many units to Leeds recently.", source=source)
    assert not bad.passed and bad.name == "preserved-facts"
    assert "'{name}'" in bad.reason and "'1,200'" in bad.reason and "'2025-05-12'" in bad.reason
    assert "https://acme.example/q2" in bad.reason
    no_names = preserved_facts(names=False)
    assert run(
        no_names, "Hallo {name}, 1200 Einheiten am 2025-05-12, https://acme.example/q2", source=source
    ).passed


def test_title_case_headings_are_not_names() -> None:
    assert facts_of("Quarterly Report For The Board")["names"] == []
    assert facts_of("Duck")["names"] == []
    assert facts_of("Results of the NHS and Q3 review")["names"] == ["NHS", "Q3"]


def test_grounding_is_lexical_and_checks_cited_ids() -> None:
    source = (
        "[p1] The depot in Leeds opens in May after the survey.\n[p2] Drivers will be hired for night shifts."
    )
    check = grounded()
    assert run(
        check, "- The Leeds depot opens in May [p1]\n- Night shift drivers will be hired [p2]", source=source
    ).passed
    wrong_id = run(check, "- The depot opens in May [p9]", source=source)
    assert not wrong_id.passed and "p9" in wrong_id.reason
    wrong_block = run(check, "- Night shift drivers will be hired [p1]", source=source)
    assert not wrong_block.passed and "cited p1" in wrong_block.reason
    invented = run(check, "Profits tripled thanks to aggressive marketing campaigns.", source=source)
    assert not invented.passed and "sentence 1" in invented.reason


BLOCKS = (
    "[p1] The depot in Leeds opens in May after the survey.\n"
    "[p2] Drivers will be hired for night shifts.\n"
    "[t1.r2] North | 4,200 orders | 2.1% returns"
)


def test_a_citation_to_a_missing_block_fails() -> None:
    out = run(citations(), "The Leeds depot opens in May [p9].", source=BLOCKS)
    assert not out.passed and out.name == "citations" and "cites p9, not a block of the source" in out.reason


def test_a_claim_its_cited_block_does_not_support_fails() -> None:
    out = run(
        citations(), "The depot opens in May [p1]. Night shift drivers will be hired [p1].", source=BLOCKS
    )
    assert not out.passed and "claim 2 is not supported by its cited p1" in out.reason
    numbers = run(citations(), "Sales of 9,900 in 2023 [t1.r2].", source=BLOCKS)
    assert not numbers.passed and "t1.r2 (0% of its words)" in numbers.reason  # numbers are claim words


def test_supported_citations_pass_and_uncited_claims_are_left_to_grounding() -> None:
    reply = "The Leeds depot opens in May [p1]. Drivers are hired for night shifts [p2]. North had 4,200 orders [t1.r2]."
    out = run(citations(), reply, source=BLOCKS)
    assert out.passed and out.reason == "3 cited claim(s) supported"
    assert run(citations(), "Profits tripled.", source=BLOCKS).passed  # cites nothing


def test_citations_of_a_structured_reply_against_given_blocks() -> None:
    blocks = block_lines(BLOCKS)
    assert set(blocks) == {"p1", "p2", "t1.r2"}

    def claims(_text: str, context: CheckContext) -> list[tuple[str, list[str]]]:
        return [(context.value["answer"], context.value["citations"])]

    check = citations(blocks, claims=claims)
    good = {"answer": "It opens in May, in Leeds.", "citations": ["p1"]}
    assert check("{}", CheckContext(value=good)).passed
    bad = {"answer": "Drivers for night shifts.", "citations": ["p1"]}
    out = check("{}", CheckContext(value=bad))
    assert not out.passed and "the claim is not supported by its cited p1" in out.reason


def test_json_schema_check_parses_validates_and_lists_problems() -> None:
    class Reply(BaseModel):
        formula: str
        rows: int

    check = json_schema(Reply)
    ok = run(check, '```json\n{"formula": "=SUM(A1:A3)", "rows": 3}\n```')
    assert ok.passed and ok.value == Reply(formula="=SUM(A1:A3)", rows=3)
    bad = run(check, '{"formula": 1}')
    assert not bad.passed and "rows" in bad.reason
    assert "invalid JSON" in run(check, "=SUM(A1)").reason
    as_dict = json_schema({"type": "object", "required": ["a"]})
    assert run(as_dict, '{"a": 1}').value == {"a": 1}
    assert "(root): fails the schema's 'required' rule" in run(as_dict, "{}").reason
    with pytest.raises(UserError, match="invalid"):
        json_schema({"type": "no-such-type"})


async def test_on_parts_checks_the_texts_of_a_parsed_reply() -> None:
    check = on_parts(lambda v: [c["comment"] for c in v["comments"]], degenerate(), name="comments")
    good = {"comments": [{"comment": "Say who approves the budget."}, {"comment": ""}]}
    assert (await check("{}", CheckContext(value=good))).passed
    loop = {"comments": [{"comment": "Fine."}, {"comment": "Duck Duck Duck Duck Duck"}]}
    out = await check("{}", CheckContext(value=loop))
    assert not out.passed and out.name == "repetition" and out.reason.startswith("part 2: 'Duck'")
    assert (await check("{}", CheckContext())).passed  # nothing parsed: nothing to check
