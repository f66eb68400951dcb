"""One chat completion on a loaded ``llama_cpp.Llama``, run on a worker thread.

The prompt is measured with the model's own tokenizer over its chat template
before anything is evaluated, so a request that cannot fit fails fast with
:class:`~dualtrack.ContextLengthError`. Generation always runs as a token stream,
even when the caller wants the whole reply, so that a cancelled caller stops it at
the next token (an exception raised inside llama.cpp's sampler callbacks would be
swallowed, so the check sits in the loop over the stream). A logits processor
counts the sampled tokens, because streamed replies carry no usage.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dualtrack import Completion, ConnectorError, ContextLengthError, Message, ServerError, Usage

from ._shared import SharedModel, llama_module

__all__ = ["Cancelled", "Job", "prompt_tokens", "run_job"]

_PER_MESSAGE_OVERHEAD = 6  # role markers and separators, when the GGUF has no template


class Cancelled(Exception):
    """Internal: the caller stopped waiting, so generation was abandoned."""


@dataclass(slots=True)
class Job:
    """One request, as the worker thread sees it.

    Attributes:
        messages: OpenAI-style message dicts.
        max_tokens: Reply budget; ``None`` lets the reply use the rest of the window.
        temperature: Sampling temperature; ``None`` keeps llama-cpp-python's default.
        stop: Stop sequences.
        schema: JSON Schema the reply must satisfy, enforced by a grammar.
        repeat_penalty: Penalty on recently used tokens (``None``: llama-cpp-python's default).
        emit: Receives text increments when streaming (called on the worker thread).
        cancelled: Set by the caller to stop generation between tokens.
        sampled: Tokens sampled so far.
    """

    messages: list[dict[str, Any]]
    max_tokens: int | None = None
    temperature: float | None = None
    stop: list[str] | None = None
    schema: dict[str, Any] | None = None
    repeat_penalty: float | None = None
    emit: Callable[[str], None] | None = None
    cancelled: threading.Event = field(default_factory=threading.Event)
    sampled: int = 0

    def on_token(self, input_ids: Any, scores: Any) -> Any:
        """Logits processor: count one sampled token (the logits pass unchanged)."""
        self.sampled += 1
        return scores


def to_dicts(messages: list[Message]) -> list[dict[str, Any]]:
    """Core messages as the dicts llama-cpp-python's chat templates expect."""
    out: list[dict[str, Any]] = []
    for m in messages:
        item: dict[str, Any] = {"role": m.role, "content": m.content}
        if m.name:
            item["name"] = m.name
        if m.tool_call_id:
            item["tool_call_id"] = m.tool_call_id
        out.append(item)
    return out


def _formatter(llama: Any) -> Any:
    cached = getattr(llama, "_dualtrack_formatter", False)
    if cached is not False:
        return cached
    template = llama.metadata.get("tokenizer.chat_template")
    formatter = None
    if template:
        special = {"eos_token": llama.token_eos(), "bos_token": llama.token_bos()}
        texts = {
            k: llama.detokenize([v], special=True).decode("utf-8", "replace") if v >= 0 else ""
            for k, v in special.items()
        }
        formatter = llama_module().llama_chat_format.Jinja2ChatFormatter(template=template, **texts)
    llama._dualtrack_formatter = formatter
    return formatter


def prompt_tokens(llama: Any, messages: list[dict[str, Any]]) -> int:
    """Tokens the prompt takes: exact through the GGUF's chat template, else estimated per message."""
    formatter = _formatter(llama)
    if formatter is not None:
        try:
            result = formatter(messages=messages)
        except Exception:  # noqa: BLE001 - a template may reject some roles; estimate instead
            result = None
        if result is not None:
            prompt = result.prompt.encode("utf-8")
            return len(llama.tokenize(prompt, add_bos=not result.added_special, special=True))
    return (
        sum(
            len(llama.tokenize(str(m["content"]).encode("utf-8"), add_bos=False)) + _PER_MESSAGE_OVERHEAD
            for m in messages
        )
        + 2
    )


def _check_fits(n_prompt: int, max_tokens: int | None, n_ctx: int) -> int:
    room = n_ctx - n_prompt
    if room <= 0 or (max_tokens is not None and max_tokens > room):
        want = f" plus up to {max_tokens} for the reply" if max_tokens is not None else ""
        raise ContextLengthError(
            f"the prompt is {n_prompt} tokens{want}, but the model's context window is {n_ctx} tokens. "
            "Send less text, lower max_tokens, or load the model with a larger settings.n_ctx."
        )
    return max_tokens if max_tokens is not None else room


def run_job(llama: Any, job: Job, shared: SharedModel, model_name: str) -> Completion:
    """Run ``job`` on ``llama`` (blocking; call it on the model's worker thread).

    Args:
        llama: The checked-out ``llama_cpp.Llama`` instance.
        job: The request.
        shared: The shared model, for grammars and token statistics.
        model_name: Reported as :attr:`Completion.model`.

    Returns:
        The assembled completion with usage.

    Raises:
        ContextLengthError: The prompt plus ``max_tokens`` does not fit ``n_ctx``.
        ServerError: llama.cpp failed while generating.
        Cancelled: The caller set ``job.cancelled``.
    """
    if job.cancelled.is_set():
        raise Cancelled
    try:
        n_prompt = prompt_tokens(llama, job.messages)
    except Exception as exc:
        raise ServerError(f"could not tokenize the prompt: {exc}") from exc
    max_tokens = _check_fits(n_prompt, job.max_tokens, llama.n_ctx())
    kwargs: dict[str, Any] = {
        "messages": job.messages,
        "max_tokens": max_tokens,
        "logits_processor": [job.on_token],
        "stream": True,
    }
    if job.temperature is not None:
        kwargs["temperature"] = job.temperature
    if job.stop:
        kwargs["stop"] = list(job.stop)
    if job.repeat_penalty is not None:
        kwargs["repeat_penalty"] = job.repeat_penalty
    try:
        if job.schema is not None:
            kwargs["grammar"] = shared.grammar(job.schema)
        return _collect(llama.create_chat_completion(**kwargs), job, n_prompt, model_name)
    except (Cancelled, ConnectorError):
        raise
    except ValueError as exc:
        if "context window" in str(exc):
            raise ContextLengthError(f"{exc}; send less text or raise settings.n_ctx") from exc
        raise ServerError(f"llama.cpp failed: {exc}") from exc
    except Exception as exc:  # anything else from the native library is a failure of the model
        raise ServerError(f"llama.cpp failed: {type(exc).__name__}: {exc}") from exc
    finally:
        shared.count_tokens(job.sampled)


def _collect(chunks: Any, job: Job, n_prompt: int, model_name: str) -> Completion:
    parts: list[str] = []
    finish: str | None = None
    try:
        for chunk in chunks:
            if job.cancelled.is_set():
                raise Cancelled
            choice = chunk["choices"][0]
            piece = choice.get("delta", {}).get("content")
            if piece:
                parts.append(piece)
                if job.emit is not None:
                    job.emit(piece)
            finish = choice.get("finish_reason") or finish
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    # The sampler also saw the end-of-generation token, which is not part of the reply.
    output = max(0, job.sampled - (1 if finish == "stop" else 0))
    return Completion(
        text="".join(parts), usage=Usage(n_prompt, output), finish_reason=finish, model=model_name
    )
