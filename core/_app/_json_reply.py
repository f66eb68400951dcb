"""JSON replies: :meth:`SkillContext.generate_json` as a checked call with the schema check alone.

The schema check (:func:`dualtrack.checks.json_schema`) parses and validates the
reply; :func:`~dualtrack._app._checked.run_checked` sends a failed reply back once
(at most 2000 characters of it, with the problem) and then asks the next
qualifying model, excluding the ones tried. When none replies with valid JSON,
the error is a :class:`~dualtrack.MalformedResponseError` naming the last problem
by field and rule, never quoting the reply.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from .._errors import CheckFailedError, MalformedResponseError
from .._model._messages import Message
from ._checked import MISSING, run_checked

if TYPE_CHECKING:
    from .._runtime._outcomes import CheckedAttempt
    from ._context import SkillContext

__all__ = ["generate_json"]

_ECHO_CHARS = 2000  # how much of an invalid reply is shown back to the model when asking for a fix


async def generate_json(
    ctx: SkillContext, schema: Any, prompt: str | Sequence[Message], kw: dict[str, Any]
) -> Any:
    """Run :meth:`SkillContext.generate_json` (see it): the validated value, or a typed error.

    Raises:
        MalformedResponseError: When no model produced a valid reply.
        NoRouteError: When no model qualifies for the first call.
    """
    try:
        reply = await run_checked(
            ctx,
            prompt,
            checks=(),
            schema=schema,
            source="",
            feedback=_json_feedback,
            escalate_requires=(),
            escalate_prompt=None,
            max_models=2,
            first=None,
            fallback=MISSING,
            generate=kw,
            echo_chars=_ECHO_CHARS,
        )
    except CheckFailedError as exc:
        raise _no_valid_json(exc) from None
    return reply.value


def _json_feedback(attempt: CheckedAttempt) -> str:
    """The repair message of :meth:`SkillContext.generate_json`: the schema problem, once."""
    reasons = "; ".join(o.reason for o in attempt.failures if o.reason)
    return (
        f"That reply was not valid JSON for the schema: {reasons}\nReply again with only the corrected JSON."
    )


def _no_valid_json(exc: CheckFailedError) -> MalformedResponseError:
    """The error of :meth:`SkillContext.generate_json` when no model's reply was valid."""
    tries = cast("Sequence[CheckedAttempt]", exc.attempts)  # run_checked raises with its attempts
    reasons = [o.reason for a in tries for o in a.failures if o.reason]
    last = reasons[-1] if reasons else ""
    models = {a.model for a in tries if a.model}
    if len(models) < 2:
        return MalformedResponseError(
            f"no model produced valid JSON for the schema ({last}); no other model qualifies for escalation"
        )
    return MalformedResponseError(f"no model produced valid JSON for the schema: {last}")
