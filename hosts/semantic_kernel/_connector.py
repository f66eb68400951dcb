"""SK's own chat services as dualtrack models: a connector around any SK chat completion service.

``ModelCard(name="phi", track="in-house", connector=SKConnector(OllamaChatCompletion(...)))``
lets the router choose a model that SK's Ollama, ONNX, Hugging Face or Azure AI Inference
connector talks to, with dualtrack's retries, fallback, breaker and ledger around it.
"""

from __future__ import annotations

from typing import Any

from semantic_kernel.connectors.ai.chat_completion_client_base import ChatCompletionClientBase
from semantic_kernel.connectors.ai.prompt_execution_settings import PromptExecutionSettings
from semantic_kernel.contents import (
    AuthorRole,
    ChatHistory,
    ChatMessageContent,
    FunctionCallContent,
    FunctionResultContent,
    TextContent,
)

from dualtrack import (
    AuthenticationError,
    Completion,
    CompletionRequest,
    ConnectorError,
    ContentFilterError,
    ModelTimeoutError,
    RateLimitError,
    ServerError,
    ToolCall,
    Usage,
    UserError,
)

from .._shared import tool_arguments

__all__ = ["SKConnector", "to_chat_history"]


class SKConnector:
    """A dualtrack connector that completes requests with an SK chat completion service.

    Args:
        service: Any SK ``ChatCompletionClientBase`` (OpenAI, Azure, Ollama, ONNX ...).
        settings: Base execution settings of that service's class; ``max_tokens``,
            ``temperature``, ``tools`` and ``response_format`` are set per request where
            the settings class has them.
    """

    def __init__(
        self, service: ChatCompletionClientBase, settings: PromptExecutionSettings | None = None
    ) -> None:
        if not isinstance(service, ChatCompletionClientBase):
            raise UserError(
                f"SKConnector wraps an SK chat completion service, got {type(service).__name__}; "
                "pass e.g. OpenAIChatCompletion(...) or OllamaChatCompletion(...)"
            )
        self.service = service
        self.settings = settings

    def __repr__(self) -> str:
        return f"SKConnector({type(self.service).__name__}, model={self.service.ai_model_id!r})"

    async def complete(self, request: CompletionRequest) -> Completion:
        """Complete one request with the wrapped service (streams when ``request.on_text`` is set)."""
        settings = self._settings(request)
        history = to_chat_history(request)
        try:
            if request.on_text is not None:
                reply = await self._stream(history, settings, request)
            else:
                reply = await self.service.get_chat_message_content(history, settings)
        except ConnectorError:
            raise
        except Exception as exc:
            raise _typed(exc, self.service) from exc
        if reply is None:
            raise ConnectorError(f"{type(self.service).__name__} returned no message", model=None)
        calls = tuple(
            ToolCall(
                id=i.id or f"call_{n}", name=i.name or i.function_name, arguments=tool_arguments(i.arguments)
            )
            for n, i in enumerate(reply.items)
            if isinstance(i, FunctionCallContent)
        )
        usage = (reply.metadata or {}).get("usage")
        finish = getattr(reply.finish_reason, "value", reply.finish_reason)
        return Completion(
            text=reply.content or "",
            tool_calls=calls,
            usage=Usage(
                int(getattr(usage, "prompt_tokens", 0) or 0), int(getattr(usage, "completion_tokens", 0) or 0)
            ),
            finish_reason=str(finish) if finish else ("tool_calls" if calls else "stop"),
            model=reply.ai_model_id or self.service.ai_model_id,
        )

    async def _stream(
        self, history: ChatHistory, settings: PromptExecutionSettings, request: CompletionRequest
    ) -> ChatMessageContent | None:
        assert request.on_text is not None
        full: Any = None
        async for chunk in self.service.get_streaming_chat_message_content(history, settings):
            if chunk is None:
                continue
            if chunk.content:
                request.on_text(chunk.content)
            full = chunk if full is None else full + chunk
        reply: ChatMessageContent | None = full
        return reply

    def _settings(self, request: CompletionRequest) -> PromptExecutionSettings:
        cls = self.service.get_prompt_execution_settings_class()
        base = self.settings
        settings: Any = cls.from_prompt_execution_settings(base) if base is not None else cls()
        if base is not None and isinstance(base, cls):
            settings = base.model_copy(deep=True)
        fields = type(settings).model_fields
        if request.max_tokens is not None and "max_tokens" in fields:
            settings.max_tokens = request.max_tokens
        if request.temperature is not None and "temperature" in fields:
            settings.temperature = request.temperature
        if request.tools:
            if "tools" not in fields:
                raise ConnectorError(f"{cls.__name__} takes no tool definitions; route tool calls elsewhere")
            settings.tools = request.tools
            if "tool_choice" in fields:
                settings.tool_choice = "auto"
        if request.json_schema is not None and "response_format" in fields:
            settings.response_format = {
                "type": "json_schema",
                "json_schema": {"name": "reply", "schema": request.json_schema},
            }
        done: PromptExecutionSettings = settings
        return done


def to_chat_history(request: CompletionRequest) -> ChatHistory:
    """Dualtrack messages as an SK chat history (tool calls and results included)."""
    history = ChatHistory()
    names: dict[str, str] = {}
    for m in request.messages:
        if m.role == "system":
            history.add_message(ChatMessageContent(role=AuthorRole.SYSTEM, content=m.content))
        elif m.role == "user":
            history.add_message(ChatMessageContent(role=AuthorRole.USER, content=m.content))
        elif m.role == "assistant":
            items: list[Any] = [TextContent(text=m.content)] if m.content else []
            for c in m.tool_calls:
                names[c.id] = c.name
                items.append(FunctionCallContent(id=c.id, name=c.name, arguments=c.arguments))
            history.add_message(ChatMessageContent(role=AuthorRole.ASSISTANT, items=items))
        else:
            call_id = m.tool_call_id or ""
            result = FunctionResultContent(
                id=call_id, name=names.get(call_id, m.name or "tool"), result=m.content
            )
            history.add_message(ChatMessageContent(role=AuthorRole.TOOL, items=[result]))
    return history


def _typed(exc: Exception, service: ChatCompletionClientBase) -> ConnectorError:
    """The dualtrack error for an SK or provider failure (status codes from the cause chain)."""
    who = type(service).__name__
    name = type(exc).__name__
    status = None
    cause: BaseException | None = exc
    while cause is not None and status is None:
        status = getattr(cause, "status_code", None)
        if "Timeout" in type(cause).__name__:
            return ModelTimeoutError(f"{who}: no answer in time ({type(cause).__name__})")
        cause = cause.__cause__ or cause.__context__
    message = f"{who} failed: {name}: {str(exc)[:300]}"
    if "ContentFilter" in name:
        return ContentFilterError(message, status_code=status)
    if status == 429:
        return RateLimitError(message, status_code=status)
    if status in (401, 403):
        return AuthenticationError(message, status_code=status)
    if isinstance(status, int) and status >= 500:
        return ServerError(message, status_code=status)
    return ConnectorError(message, status_code=status if isinstance(status, int) else None)
