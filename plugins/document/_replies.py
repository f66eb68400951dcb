"""What the document skills say when no model's reply passed its checks."""

from __future__ import annotations

from collections.abc import Sequence

from dualtrack import CheckedAttempt, CheckFailedError, MalformedResponseError

__all__ = ["no_reply", "tried"]


def tried(attempts: Sequence[CheckedAttempt]) -> str:
    """Every try and its outcome: ``small: rejected by check repetition (...) → big: ...``."""
    return " → ".join(a.describe() for a in attempts)


def no_reply(exc: CheckFailedError, what: str) -> Exception:
    """The error when no reply passed: malformed JSON as such, other failed checks as they are.

    Args:
        exc: The failure with every try.
        what: What the JSON was for (``the answer``, ``the extracted data``).
    """
    failed = [o for o in exc.outcomes if not o.passed]
    if failed and all(o.name == "schema" for o in failed):
        return MalformedResponseError(f"no model produced valid JSON for {what}: {failed[-1].reason}")
    return exc
