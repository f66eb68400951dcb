"""Who chose a skill call, and what that allows: confirmation of writes, binding of paths.

A caller's own call may reach a path outside the roots when ``confirm`` approves
it; a model-chosen call never does, and its writes run only after a yes.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from .._errors import NotConfirmedError, UserError
from .._plugins._skills import Skill
from ._paths import FileAccess, FileRoots, bind_paths

__all__ = ["ChosenBy", "ConfirmCallback", "bind_files", "confirm_write"]

ConfirmCallback = Callable[[Skill, dict[str, Any]], bool | Awaitable[bool]]
ChosenBy = Literal["caller", "model"]


async def confirm_write(confirm: ConfirmCallback | None, s: Skill, values: dict[str, Any]) -> None:
    """Ask ``confirm`` (awaiting an async one) about a model-chosen write; refuse without a yes.

    Raises:
        NotConfirmedError: When there is no ``confirm`` or it did not say yes.
    """
    answer = confirm(s, dict(values)) if confirm is not None else False
    if inspect.isawaitable(answer):
        answer = await answer
    if not answer:
        raise NotConfirmedError(s.full_name)


def bind_files(
    s: Skill,
    values: dict[str, Any],
    chosen_by: ChosenBy,
    roots: FileRoots,
    confirm: ConfirmCallback | None,
) -> tuple[dict[str, Any], FileAccess]:
    """Resolve path arguments under the policy of who chose the call (see :class:`FileRoots`).

    Raises:
        UserError: When ``chosen_by`` is neither ``"caller"`` nor ``"model"``.
    """
    if chosen_by == "caller":
        ask = (lambda resolved: _sync_answer(confirm(s, dict(resolved)))) if confirm else None
        return bind_paths(s, values, roots, model_chosen=False, confirm=ask)
    if chosen_by != "model":
        raise UserError(f"chosen_by must be 'caller' or 'model', got {chosen_by!r}")
    return bind_paths(s, values, roots, model_chosen=True, confirm=None)


def _sync_answer(answer: bool | Awaitable[bool]) -> bool:
    """A synchronous yes/no; an async ``confirm`` cannot approve paths outside the roots (declined)."""
    if inspect.isawaitable(answer):
        close = getattr(answer, "close", None)
        if close is not None:
            close()  # never awaited: no "coroutine was never awaited" warning
        return False
    return bool(answer)
