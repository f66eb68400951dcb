"""``SkillContext``: what a running skill receives."""

from __future__ import annotations

import asyncio
import stat
from collections.abc import Callable, Coroutine, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, overload

from .._errors import InputFileError, NoRouteError, UserError
from .._model._cards import ModelCard, PromptProfile
from .._model._messages import Completion, CompletionRequest, Message, TextCallback
from .._model._sensitivity import Sensitivity
from .._routing._router import Requirements
from ._checked import MISSING
from ._outputs import output_target
from ._paths import FileAccess, resolve_input

if TYPE_CHECKING:
    from .._plugins._skills import Skill
    from .._runtime._gateway import ModelGateway, SkillScope
    from .._runtime._outcomes import Check
    from .._runtime._result import ModelCall
    from ._checked import CheckedReply, EscalationPrompt, Feedback
    from ._orchestrator import Orchestrator

__all__ = ["ProgressCallback", "SkillContext", "estimate_tokens"]

T = TypeVar("T")
ProgressCallback = Callable[[str, int, int, str], None]
"""Receives ``(skill, done, total, message)``."""


def estimate_tokens(messages: Sequence[Message]) -> int:
    """A fast, slightly pessimistic token estimate (about 4 characters a token)."""
    return sum(len(m.content) // 4 + 4 for m in messages) + 2


class SkillContext:
    """Given to a skill that declares a ``ctx: SkillContext`` parameter.

    Attributes:
        skill: The running skill.
        calls: Every routed model call made so far.
    """

    __dualtrack_context__ = True  # how @skill recognises the parameter that receives the context

    def __init__(
        self,
        orchestrator: Orchestrator,
        skill: Skill,
        sensitivity: Sensitivity,
        progress: ProgressCallback | None = None,
        *,
        files: FileAccess | None = None,
        gateway: ModelGateway | None = None,
        scope: SkillScope | None = None,
        on_text: TextCallback | None = None,
    ) -> None:
        self._orc = orchestrator
        self._on_text = on_text  # streamed text of every generate() that passes no on_text of its own
        self.skill = skill
        self._sensitivity = sensitivity
        self._files = files or orchestrator.files.access()
        self._progress = progress
        self._gateway = gateway if gateway is not None else orchestrator.gateway
        self._scope = scope if scope is not None else self._gateway.skill_scope(skill.full_name, sensitivity)
        self.calls: list[ModelCall] = self._scope.calls
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- data boundary ------------------------------------------------------------

    @property
    def sensitivity(self) -> Sensitivity:
        """The sensitivity of the data this call carries.

        It only rises: files opened through :meth:`input_file` raise it to their
        label, and :meth:`raise_sensitivity` raises it; nothing lowers it.
        """
        return self._sensitivity

    @sensitivity.setter
    def sensitivity(self, value: object) -> None:
        raise UserError(
            "ctx.sensitivity cannot be assigned (it only ever rises); "
            "call ctx.raise_sensitivity(level) to raise it"
        )

    def raise_sensitivity(self, level: Sensitivity | str) -> Sensitivity:
        """Raise the call's sensitivity to at least ``level`` (never lowers it)."""
        lvl = Sensitivity.parse(level)
        if lvl > self._sensitivity:
            self._sensitivity = lvl
        return self._sensitivity

    def input_file(self, path: str | Path, *, suffixes: Iterable[str] = ()) -> Path:
        """Check a user's input file and let its sensitivity label govern routing.

        Args:
            path: The file the skill is about to read.
            suffixes: Accepted suffixes (e.g. ``(".docx",)``); empty accepts any.

        Returns:
            The resolved path.

        Raises:
            FileAccessError: When it lies outside the allowed roots (and its caller
                did not approve it), or looks like a credential file.
            InputFileError: When it is missing, a directory, or of the wrong type.
        """
        p = self._files.check(resolve_input(path))
        allowed = tuple(s.lower() for s in suffixes)
        if allowed and p.suffix.lower() not in allowed:
            raise InputFileError(
                str(p), f"expected a {' or '.join(allowed)} file, got {p.suffix or 'no suffix'!r}"
            )
        try:
            mode = p.stat().st_mode  # one stat: missing, or not a regular file
        except (FileNotFoundError, NotADirectoryError):
            raise InputFileError(str(p), "no such file; check the path") from None
        if not stat.S_ISREG(mode):
            raise InputFileError(str(p), "is not a regular file")
        from .._office._labels import read_sensitivity_label  # xml: loaded on the first input file

        label = read_sensitivity_label(p, self._orc.labels)
        if label is not None:
            self.raise_sensitivity(label)
        return p

    def output_path(
        self,
        input: str | Path | None,
        suffix: str,
        output: str | Path | None = None,
        in_place: bool = False,
    ) -> Path:
        """Where a skill writes its result: the one output rule.

        Next to the input by default (``report.docx`` with suffix ``"edited"`` gives
        ``report.edited.docx``); never the input itself unless ``in_place=True``;
        inside the allowed roots; never through a symbolic link. Write the file with
        :func:`~dualtrack.atomic_write`. An existing file at the output (not the
        input) is replaced.

        Args:
            input: The file the result is derived from; ``None`` for a new file,
                which then needs ``output`` (the same checks apply to it).
            suffix: The tag put before the input's extension in the default name.
            output: The caller's output path, if any.
            in_place: Write over the input (only when the caller asked for it).

        Returns:
            The resolved target path.

        Raises:
            OutputPathError: When the output is the input without ``in_place``, both
                are given and differ, it is a folder, or it is a symbolic link.
            FileAccessError: When it lies outside the allowed roots.
        """
        return output_target(self._files, input, suffix, output, in_place)

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
            on_text: Streamed text increments go here (default: the host's ``on_text`` of
                this skill call, if it gave one).
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
            on_text=on_text if on_text is not None else self._on_text,
            sensitivity=level,
        )
        return await self._gateway.call(req, request, self._scope)

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
        return self._first_choice(requires, json).context_window

    def prompt_profile(self, requires: Iterable[str] = (), *, json: bool = False) -> PromptProfile:
        """The prompt profile of the model a call like this would go to now.

        Use it to shape prompts: a ``small`` model gets one short instruction per
        call and a plain-text reply the skill parses itself (see
        :class:`~dualtrack.PromptProfile`). Escalation after a failed check may
        reach a model of another profile; checks judge the reply either way.

        Args:
            requires: Tags the call will require on top of the skill's.
            json: Whether the call will ask for JSON output.

        Returns:
            The first candidate's profile.

        Raises:
            NoRouteError: When no model qualifies for such a call at all.
        """
        return self._first_choice(requires, json).prompt_profile

    def _first_choice(self, requires: Iterable[str], json: bool) -> ModelCard:
        tags = set(self.skill.requires).union(requires)
        if json:
            tags.add("json")
        req = Requirements(
            requires=frozenset(tags),
            prefers=self.skill.prefers,
            sensitivity=self.sensitivity,
            skill=self.skill.full_name,
        )
        decision = self._gateway.route(req)
        if decision.chosen is None:
            raise NoRouteError(decision)
        return self._gateway.models[decision.chosen]

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
        It is :meth:`generate_checked` with the schema check alone.

        Args:
            schema: A pydantic model, any type pydantic can validate, or a JSON Schema dict.
            prompt: The prompt or messages.
            **kw: Passed to :meth:`generate`.

        Returns:
            The validated value (an instance of the model, or plain data for a dict schema).

        Raises:
            MalformedResponseError: When no model produced a valid reply.
        """
        from ._json_reply import generate_json

        return await generate_json(self, schema, prompt, kw)

    async def generate_checked(
        self,
        prompt: str | Sequence[Message],
        *,
        checks: Iterable[Check] = (),
        schema: Any = None,
        source: str = "",
        feedback: bool | Feedback = True,
        escalate_requires: Iterable[str] = (),
        escalate_prompt: EscalationPrompt | None = None,
        max_models: int = 2,
        first: Completion | None = None,
        fallback: Any = MISSING,
        **kw: Any,
    ) -> CheckedReply:
        """Make a routed call whose reply must pass ``checks``; feed back, escalate or fall back.

        The reply goes through the checks in order (a ``schema`` check first), which
        stop at the first failure. A failed reply is sent back once with the reasons
        (``feedback``); if that fails too, the next qualifying model is asked,
        excluding every model tried, within the same sensitivity boundary. Every
        outcome is kept on the call's :class:`~dualtrack.ModelCall` and shown by
        ``SkillResult.explain()``.

        Args:
            prompt: A user prompt, or the full list of messages.
            checks: Callables ``(reply_text, CheckContext) -> CheckResult`` (sync or
                async), e.g. from :mod:`dualtrack.checks`; a check may parse the reply
                into a value, which later checks see as ``context.value`` (a string value
                is the cleaned reply: later checks get it as their text).
            schema: Require JSON valid for this pydantic type or JSON Schema dict
                (constrained output where the model supports it; checked first).
            source: The text the reply must stay faithful to (given to the checks).
            feedback: Send the failure back once (``True``), never (``False``), or a
                function building that message from the failed try (``None`` skips it).
            escalate_requires: Extra tags the escalated call requires (e.g. ``["reasoning"]``).
            escalate_prompt: Builds the escalated model's prompt from the failed tries
                (default: the original prompt).
            max_models: Most distinct models to ask (the first one included).
            first: A reply already obtained for this request, checked as the first try.
            fallback: Returned (``fell_back=True``) when no reply passes; without it,
                :class:`~dualtrack.CheckFailedError` is raised.
            **kw: Passed to :meth:`generate` (``system``, ``requires``, ``max_tokens`` ...).

        Returns:
            The accepted reply, its parsed value, the model, and every try's outcomes.

        Raises:
            CheckFailedError: When no reply passed and no fallback was given.
            NoRouteError: When no model qualifies for the first call.
        """
        from ._checked import run_checked

        return await run_checked(
            self,
            prompt,
            checks=checks,
            schema=schema,
            source=source,
            feedback=feedback,
            escalate_requires=escalate_requires,
            escalate_prompt=escalate_prompt,
            max_models=max_models,
            first=first,
            fallback=fallback,
            generate=kw,
        )

    def generate_checked_sync(self, prompt: str | Sequence[Message], **kw: Any) -> CheckedReply:
        """:meth:`generate_checked` for synchronous skills."""
        return self._run_sync(self.generate_checked(prompt, **kw))

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
