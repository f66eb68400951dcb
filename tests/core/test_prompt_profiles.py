"""Prompt profiles: a model card declares how skills should prompt it; a skill asks the context."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from dualtrack import NoRouteError, Orchestrator, PromptProfile, SkillContext, load_config, plugin, skill
from dualtrack.testing import FunctionConnector, model_card


@plugin("shape", description="Reports the prompt profile its call would get.")
class Shape:
    @skill
    async def profile(self, ctx: SkillContext, needs: str = "") -> str:
        """The profile of the model a call would go to.

        Args:
            needs: A tag the call requires, if any.
        """
        return ctx.prompt_profile([needs] if needs else []).value


def test_cards_are_standard_unless_they_say_small() -> None:
    conn = FunctionConnector(lambda r: "x")
    assert model_card(conn).prompt_profile is PromptProfile.STANDARD
    small = model_card(conn, prompt_profile="small")
    assert small.prompt_profile is PromptProfile.SMALL and small.summary()["prompt_profile"] == "small"
    with pytest.raises(ValidationError, match="prompt_profile"):
        model_card(conn, prompt_profile="tiny")


def test_the_profile_is_read_from_the_configuration(tmp_path: Path) -> None:
    path = tmp_path / "dualtrack.toml"
    path.write_text(
        '[[models]]\nname = "local"\ntrack = "in-house"\nconnector = "openai"\nprompt_profile = "small"\n'
        'settings = { base_url = "http://127.0.0.1:9/v1", model = "m" }\n'
    )
    (card,) = load_config(path).models
    assert card.prompt_profile is PromptProfile.SMALL


async def test_the_context_reports_the_profile_of_the_model_the_call_would_go_to() -> None:
    conn = FunctionConnector(lambda r: "x")
    small = model_card(conn, name="small", capabilities={"chat"}, prompt_profile="small", cost_input=0.0)
    big = model_card(conn, name="big", capabilities={"chat", "reasoning"}, cost_input=5.0)
    orc = Orchestrator(models=[small, big], plugins=[Shape])
    assert (await orc.invoke("shape.profile")).value == "small"
    assert (await orc.invoke("shape.profile", needs="reasoning")).value == "standard"
    with pytest.raises(NoRouteError):
        await orc.invoke("shape.profile", needs="vision")
    assert conn.calls == []  # asking costs no model call
