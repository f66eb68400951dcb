"""``SkillContext``: what a running skill receives."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Coroutine, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, overload

from pydantic import TypeAdapter, ValidationError

from .._errors import InputFileError, MalformedResponseError, NoRouteError, UserError
from .._model._messages import Completion, CompletionRequest, Message, TextCallback
from .._model._sensitivity import Sensitivity
from .._office._labels import read_sensitivity_label
from .._routing._router import Requirements
from .._runtime._gateway import unavailable

if TYPE_CHECKING:
    from .._plugins._skills import Skill
    from .._runtime._result import ModelCall
    from ._orchestrator import Orchestrator

__all__ = ["ProgressCallback", "SkillContext", "estimate_tokens"]

T = TypeVar("T")
ProgressCallback = Callable[[str, int, int, str], None]
"""Receives ``(skill, done, total, message)``."""
_ECHO_CHARS = 2000  # how much of an invalid reply is shown back to the model when asking for a fix
_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.S)


def estimate_tokens(messages: Sequence[Message]) -> int:
    """A fast, slightly pessimistic token estimate (about 4 characters a token)."""
    return sum(len(m.content) // 4 + 4 for m in messages) + 2


class SkillContext:
    """Given to a skill that declares a ``ctx: SkillContext`` parameter.

    Attributes:
        skill: The running skill.
        sensitivity: The sensitivity of the data this call carries. It only
            rises: files opened through :meth:`input_file` raise it to their label.
        calls: Every routed model call made so far.
    """

    __dualtrack_context__ = True  # how @skill recognises the parameter that receives the context

    def __init__(
        self,
        orchestrator: Orchestrator,
        skill: Skill,
        sensitivity: Sensitivity,
        progress: ProgressCallback | None = None,
    ) -> None:
        self._orc = orchestrator
        self.skill = skill
        self.sensitivity = sensitivity
        self._progress = progress
        self.calls: list[ModelCall] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- data boundary ------------------------------------------------------------

    def raise_sensitivity(self, level: Sensitivity | str) -> Sensitivity:
        """Raise the call's sensitivity to at least ``level`` (never lowers it)."""
        lvl = Sensitivity.parse(level)
        if lvl > self.sensitivity:
            self.sensitivity = lvl
        return self.sensitivity

    def input_file(self, path: str | Path, *, suffixes: Iterable[str] = ()) -> Path:
        """Check a user's input file and let its sensitivity label govern routing.

        Args:
            path: The file the skill is about to read.
            suffixes: Accepted suffixes (e.g. ``(".docx",)``); empty accepts any.

        Returns:
            The resolved path.

        Raises:
            InputFileError: When it is missing, a directory, or of the wrong type.
        """
        p = Path(path).expanduser()
        allowed = tuple(s.lower() for s in suffixes)
        if allowed and p.suffix.lower() not in allowed:
            raise InputFileError(
                str(p), f"expected a {' or '.join(allowed)} file, got {p.suffix or 'no suffix'!r}"
            )
        if not p.exists():
            raise InputFileError(str(p), "no such file; check the path")
        if not p.is_file():
            raise InputFileError(str(p), "is not a regular file")
        label = read_sensitivity_label(p, self._orc.labels)
        if label is not None:
            self.raise_sensitivity(label)
        return p.resolve()

    # -- what happened so far ----------------------------------------------------------

    @property
    def last_model(self) -> str | None:
        """The model that answered the most recent model call, if any answered."""
        for call in reversed(self.calls):
            if call.model:
                return call.model
        return None

    @property
    def tried_models(self) -> frozenset[str]:
        """Every model that answered a call of this skill run.

        Escalate after a failed check with
        ``ctx.generate(..., requires=["reasoning"], exclude=ctx.tried_models)``.
        """
        return frozenset(c.model for c in self.calls if c.model)

    # -- progress -----------------------------------------------------------------

    def progress(self, done: int, total: int, message: str = "") -> None:
        """Report progress to the host's callback (if it gave one)."""
        if self._progress is not None:
            self._progress(self.skill.full_name, done, total, message)

    # -- model calls --------------------------------------------------------------

    async def generate(
        self,
        prompt: str | Sequence[Message],
        *,
        system: str | None = None,
        requires: Iterable[str] = (),
        prefers: Iterable[str] = (),
        sensitivity: Sensitivity | str | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        on_text: TextCallback | None = None,
        tools: list[dict[str, Any]] | None = None,
        exclude: Iterable[str] = (),
        json_schema: dict[str, Any] | None = None,
    ) -> Completion:
        """Make one routed model call.

        Args:
            prompt: A user prompt, or the full list of messages.
            system: A system message to put first.
            requires: Tags this call needs on top of the skill's.
            prefers: Tags this call prefers on top of the skill's.
            sensitivity: Raise the sensitivity for this call only (never lowers it).
            max_tokens: Reply budget (default 512).
            temperature: Sampling temperature.
            on_text: Streamed text increments go here.
            tools: OpenAI-format tools the model may call.
            exclude: Models not to use (for escalation after a failed check).
            json_schema: Constrain the reply to JSON of this schema.

        Returns:
            The completion of the model that answered.
        """
        messages = [Message.user(prompt)] if isinstance(prompt, str) else list(prompt)
        if system:
            messages.insert(0, Message.system(system))
        level = self.sensitivity
        if sensitivity is not None:
            level = max(level, Sensitivity.parse(sensitivity))
        tags = set(self.skill.requires).union(requires)
        if json_schema is not None:
            tags.add("json")
        if tools:
            tags.add("tools")
        out = max_tokens or 512
        req = Requirements(
            requires=frozenset(tags),
            prefers=self.skill.prefers.union(prefers),
            sensitivity=level,
            input_tokens=estimate_tokens(messages),
            output_tokens=out,
            skill=self.skill.full_name,
            exclude=frozenset(exclude),
        )
        request = CompletionRequest(
            messages=messages,
            max_tokens=out,
            temperature=temperature,
            json_schema=json_schema,
            tools=tools,
            on_text=on_text,
            sensitivity=level,
        )
        return await self._orc._call_model(req, request, self)

    def context_window(self, requires: Iterable[str] = (), *, json: bool = False) -> int:
        """The context window of the model a call like this would go to now.

        Use it to size chunks of long inputs: a call that fits this window can go
        to the first choice; the router still rejects models it would not fit.

        Args:
            requires: Tags the call will require on top of the skill's.
            json: Whether the call will ask for JSON output.

        Returns:
            The first candidate's context window, in tokens.

        Raises:
            NoRouteError: When no model qualifies for such a call at all.
        """
        tags = set(self.skill.requires).union(requires)
        if json:
            tags.add("json")
        req = Requirements(
            requires=frozenset(tags),
            prefers=self.skill.prefers,
            sensitivity=self.sensitivity,
            skill=self.skill.full_name,
        )
        decision = self._orc.router.route(req, unavailable(self._orc, req))
        if decision.chosen is None:
            raise NoRouteError(decision)
        return self._orc.models[decision.chosen].context_window

    @overload
    async def generate_json(self, schema: type[T], prompt: str | Sequence[Message], **kw: Any) -> T: ...
    @overload
    async def generate_json(
        self, schema: dict[str, Any], prompt: str | Sequence[Message], **kw: Any
    ) -> Any: ...
    async def generate_json(self, schema: Any, prompt: str | Sequence[Message], **kw: Any) -> Any:
        """Make a routed call whose reply is JSON, validated into ``schema``.

        A reply that does not parse or validate is sent back once with the error;
        if it still fails, the call is escalated to the next model that qualifies.

        Args:
            schema: A pydantic model, any type pydantic can validate, or a JSON Schema dict.
            prompt: The prompt or messages.
            **kw: Passed to :meth:`generate`.

        Returns:
            The validated value (an instance of the model, or plain data for a dict schema).

        Raises:
            MalformedResponseError: When no model produced a valid reply.
        """
        if isinstance(schema, dict):
            validate = _schema_validator(schema)
            json_schema = schema
        else:
            adapter: TypeAdapter[Any] = TypeAdapter(schema)
            validate = adapter.validate_python
            json_schema = adapter.json_schema()
        messages = [Message.user(prompt)] if isinstance(prompt, str) else list(prompt)
        excluded: set[str] = set(kw.pop("exclude", ()))
        last_error = ""
        for _round in range(2):
            history = list(messages)
            for repair in range(2):
                try:
                    done = await self.generate(history, json_schema=json_schema, exclude=excluded, **kw)
                except NoRouteError as exc:
                    if not excluded:
                        raise
                    raise MalformedResponseError(
                        f"no model produced valid JSON for the schema ({last_error}); "
                        "no other model qualifies for escalation"
                    ) from exc
                try:
                    return validate(_parse_json(done.text))
                except (ValueError, ValidationError) as exc:
                    last_error = str(exc)[:800]
                    if repair == 0:
                        history += [
                            Message.assistant(done.text[:_ECHO_CHARS]),
                            Message.user(
                                "That reply was not valid JSON for the schema: "
                                f"{last_error}\nReply again with only the corrected JSON."
                            ),
                        ]
            if done.model_card:
                excluded.add(done.model_card)
        raise MalformedResponseError(f"no model produced valid JSON for the schema: {last_error}")

    # -- sync skills --------------------------------------------------------------

    def generate_sync(self, prompt: str | Sequence[Message], **kw: Any) -> Completion:
        """:meth:`generate` for synchronous skills (which run in a worker thread)."""
        return self._run_sync(self.generate(prompt, **kw))

    def generate_json_sync(self, schema: Any, prompt: str | Sequence[Message], **kw: Any) -> Any:
        """:meth:`generate_json` for synchronous skills."""
        return self._run_sync(self.generate_json(schema, prompt, **kw))

    def _run_sync(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._loop is None:
            coro.close()
            raise RuntimeError("generate_sync is for synchronous skills run by the orchestrator")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()


def _schema_validator(schema: dict[str, Any]) -> Callable[[Any], Any]:
    """Validate plain data against a JSON Schema dict; ``ValueError`` lists the problems."""
    import jsonschema

    cls = jsonschema.validators.validator_for(schema)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise UserError(f"generate_json was given an invalid JSON Schema: {exc.message}") from None
    validator = cls(schema)

    def validate(data: Any) -> Any:
        errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
        if errors:
            problems = [
                f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}" for e in errors[:5]
            ]
            more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
            raise ValueError("; ".join(problems) + more)
        return data

    return validate


def _parse_json(text: str) -> Any:
    m = _FENCE.match(text)
    if m:
        text = m.group(1)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc}") from None
