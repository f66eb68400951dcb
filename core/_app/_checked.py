"""Checked replies: check a reply, feed the problem back once, escalate, or fall back.

:meth:`SkillContext.generate_checked` runs here. One checked call is at most:

1. **initial**: the routed call, its reply run through the checks (a schema
   check first when ``schema=`` is given; the checks stop at the first failure;
   a check whose value is a string cleans the reply: later checks see that text);
2. **feedback**: when that fails and feedback is on, the same request again with
   the reply and the reasons it failed, to the same model (the other candidates
   are excluded for this call);
3. **escalation**: the next qualifying model, excluding every model tried, with
   the escalation's extra tags, inside the same sensitivity boundary (the
   router never sends a call above a model's clearance); repeated up to
   ``max_models`` models in all.

If no reply passes, the caller's fallback comes back marked ``fell_back``, or
:class:`~dualtrack.CheckFailedError` is raised with every outcome. The outcomes
of each reply are kept on its :class:`~dualtrack.ModelCall`, which is how
``SkillResult.explain()`` shows ``small: rejected by check repetition ('Duck' x11) → big: passed``.
"""

from __future__ import annotations

import inspect
import itertools
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._errors import DualtrackError, NoRouteError, UserError
from .._model._messages import Completion, Message
from .._plugins._checks import json_schema, schema_of
from .._runtime._outcomes import (
    Check,
    CheckContext,
    CheckedAttempt,
    CheckFailedError,
    CheckResult,
    CheckStage,
)
from .._runtime._shadow import shadow_grader

if TYPE_CHECKING:
    from .._runtime._result import ModelCall
    from ._context import SkillContext

__all__ = ["MISSING", "CheckedReply", "Feedback", "EscalationPrompt", "run_checked"]

_log = logging.getLogger("dualtrack")
_GROUPS = itertools.count(1)
_ECHO_CHARS = 8000  # how much of a failed reply is shown back to the model
MISSING: Any = object()

Feedback = Callable[[CheckedAttempt], "str | None"]
"""Builds the message that tells a model why its reply failed (``None``: escalate without it)."""
EscalationPrompt = Callable[[Sequence[CheckedAttempt]], "str | Sequence[Message]"]
"""Builds the prompt for the next model from the failed tries."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckedReply:
    """What :meth:`SkillContext.generate_checked` returns.

    Attributes:
        text: The accepted reply's text (empty when it fell back).
        value: What the checks parsed it into (the schema's value, or the last
            value a check gave); the caller's fallback when it fell back; else the text.
        model: The model whose reply passed (``None`` when it fell back).
        attempts: Every try, with the outcome of each check.
        fell_back: Whether no reply passed and ``value`` is the caller's fallback.
        completion: The accepted completion (``None`` when it fell back).
    """

    text: str
    value: Any
    model: str | None
    attempts: tuple[CheckedAttempt, ...] = field(default_factory=tuple)
    fell_back: bool = False
    completion: Completion | None = None

    @property
    def outcomes(self) -> list[CheckResult]:
        """Every check outcome of every try, in order."""
        return [o for a in self.attempts for o in a.outcomes]

    @property
    def escalated(self) -> bool:
        """Whether a model other than the first one was asked."""
        return any(a.stage is CheckStage.ESCALATION for a in self.attempts)


def _default_feedback(attempt: CheckedAttempt) -> str:
    reasons = "; ".join(f"{o.name}: {o.reason}" if o.reason else o.name for o in attempt.failures)
    return f"That reply did not pass a check ({reasons}). Reply again with a corrected answer only."


def _call_of(ctx: SkillContext, done: Completion, start: int) -> ModelCall | None:
    """The trace entry of ``done`` (calls made concurrently by the same skill may interleave)."""
    calls = ctx.calls[start:]
    for call in reversed(calls):
        if call.usage is done.usage:
            return call
    return next((c for c in reversed(calls) if c.model == done.model_card and c.check_group is None), None)


def _has_alternative(call: ModelCall | None, tried: set[str]) -> bool:
    return call is not None and any(c.model not in tried for c in call.decision.candidates)


async def _run_checks(
    checks: Sequence[Check], text: str, base: CheckContext
) -> tuple[tuple[CheckResult, ...], Any]:
    outcomes: list[CheckResult] = []
    value = base.value
    for check in checks:
        context = CheckContext(
            prompt=base.prompt,
            source=base.source,
            value=value,
            model=base.model,
            stage=base.stage,
            finish_reason=base.finish_reason,
        )
        name = getattr(check, "__name__", type(check).__name__)
        try:
            result: Any = check(text, context)
            if inspect.isawaitable(result):
                result = await result
        except DualtrackError:
            raise
        except Exception as exc:  # noqa: BLE001 - a broken check fails the reply, it does not end the skill
            _log.warning("check %s raised %s: %s", name, type(exc).__name__, exc)
            result = CheckResult(
                name=name, passed=False, reason=f"the check raised {type(exc).__name__}: {exc}"
            )
        if not isinstance(result, CheckResult):
            raise UserError(
                f"check {name} returned {type(result).__name__}; a check must return a dualtrack.CheckResult"
            )
        outcomes.append(result)
        if not result.passed:
            break
        if result.value is not None:
            value = result.value
            if isinstance(value, str):  # a check that cleans the reply: later checks see the clean text
                text = value
    return tuple(outcomes), value


def _grader(checks: Sequence[Check], history: Sequence[Message], source: str) -> Callable[[Completion], Any]:
    """Runs ``checks`` on a shadow model's reply to the same request (see ``dualtrack._runtime._shadow``)."""
    prompt = history[-1].content if history else ""

    async def grade(done: Completion) -> tuple[CheckResult, ...]:
        base = CheckContext(
            prompt=prompt, source=source, model=done.model_card, finish_reason=done.finish_reason
        )
        outcomes, _ = await _run_checks(checks, done.text, base)
        return outcomes

    return grade


