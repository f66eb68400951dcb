"""Server-sent events: parse the byte stream and assemble chunks into one completion."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from dualtrack import Completion, CompletionRequest, ServerError, ToolCall

from .._http import HttpStream, Redactor
from ._errors import error_from_payload, malformed
from ._wire import refused, usage_from

__all__ = ["StreamAssembler", "read_stream", "sse_events"]


async def sse_events(chunks: AsyncIterator[bytes]) -> AsyncIterator[tuple[str, str]]:
    """Yield ``(event, data)`` pairs from a ``text/event-stream`` body.

    Follows the SSE rules OpenAI-style servers rely on: ``data:`` lines of one
    event are joined with newlines, a blank line ends the event, lines starting
    with ``:`` are comments (keep-alives). An event cut by the end of the body
    is still delivered; the assembler decides whether the reply was complete.
    """
    buf = b""
    event = ""
    data: list[str] = []
    async for chunk in chunks:
        buf += chunk
        if b"\n" not in chunk:
            continue
        *lines, buf = buf.split(b"\n")
        for raw in lines:
            line = raw.rstrip(b"\r")
            if not line:
                if data:
                    yield event or "message", "\n".join(data)
                event, data = "", []
                continue
            if line[:1] == b":":
                continue
            name, _, value = line.partition(b":")
            if value[:1] == b" ":
                value = value[1:]
            if name == b"data":
                data.append(value.decode("utf-8", "replace"))
            elif name == b"event":
                event = value.decode("utf-8", "replace")
    tail = buf.rstrip(b"\r")
    if tail.startswith(b"data:"):
        data.append(tail[5:].lstrip(b" ").decode("utf-8", "replace"))
    if data:
        yield event or "message", "\n".join(data)


class StreamAssembler:
    """Accumulates ``chat.completion.chunk`` objects into one completion.

    Text increments are returned by :meth:`feed`; tool-call fragments are
    joined by their ``index`` (ids and names arrive once, arguments in pieces).

    Args:
        where: The endpoint, for error messages.
        redactor: Masks secrets in error messages.
    """

    def __init__(self, where: str, redactor: Redactor) -> None:
        self.where = where
        self.redactor = redactor
        self.parts: list[str] = []
        self.tools: dict[int, list[Any]] = {}
        self.finish_reason: str | None = None
        self.usage: Any = None
        self.model: str | None = None
        self.deltas = 0
        self.done = False
        self.whole: Completion | None = None

    def adopt(self, completion: Completion) -> None:
        """Use a whole completion (from a server that ignored ``stream=true``)."""
        self.whole = completion

    def feed(self, chunk: Any) -> str:
        """Take one decoded chunk; return its text increment (may be empty)."""
        if not isinstance(chunk, dict):
            raise malformed(self.where, "a stream chunk is not an object", json.dumps(chunk), self.redactor)
        if "error" in chunk:
            raise error_from_payload(chunk, status=None, where=self.where, redactor=self.redactor)
        if chunk.get("usage"):
            self.usage = chunk["usage"]
        if chunk.get("model"):
            self.model = chunk["model"]
        choices = chunk.get("choices")
        if not choices:
            return ""
        choice = choices[0]
        finish = choice.get("finish_reason")
        if finish:
            self.finish_reason = finish
        delta = choice.get("delta") or {}
        if finish == "content_filter" or delta.get("refusal"):
            raise refused(self.where, finish, delta.get("refusal"), self.redactor)
        for tc in delta.get("tool_calls") or ():
            index = tc.get("index", len(self.tools))
            slot = self.tools.get(index)
            if slot is None:
                slot = self.tools[index] = [None, [], []]
            if tc.get("id"):
                slot[0] = tc["id"]
            fn = tc.get("function") or {}
            if fn.get("name"):
                slot[1].append(fn["name"])
            if fn.get("arguments"):
                slot[2].append(fn["arguments"])
        text = delta.get("content")
        if text:
            self.parts.append(text)
            self.deltas += 1
            return str(text)
        return ""

    def completion(self, request: CompletionRequest) -> Completion:
        """The assembled completion.

        Raises:
            ServerError: The stream ended without a finish reason or ``[DONE]``.
        """
        if self.whole is not None:
            return self.whole
        if self.finish_reason is None and not self.done:
            raise ServerError(
                f"the stream from {self.where} ended before the reply was complete "
                f"({self.deltas} chunk(s) received); the server may have crashed"
            )
        text = "".join(self.parts)
        calls = tuple(
            ToolCall(slot[0] or f"call_{i}", "".join(slot[1]), "".join(slot[2]) or "{}")
            for i, slot in sorted(self.tools.items())
        )
        return Completion(
            text=text,
            tool_calls=calls,
            usage=usage_from(self.usage, request, text, output_tokens=self.deltas),
            finish_reason=self.finish_reason or ("tool_calls" if calls else "stop"),
            model=self.model,
        )


async def read_stream(stream: HttpStream, assembler: StreamAssembler) -> AsyncIterator[str]:
    """Drive ``assembler`` from an open response; yield each text increment."""
    where, redactor = assembler.where, assembler.redactor
    async for event, data in sse_events(stream.chunks()):
        if data.strip() == "[DONE]":
            assembler.done = True
            return
        try:
            chunk = json.loads(data)
        except ValueError:
            raise malformed(where, "a stream event is not JSON", data, redactor) from None
        if event == "error":
            raise error_from_payload(chunk, status=None, where=where, redactor=redactor, raw=data)
        text = assembler.feed(chunk)
        if text:
            yield text
