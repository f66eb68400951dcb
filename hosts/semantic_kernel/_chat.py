"""dualtrack as Semantic Kernel's model layer: a chat completion service that routes each call.

:class:`DualtrackChatCompletion` is an SK ``ChatCompletionClientBase``. Every SK call
(prompt functions, chat, automatic function calling) becomes one routed dualtrack model
call: capability tags and sensitivity come from :class:`DualtrackExecutionSettings`
(or the ``extension_data`` of any settings), the router picks the model, the executor
retries and falls back, and the ledger records usage under the skill ``sk.chat``.

The conversation's sensitivity only rises: a tool result or reply in the chat history
labelled by dualtrack (see ``_levels``) raises the level of every later call, so a
document labelled confidential, once read by a skill, never reaches a model cleared
below it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Callable
from typing import Any, ClassVar

from pydantic import Field
from semantic_kernel.connectors.ai.chat_completion_client_base import ChatCompletionClientBase
from semantic_kernel.connectors.ai.completion_usage import CompletionUsage
from semantic_kernel.connectors.ai.function_calling_utils import (
    kernel_function_metadata_to_function_call_format,
)
from semantic_kernel.connectors.ai.prompt_execution_settings import PromptExecutionSettings
from semantic_kernel.contents import (
    AuthorRole,
    ChatHistory,
    ChatMessageContent,
    FunctionCallContent,
    FunctionResultContent,
    StreamingChatMessageContent,
    StreamingTextContent,
    TextContent,
)
from semantic_kernel.contents.utils.finish_reason import FinishReason

from dualtrack import Completion, Message, Orchestrator, Sensitivity, SkillContext, ToolCall, host_skill

from .._shared import tool_arguments
from ._levels import SENSITIVITY_KEY, history_sensitivity

__all__ = ["DualtrackChatCompletion", "DualtrackExecutionSettings", "to_messages"]


class DualtrackExecutionSettings(PromptExecutionSettings):
    """SK execution settings that carry dualtrack's routing inputs.

    Attributes:
        requires: Capability tags the model must have (``chat`` is always added).
        prefers: Tags that make a model more attractive.
        sensitivity: The level of the data the call carries (``None``: the orchestrator's default).
        max_tokens: Reply budget.
        temperature: Sampling temperature.
        tools: OpenAI-format tools (filled in by SK's function choice behaviour).
        tool_choice: ``auto``, ``required`` or ``none`` (filled in by SK).
    """

    requires: list[str] = Field(default_factory=list)
    prefers: list[str] = Field(default_factory=list)
    sensitivity: str | None = None
    max_tokens: int | None = Field(default=None, gt=0)
    temperature: float | None = None
    tools: list[dict[str, Any]] | None = Field(default=None, exclude=True)
    tool_choice: str | None = None


class DualtrackChatCompletion(ChatCompletionClientBase):
    """An SK chat completion service whose every call dualtrack routes.

    Args:
        orchestrator: The orchestrator (its catalog, router, policy, ledger).
        service_id: The service id in the kernel.
        requires: Tags every call of this service requires.
        sensitivity: A floor for the sensitivity of every call of this service.
    """

    SUPPORTS_FUNCTION_CALLING: ClassVar[bool] = True
    orchestrator: Any = Field(exclude=True)
    requires: list[str] = Field(default_factory=list)
    floor: str | None = None

    def __init__(
        self,
        orchestrator: Orchestrator,
        *,
        service_id: str = "dualtrack",
        requires: list[str] | tuple[str, ...] = (),
        sensitivity: Sensitivity | str | None = None,
    ) -> None:
        super().__init__(
            ai_model_id="dualtrack",
            service_id=service_id,
            orchestrator=orchestrator,
            requires=list(requires),
            floor=None if sensitivity is None else Sensitivity.parse(sensitivity).value,
        )

    def get_prompt_execution_settings_class(self) -> type[PromptExecutionSettings]:
        """SK asks which settings class this service takes."""
        return DualtrackExecutionSettings

    def _update_function_choice_settings_callback(self) -> Callable[..., None]:
        def update(configuration: Any, settings: PromptExecutionSettings, choice_type: Any) -> None:
            if not isinstance(settings, DualtrackExecutionSettings):
                return
            choice = getattr(choice_type, "value", str(choice_type))
            settings.tool_choice = choice
            functions = configuration.available_functions or []
            settings.tools = (
                [kernel_function_metadata_to_function_call_format(f) for f in functions]
                if functions and choice != "none"
                else None
            )

        return update

    def _reset_function_choice_settings(self, settings: PromptExecutionSettings) -> None:
        if isinstance(settings, DualtrackExecutionSettings):
            settings.tools = None
            settings.tool_choice = None

    def service_url(self) -> str | None:
        """No URL: dualtrack picks the model per call."""
        return None

    async def _inner_get_chat_message_contents(
        self, chat_history: ChatHistory, settings: PromptExecutionSettings
    ) -> list[ChatMessageContent]:
        done, level, calls = await self._generate(chat_history, settings)
        return [self._reply(done, level, calls)]

    async def _inner_get_streaming_chat_message_contents(
        self,
        chat_history: ChatHistory,
        settings: PromptExecutionSettings,
        function_invoke_attempt: int = 0,
    ) -> AsyncGenerator[list[StreamingChatMessageContent], Any]:
        pieces: asyncio.Queue[str | None] = asyncio.Queue()
        task = asyncio.ensure_future(self._generate(chat_history, settings, on_text=pieces.put_nowait))
        task.add_done_callback(lambda _: pieces.put_nowait(None))
        streamed: list[str] = []
        try:
            while (piece := await pieces.get()) is not None:
                streamed.append(piece)
                yield [
                    self._chunk([StreamingTextContent(choice_index=0, text=piece)], function_invoke_attempt)
                ]
            done, level, calls = await task
        finally:
            if not task.done():
                task.cancel()
        reply = self._reply(done, level, calls)
        # the text went out in pieces; the last chunk brings tool calls, usage and the level
        rest: list[Any] = [i for i in reply.items if isinstance(i, FunctionCallContent)]
        if not streamed and done.text:
            rest.insert(0, StreamingTextContent(choice_index=0, text=done.text))
        last = self._chunk(rest, function_invoke_attempt)
        last.metadata = reply.metadata
        last.finish_reason = reply.finish_reason
        last.ai_model_id = reply.ai_model_id
        yield [last]

    @staticmethod
    def _chunk(items: list[Any], attempt: int) -> StreamingChatMessageContent:
        return StreamingChatMessageContent(
            role=AuthorRole.ASSISTANT, choice_index=0, items=items, function_invoke_attempt=attempt
        )

    async def _generate(
        self,
        chat_history: ChatHistory,
        settings: PromptExecutionSettings,
        on_text: Callable[[str], None] | None = None,
    ) -> tuple[Completion, Sensitivity, list[Any]]:
        orc: Orchestrator = self.orchestrator
        s = settings if isinstance(settings, DualtrackExecutionSettings) else DualtrackExecutionSettings()
        extra = settings.extension_data or {}
        requires = {"chat", *self.requires, *s.requires, *extra.get("requires", ())}
        floor = max(
            orc.sensitivity_of(s.sensitivity or extra.get("sensitivity")),
            orc.sensitivity_of(self.floor) if self.floor else Sensitivity.PUBLIC,
        )
        level = history_sensitivity(chat_history.messages, floor)
        ctx = SkillContext(orc, host_skill("sk.chat", requires=requires), level)
        done = await ctx.generate(
            to_messages(chat_history),
            prefers=[*s.prefers, *extra.get("prefers", ())],
            max_tokens=s.max_tokens,
            temperature=s.temperature,
            tools=s.tools or None,
            on_text=on_text,
        )
        return done, ctx.sensitivity, list(ctx.calls)

    def _reply(self, done: Completion, level: Sensitivity, calls: list[Any]) -> ChatMessageContent:
        items: list[Any] = [TextContent(text=done.text)] if done.text else []
        items += [FunctionCallContent(id=c.id, name=c.name, arguments=c.arguments) for c in done.tool_calls]
        usage = CompletionUsage(
            prompt_tokens=done.usage.input_tokens, completion_tokens=done.usage.output_tokens
        )
        finish = {
            "stop": FinishReason.STOP,
            "length": FinishReason.LENGTH,
            "tool_calls": FinishReason.TOOL_CALLS,
        }
        return ChatMessageContent(
            role=AuthorRole.ASSISTANT,
            items=items,
            ai_model_id=done.model_card,
            finish_reason=finish.get(done.finish_reason or "stop", FinishReason.STOP),
            metadata={
                "usage": usage,
                SENSITIVITY_KEY: level.value,
                "dualtrack.model": done.model_card,
                "dualtrack.calls": calls,
            },
        )


def to_messages(chat_history: ChatHistory) -> list[Message]:
    """An SK chat history as dualtrack messages (tool calls and results included)."""
    out: list[Message] = []
    for msg in chat_history.messages:
        results = [i for i in msg.items if isinstance(i, FunctionResultContent)]
        if results:
            out += [Message.tool(_result_text(r.result), r.id or "") for r in results]
            continue
        text = msg.content or ""
        if msg.role in (AuthorRole.SYSTEM, AuthorRole.DEVELOPER):
            out.append(Message.system(text))
        elif msg.role == AuthorRole.ASSISTANT:
            calls = [
                ToolCall(id=i.id or "", name=i.name or i.function_name, arguments=tool_arguments(i.arguments))
                for i in msg.items
                if isinstance(i, FunctionCallContent)
            ]
            out.append(Message.assistant(text, calls))
        else:
            out.append(Message.user(text))
    return out


def _result_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)