async def run_checked(
    ctx: SkillContext,
    prompt: str | Sequence[Message],
    *,
    checks: Iterable[Check],
    schema: Any,
    source: str,
    feedback: bool | Feedback,
    escalate_requires: Iterable[str],
    escalate_prompt: EscalationPrompt | None,
    max_models: int,
    first: Completion | None,
    fallback: Any,
    generate: dict[str, Any],
    echo_chars: int = _ECHO_CHARS,
) -> CheckedReply:
    """Run one checked call (see the module docstring and :meth:`SkillContext.generate_checked`).

    ``echo_chars`` is how much of a failed reply the feedback call shows back.
    """
    all_checks = ([json_schema(schema)] if schema is not None else []) + list(checks)
    if schema is not None:
        generate = {**generate, "json_schema": schema_of(schema)}
    messages = [Message.user(prompt)] if isinstance(prompt, str) else list(prompt)
    requires = list(generate.pop("requires", ()))
    tried: set[str] = set(generate.pop("exclude", ()))
    group = next(_GROUPS)
    attempts: list[CheckedAttempt] = []
    stage, history, extra = CheckStage.INITIAL, list(messages), list[str]()
    pinned: set[str] = set()  # for the feedback call: every candidate but the model that replied
    routed: ModelCall | None = None
    models = 1
    while True:
        start = len(ctx.calls)
        try:
            if first is not None:
                done, first = first, None
            else:
                token = shadow_grader.set(_grader(all_checks, history, source))
                try:
                    done = await ctx.generate(
                        history, requires=[*requires, *extra], exclude=tried | pinned, **generate
                    )
                finally:
                    shadow_grader.reset(token)
        except NoRouteError as exc:
            if stage is CheckStage.INITIAL:
                raise
            attempts.append(CheckedAttempt(stage=stage, error=" ".join(str(exc).split())[:500]))
            break
        call = _call_of(ctx, done, 0 if start == len(ctx.calls) else start)
        if not pinned:
            routed = call  # the last call routed among all candidates (a feedback call is pinned)
        base = CheckContext(
            prompt=history[-1].content if history else "",
            source=source,
            model=done.model_card,
            stage=stage,
            finish_reason=done.finish_reason,
        )
        outcomes, value = await _run_checks(all_checks, done.text, base)
        attempt = CheckedAttempt(stage=stage, model=done.model_card, text=done.text, outcomes=outcomes)
        attempts.append(attempt)
        if call is not None:
            call.checks = list(outcomes)
            call.check_group = group
        if attempt.passed:
            return CheckedReply(
                text=done.text,
                value=done.text if value is None else value,
                model=done.model_card,
                attempts=tuple(attempts),
                completion=done,
            )
        message = None
        if stage is CheckStage.INITIAL and feedback:
            message = feedback(attempt) if callable(feedback) else _default_feedback(attempt)
        pinned = set()
        if message is not None:
            stage = CheckStage.FEEDBACK
            if call is not None:
                pinned = {c.model for c in call.decision.candidates if c.model != done.model_card}
            history = [*history, Message.assistant(done.text[:echo_chars]), Message.user(message)]
            continue
        if done.model_card:
            tried.add(done.model_card)
        if models >= max_models:
            break
        extra = list(escalate_requires)
        if not extra and not _has_alternative(routed, tried):
            break  # the router had no other candidate for these requirements: do not ask it again
        models += 1
        stage = CheckStage.ESCALATION
        if escalate_prompt is not None:
            built = escalate_prompt(tuple(attempts))
            history = [Message.user(built)] if isinstance(built, str) else list(built)
        else:
            history = list(messages)
    if fallback is not MISSING:
        return CheckedReply(text="", value=fallback, model=None, attempts=tuple(attempts), fell_back=True)
    raise CheckFailedError(attempts)
