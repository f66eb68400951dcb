"""A dualtrack-routed chat client for Microsoft Agent Framework agents.

:class:`DualtrackChatClient` is an Agent Framework chat client (with its function
invocation layer, so agents call tools and ask approvals as usual) whose every model
call dualtrack routes: capability tags and sensitivity pick the model, the executor
retries and falls back, and the ledger records usage under the skill ``agents.chat``.

The conversation's sensitivity only rises: a tool result from a dualtrack skill carries
the level of what the skill read, and every later call of the conversation is routed at
least at that level, so a labelled document never reaches a model cleared below it.
Per call, ``options["metadata"]`` may add ``dualtrack_requires`` (tags) and
``dualtrack_sensitivity``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from typing import Any

from agent_framework import (
    BaseChatClient,
    ChatResponse,
    ChatResponseUpdate,
    Content,
    FunctionInvocationLayer,
    FunctionTool,
    Message,
)

import dualtrack
from dualtrack import Orchestrator, Sensitivity, SkillContext, ToolCall, host_skill

from .._shared import SENSITIVITY_KEY, highest_label, tool_arguments

__all__ = ["DualtrackChatClient", "conversation_sensitivity", "to_messages"]


class DualtrackChatClient(FunctionInvocationLayer[Any], BaseChatClient[Any]):
    """An Agent Framework chat client whose every call dualtrack routes.

    Args:
        orchestrator: The orchestrator (catalog, router, policy, ledger).
        requires: Tags every call of this client requires (``chat`` is always added).
        sensitivity: A floor for the sensitivity of every call of this client.
        **kwargs: Passed to the Agent Framework layers (middleware, function invocation settings).
    """

    OTEL_PROVIDER_NAME = "dualtrack"

    def __init__(
        self,
        orchestrator: Orchestrator,
        *,
        requires: Iterable[str] = (),
        sensitivity: Sensitivity | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.orchestrator = orchestrator
        self.requires = frozenset({"chat", *requires})
        self.floor = orchestrator.sensitivity_of(sensitivity)
        self._chat = host_skill("agents.chat", requires=self.requires)

    def _inner_get_response(
        self, *, messages: Sequence[Message], stream: bool, options: Mapping[str, Any], **kwargs: Any
    ) -> Any:
        if stream:
            return self._build_response_stream(self._stream(messages, options))
        return self._respond(messages, options)

    async def _stream(
        self, messages: Sequence[Message], options: Mapping[str, Any]
    ) -> AsyncIterator[ChatResponseUpdate]:
        pieces: asyncio.Queue[str | None] = asyncio.Queue()
        task = asyncio.ensure_future(self._respond(messages, options, on_text=pieces.put_nowait))
        task.add_done_callback(lambda _: pieces.put_nowait(None))
        streamed = False
        try:
            while (piece := await pieces.get()) is not None:
                streamed = True
                yield ChatResponseUpdate(role="assistant", contents=[Content.from_text(piece)])
            response = await task
        finally:
            if not task.done():
                task.cancel()
        # the text went out in pieces; the last update brings tool calls, usage and the level
        (msg,) = response.messages
        rest = [c for c in msg.contents if c.type != "text" or not streamed]
        if response.usage_details:
            rest.append(Content.from_usage(response.usage_details))
        yield ChatResponseUpdate(
            role="assistant",
            contents=rest,
            model=response.model,
            finish_reason=response.finish_reason,
            additional_properties=response.additional_properties,
        )

    async def _respond(
        self,
        messages: Sequence[Message],
        options: Mapping[str, Any],
        on_text: Callable[[str], None] | None = None,
    ) -> ChatResponse[Any]:
        opts = await self._validate_options(options)
        meta = opts.get("metadata") or {}
        level = conversation_sensitivity(
            messages, self.orchestrator.sensitivity_of(meta.get("dualtrack_sensitivity"))
        )
        ctx = SkillContext(self.orchestrator, self._chat, max(level, self.floor))
        history = to_messages(messages, opts.get("instructions"))
        done = await ctx.generate(
            history,
            requires=meta.get("dualtrack_requires") or (),
            max_tokens=opts.get("max_tokens"),
            temperature=opts.get("temperature"),
            tools=_tool_specs(opts.get("tools")) if opts.get("tool_choice") != "none" else None,
            on_text=on_text,
        )
        contents: list[Content] = [Content.from_text(done.text)] if done.text else []
        contents += [
            Content.from_function_call(c.id, c.name, arguments=c.arguments or "{}") for c in done.tool_calls
        ]
        props = {SENSITIVITY_KEY: ctx.sensitivity.value, "dualtrack.model": done.model_card}
        finish: Any = done.finish_reason if done.finish_reason in ("stop", "length", "tool_calls") else "stop"
        return ChatResponse(
            messages=[Message(role="assistant", contents=contents, additional_properties=dict(props))],
            model=done.model_card,
            finish_reason=finish,
            usage_details={
                "input_token_count": done.usage.input_tokens,
                "output_token_count": done.usage.output_tokens,
                "total_token_count": done.usage.total_tokens,
            },
            additional_properties={**props, "dualtrack.calls": list(ctx.calls)},
        )


def conversation_sensitivity(
    messages: Iterable[Message], floor: Sensitivity = Sensitivity.PUBLIC
) -> Sensitivity:
    """The highest level recorded on a message, a content, or a tool result's items."""
    holders: list[Any] = []
    for msg in messages:
        holders.append(msg)
        for content in msg.contents:
            holders.append(content)
            holders.extend(getattr(content, "items", None) or ())
    return highest_label((getattr(h, "additional_properties", None) for h in holders), floor)


def to_messages(messages: Sequence[Message], instructions: str | None = None) -> list[dualtrack.Message]:
    """Agent Framework messages as dualtrack messages (tool calls and results included)."""
    out: list[dualtrack.Message] = [dualtrack.Message.system(instructions)] if instructions else []
    for msg in messages:
        role = str(getattr(msg.role, "value", msg.role))
        results = [c for c in msg.contents if c.type == "function_result"]
        if results:
            out += [dualtrack.Message.tool(_result_text(c), c.call_id or "") for c in results]
            continue
        text = "".join(c.text or "" for c in msg.contents if c.type == "text")
        if role == "system":
            out.append(dualtrack.Message.system(text))
        elif role == "assistant":
            calls = [
                ToolCall(id=c.call_id or "", name=c.name or "", arguments=tool_arguments(c.arguments))
                for c in msg.contents
                if c.type == "function_call"
            ]
            out.append(dualtrack.Message.assistant(text, calls))
        else:
            out.append(dualtrack.Message.user(text))
    return out


def _tool_specs(tools: Any) -> list[dict[str, Any]] | None:
    if not tools:
        return None
    specs = [t.to_json_schema_spec() for t in (tools if isinstance(tools, list) else [tools])
             if isinstance(t, FunctionTool)]  # fmt: skip
    return specs or None


def _result_text(content: Content) -> str:
    items = getattr(content, "items", None) or []
    texts = [i.text for i in items if getattr(i, "type", None) == "text" and i.text is not None]
    if texts:
        return "".join(texts)
    value = content.result
    return value if isinstance(value, str) else json.dumps(value, default=str)
