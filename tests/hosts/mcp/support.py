"""A small plugin and catalogs the MCP host tests serve."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from dualtrack import InputPath, Orchestrator, SkillContext, data_block, plugin, skill
from dualtrack.testing import FunctionConnector, ScriptedConnector, model_card

ECHO_PREFIX = "model says: "


class Summary(BaseModel):
    """What ``notes.summarize`` returns."""

    text: str
    words: int


@plugin("notes", description="Plain-text note helpers.")
class Notes:
    @skill(requires=["summarize"])
    async def summarize(self, ctx: SkillContext, path: InputPath) -> Summary:
        """Summarize a plain-text note in one sentence.

        Args:
            path: The .txt note to summarize.
        """
        p = ctx.input_file(path, suffixes=(".txt",))
        text = p.read_text(encoding="utf-8")
        ctx.progress(1, 2, "read the note")
        done = await ctx.generate(f"Summarize in one sentence:\n{data_block(text)}")
        ctx.progress(2, 2, "summarized")
        return Summary(text=done.text, words=len(text.split()))

    @skill(effects="write")
    async def append(self, ctx: SkillContext, path: InputPath, line: str) -> str:
        """Append one line to a plain-text note.

        Args:
            path: The .txt note to change.
            line: The line to add at the end.
        """
        p = ctx.input_file(path, suffixes=(".txt",))
        with p.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
        return f"appended 1 line to {p.name}"

    @skill(requires=["chat"])
    async def ask(self, ctx: SkillContext, question: str) -> str:
        """Answer a short question with a model.

        Args:
            question: The question.
        """
        return (await ctx.generate(question)).text

    @skill
    def shout(self, text: str) -> str:
        """Upper-case a text (no model involved).

        Args:
            text: The text.
        """
        return text.upper()


class BlockingModel:
    """A model (for :class:`FunctionConnector`) that answers a prompt holding ``only`` never, until cancelled.

    Args:
        only: Block only prompts that contain this text (default: every prompt).
        reply: The answer to the other prompts.
    """

    def __init__(self, only: str | None = None, reply: str = "short summary") -> None:
        self.only, self.reply = only, reply
        self.started, self.cancelled = asyncio.Event(), asyncio.Event()

    async def __call__(self, request: Any) -> str:
        if self.only is not None and self.only not in request.messages[-1].content:
            return self.reply
        self.started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        return "never"


def echo_connector() -> FunctionConnector:
    """A model that answers with the last message, prefixed."""
    return FunctionConnector(lambda request: ECHO_PREFIX + request.messages[-1].content[-60:])


def orchestrator(root: Path, connector: Any | None = None, **kw: Any) -> Orchestrator:
    """The test plugin on one in-house model, files confined to ``root``."""
    model = connector if connector is not None else echo_connector()
    return Orchestrator(models=[model_card(model, name="inhouse")], plugins=[Notes], roots=[root], **kw)


ANSWER = '{"answer": "In May.", "citations": [], "found": true}'


def partner_and_inhouse(reply: str = ANSWER) -> tuple[list[Any], ScriptedConnector, ScriptedConnector]:
    """A general-only partner (preferred) and a fully cleared in-house model."""
    partner = ScriptedConnector([reply], repeat_last=True)
    inhouse = ScriptedConnector([reply], repeat_last=True)
    cards = [
        model_card(partner, name="partner", track="partner", clearance="general", quality=1.0),
        model_card(inhouse, name="inhouse", track="in-house", clearance="highly-confidential", quality=0.1),
    ]
    return cards, partner, inhouse
