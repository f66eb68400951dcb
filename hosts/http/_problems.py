"""Problem documents (RFC 9457, ``application/problem+json``) for every failure.

Each kind of failure has a stable ``type`` (``urn:dualtrack:problem:<slug>``), an
HTTP status, a title, and a ``detail`` that says what to do next. Details pass
through the orchestrator's :class:`~dualtrack.Redactor` and have the server's
workspace folders cut out, so neither a secret nor a server path reaches a
client; a failure nobody planned for is a bare ``internal-error`` (the traceback
goes to the server log only).
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from dualtrack import (
    AllAttemptsFailedError,
    ArgumentError,
    BudgetExceededError,
    CheckFailedError,
    ConnectorError,
    DualtrackError,
    FileAccessError,
    FileReferenceError,
    FileSourceError,
    InputFileError,
    MissingDependencyError,
    NoRouteError,
    NotConfirmedError,
    OutputPathError,
    UnknownSkillError,
    UserError,
)

__all__ = ["PROBLEM_TYPES", "Problem", "problem_from_exception", "problem_type"]

_log = logging.getLogger("dualtrack.http")
_PREFIX = "urn:dualtrack:problem:"

PROBLEM_TYPES: dict[str, tuple[int, str]] = {
    "malformed-request": (400, "The request body is not valid JSON"),
    "invalid-arguments": (422, "The arguments do not match the skill's schema"),
    "invalid-path": (400, "A path argument is not a file of your workspace"),
    "bad-input-file": (422, "The file cannot be used"),
    "file-conflict": (409, "The file changed or is locked at its store; nothing was overwritten"),
    "file-source-failed": (502, "The file's store could not read or write it"),
    "unsupported-file-type": (415, "This file type cannot be uploaded"),
    "unauthorized": (401, "Authentication is required"),
    "forbidden": (403, "This caller may not do that"),
    "sensitivity-exceeded": (403, "The data is more sensitive than this caller may send or receive"),
    "unknown-skill": (404, "No such skill"),
    "not-found": (404, "No such resource"),
    "method-not-allowed": (405, "Method not allowed"),
    "not-acceptable": (406, "Not acceptable"),
    "request-timeout": (408, "The request body did not arrive in time"),
    "not-confirmed": (409, "The call was not confirmed"),
    "payload-too-large": (413, "The request body or file is too large"),
    "unsupported-media-type": (415, "Unsupported content type"),
    "too-many-requests": (429, "Too many requests or calls at once for this caller"),
    "budget-exceeded": (429, "A usage budget is exhausted"),
    "internal-error": (500, "The server failed"),
    "model-failed": (502, "Every model that could take the call failed"),
    "check-failed": (502, "No model's reply passed the skill's checks"),
    "no-route": (503, "No model qualifies for this call right now"),
    "unavailable": (503, "The service cannot take this call"),
    "missing-dependency": (503, "A component of this skill is not installed on the server"),
}


def problem_type(slug: str) -> str:
    """The stable ``type`` URI of a problem kind."""
    return _PREFIX + slug


class Problem(Exception):
    """A failure to answer with a problem document.

    Args:
        slug: The kind, a key of :data:`PROBLEM_TYPES`.
        detail: What went wrong for this request and what to do next.
        headers: Extra response headers (``Retry-After``).
        **extra: Extension members (``errors``, ``explanation`` ...).
    """

    def __init__(
        self, slug: str, detail: str, *, headers: Mapping[str, str] | None = None, **extra: Any
    ) -> None:
        if slug not in PROBLEM_TYPES:
            raise ValueError(f"unknown problem kind {slug!r}")
        self.slug = slug
        self.status, self.title = PROBLEM_TYPES[slug]
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = extra
        super().__init__(detail)

    def to_dict(self, instance: str | None = None) -> dict[str, Any]:
        """The problem document."""
        doc: dict[str, Any] = {
            "type": problem_type(self.slug),
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            doc["instance"] = instance
        doc.update(self.extra)
        return doc

    def body(self, instance: str | None = None) -> bytes:
        """The JSON body."""
        return json.dumps(self.to_dict(instance), default=str).encode("utf-8")


def _seconds_to_utc_midnight() -> int:
    now = _dt.datetime.now(_dt.UTC)
    tomorrow = (now + _dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((tomorrow - now).total_seconds()))


def problem_from_exception(exc: BaseException, clean: Callable[[str], str]) -> Problem:
    """The problem document for an exception.

    Args:
        exc: What was raised while serving the request.
        clean: Redacts secrets and server paths out of a message.
    """
    if isinstance(exc, Problem):
        exc.detail = clean(exc.detail)
        return exc
    if not isinstance(exc, DualtrackError):
        _log.error("unexpected failure (%s)", type(exc).__name__, exc_info=exc)
        return Problem("internal-error", "the server failed; the administrator can find the cause in its log")
    text = clean(str(exc))
    if isinstance(exc, UnknownSkillError):
        return Problem("unknown-skill", text)
    if isinstance(exc, ArgumentError):
        errors = [{"field": f, "message": clean(m)} for f, m in exc.errors]
        return Problem("invalid-arguments", text, errors=errors)
    if isinstance(exc, FileReferenceError):
        return Problem("invalid-path", text, reason=exc.reason)
    if isinstance(exc, FileSourceError):
        slug = {"changed": "file-conflict", "locked": "file-conflict", "not-found": "invalid-path"}
        return Problem(slug.get(exc.reason, "file-source-failed"), text, reason=exc.reason, source=exc.source)
    if isinstance(exc, FileAccessError):
        return Problem("invalid-path", text, reason=exc.reason)
    if isinstance(exc, OutputPathError):
        return Problem("invalid-path", text)
    if isinstance(exc, MissingDependencyError):
        return Problem("missing-dependency", text)
    if isinstance(exc, InputFileError):
        return Problem("bad-input-file", text)
    if isinstance(exc, NotConfirmedError):
        return Problem("not-confirmed", text, skill=exc.skill)
    if isinstance(exc, NoRouteError):
        return Problem(
            "no-route", text, explanation=clean(exc.decision.explain()), headers={"Retry-After": "30"}
        )
    if isinstance(exc, BudgetExceededError):
        return Problem("budget-exceeded", text, headers={"Retry-After": str(_seconds_to_utc_midnight())})
    if isinstance(exc, CheckFailedError):
        return Problem("check-failed", text)
    if isinstance(exc, AllAttemptsFailedError | ConnectorError):
        return Problem("model-failed", text)
    if isinstance(exc, UserError):
        return Problem("invalid-arguments", text)
    _log.warning("failure without a dedicated problem type: %s", type(exc).__name__)
    return Problem("internal-error", f"{type(exc).__name__}: {exc.model_summary}")
