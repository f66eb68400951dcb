"""One loaded model per process and settings, shared by every connector that names it.

A llama.cpp context is not thread-safe, so each :class:`SharedModel` owns a
private thread pool with one worker per model instance, and every call checks an
instance out for its whole run. With the default of one instance, calls are
served one at a time in arrival order and the model is loaded exactly once, by
the first call, however many calls start together. The pool is private so that
queued model calls never occupy the event loop's default executor (which
synchronous skills use while they wait for those very calls).

``llama_cpp`` is imported here lazily, on the worker thread, at the first load.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from dualtrack import ConnectorError

from ._paths import EXTRA_HINT

__all__ = [
    "ModelKey",
    "SharedModel",
    "acquire",
    "default_threads",
    "llama_module",
    "loaded_models",
    "release",
]

T = TypeVar("T")
_MAX_GRAMMARS = 64


@dataclass(slots=True, frozen=True)
class ModelKey:
    """Everything that makes two loaded models different.

    Attributes:
        path: The absolute GGUF path.
        n_ctx: The context size the model is loaded with.
        n_threads: CPU threads per instance (``None``: :func:`default_threads`).
        seed: Sampling seed (``None``: llama.cpp's default).
        chat_format: A llama-cpp-python chat format name (``None``: the GGUF's template).
        instances: Model instances that may run at once.
    """

    path: str
    n_ctx: int
    n_threads: int | None = None
    seed: int | None = None
    chat_format: str | None = None
    instances: int = 1


def default_threads(instances: int = 1) -> int:
    """CPU threads per instance when none are configured: half the cores, shared out."""
    return max(1, (os.cpu_count() or 2) // 2 // max(1, instances))


def llama_module() -> Any:
    """Import ``llama_cpp`` on first use, mapping a failure to a connector error.

    Raises:
        ConnectorError: ``llama-cpp-python`` is missing or its native library does not load.
    """
    try:
        import llama_cpp
    except (ImportError, OSError, RuntimeError) as exc:  # missing, or its native library failed
        raise ConnectorError(
            f"llama-cpp-python could not be imported ({exc}); install the extra: {EXTRA_HINT}"
        ) from exc
    return llama_cpp


class SharedModel:
    """A model file loaded once and used by many connectors.

    Attributes:
        key: The settings it was loaded with.
        refs: Connectors currently holding it.
        loads: Model instances created so far.
        tokens_generated: Completion tokens sampled by every call so far.
    """

    def __init__(self, key: ModelKey) -> None:
        self.key = key
        self.refs = 0
        self.loads = 0
        self.tokens_generated = 0
        self._lock = threading.Lock()
        self._idle: list[Any] = []
        self._created = 0
        self._closed = False
        self._grammars: dict[str, Any] = {}
        self._executor = ThreadPoolExecutor(max_workers=key.instances, thread_name_prefix="dualtrack-llama")

    def submit(self, fn: Callable[[Any], T]) -> Future[T]:
        """Run ``fn(llama)`` on a worker thread with a model instance checked out."""
        return self._executor.submit(self._run, fn)

    def _run(self, fn: Callable[[Any], T]) -> T:
        llama = self._checkout()
        try:
            return fn(llama)
        finally:
            with self._lock:
                closed = self._closed
                if not closed:
                    self._idle.append(llama)
            if closed:
                llama.close()

    def _checkout(self) -> Any:
        with self._lock:
            if self._idle:
                return self._idle.pop()
            self._created += 1  # one worker per instance: never more than key.instances
        try:
            llama = self._load()
        except BaseException:
            with self._lock:
                self._created -= 1
            raise
        with self._lock:
            self.loads += 1
        return llama

    def _load(self) -> Any:
        llama_cpp = llama_module()
        key = self.key
        kwargs: dict[str, Any] = {"model_path": key.path, "n_ctx": key.n_ctx, "verbose": False}
        # The same count for prompt evaluation as for generation: llama.cpp would use every
        # core for the prompt, and on a busy machine its spinning thread barrier then costs
        # several times the work it parallelises.
        kwargs["n_threads"] = kwargs["n_threads_batch"] = key.n_threads or default_threads(key.instances)
        if key.seed is not None:
            kwargs["seed"] = key.seed
        if key.chat_format is not None:
            kwargs["chat_format"] = key.chat_format
        try:
            return llama_cpp.Llama(**kwargs)
        except Exception as exc:  # llama-cpp-python raises ValueError/RuntimeError for bad files
            raise ConnectorError(
                f"could not load the GGUF model {key.path!r}: {exc}. Check that the file is complete "
                "and made for this llama.cpp version, or choose another settings.model_path."
            ) from exc

    def grammar(self, schema: dict[str, Any]) -> Any:
        """A llama.cpp grammar that only admits JSON valid for ``schema`` (cached).

        Schemas the converter cannot express fall back to a grammar for any JSON
        value, so the reply still parses and the caller's validation decides.
        """
        text = json.dumps(schema)  # keeps property order: the model writes fields in schema order
        with self._lock:
            found = self._grammars.get(text)
        if found is not None:
            return found
        grammars = llama_module().llama_grammar
        try:
            grammar = grammars.LlamaGrammar.from_json_schema(text, verbose=False)
        except Exception:  # noqa: BLE001 - unsupported schema feature: constrain to plain JSON
            grammar = grammars.LlamaGrammar.from_string(grammars.JSON_GBNF, verbose=False)
        with self._lock:
            if len(self._grammars) >= _MAX_GRAMMARS:
                self._grammars.pop(next(iter(self._grammars)))
            self._grammars[text] = grammar
        return grammar

    def count_tokens(self, n: int) -> None:
        """Add ``n`` to :attr:`tokens_generated` (called from worker threads)."""
        with self._lock:
            self.tokens_generated += n

    def shutdown(self) -> None:
        """Free the instances once queued calls have finished (does not block)."""
        with self._lock:
            self._closed = True
        try:
            self._executor.submit(self._close_idle)
        except RuntimeError:  # already shut down
            return
        self._executor.shutdown(wait=False)

    def _close_idle(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for llama in idle:
            llama.close()

    def info(self) -> dict[str, Any]:
        """Plain data about this model for status displays and tests."""
        with self._lock:
            return {
                "path": self.key.path,
                "n_ctx": self.key.n_ctx,
                "instances": self.key.instances,
                "refs": self.refs,
                "loads": self.loads,
                "tokens_generated": self.tokens_generated,
            }


_registry: dict[ModelKey, SharedModel] = {}
_registry_lock = threading.Lock()


def acquire(key: ModelKey) -> SharedModel:
    """Take a reference to the shared model for ``key`` (created, not loaded, if new)."""
    with _registry_lock:
        model = _registry.get(key)
        if model is None:
            model = _registry[key] = SharedModel(key)
        model.refs += 1
        return model


def release(model: SharedModel) -> None:
    """Drop a reference; the last one frees the model after its queued calls."""
    with _registry_lock:
        model.refs -= 1
        if model.refs > 0:
            return
        if _registry.get(model.key) is model:
            del _registry[model.key]
    model.shutdown()


def loaded_models() -> list[dict[str, Any]]:
    """Every model currently shared in this process, as plain data.

    Returns:
        One dict per model: ``path``, ``n_ctx``, ``instances``, ``refs``, ``loads``
        and ``tokens_generated``.
    """
    with _registry_lock:
        models = list(_registry.values())
    return [m.info() for m in models]
