"""The exception tree of dualtrack.

Every error raised on purpose derives from :class:`DualtrackError`, and every
message says what to do next. What goes back to a *model* (a failed tool in
``orc.ask``) is :meth:`DualtrackError.for_model`: the error type, a fixed
sentence and at most field names, never input values, file text or model output::

    DualtrackError
    ├── UserError                  a mistake of the developer using the library
    │   ├── PluginError            a plugin or skill failed validation at registration
    │   ├── ConfigError            a configuration file or field is wrong
    │   ├── UnknownSkillError      no skill by that name ("Did you mean ...?")
    │   ├── ArgumentError          skill arguments failed validation
    │   └── MissingDependencyError an optional dependency is not installed (names the extra)
    ├── InputFileError             a user's input file is missing, broken or hostile
    │   ├── FileAccessError        a path outside the allowed roots, or a secret-looking file
    │   ├── OutputPathError        an output path breaks the output rule (also a UserError)
    │   └── FileSourceError        a file source (OneDrive, SharePoint ...) failed (``ref``, ``reason``)
    │       ├── FileReferenceError a reference no registered source handles, or malformed
    │       ├── FileChangedError   the file changed since it was read; the write-back was refused
    │       └── FileLockedError    the file is locked (checked out, in use, double-key encrypted)
    ├── NotConfirmedError          a model-chosen write the user did not confirm
    ├── CheckFailedError           no qualifying model's reply passed the skill's checks
    ├── NoRouteError               no model satisfies the hard constraints
    ├── BudgetExceededError        a USD or token budget would be exceeded
    ├── AllAttemptsFailedError     every candidate model failed; lists each attempt
    └── ConnectorError             a model call failed (``status_code``, ``body``)
        ├── RateLimitError         429; ``retry_after`` seconds when the server said
        ├── AuthenticationError    401/403, missing or rejected credentials
        ├── ContextLengthError     the prompt does not fit the model's window
        ├── ContentFilterError     the provider refused the content
        ├── ServerError            5xx or a dropped connection
        ├── ModelTimeoutError      no answer in time
        └── MalformedResponseError the reply could not be understood
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Protocol

_NAME_CHARS = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{0,59}")


class _Decision(Protocol):
    """What an error needs of a routing decision (this module imports nothing of dualtrack)."""

    def explain(self) -> str: ...
    def explain_failure(self) -> str: ...


class _CheckedTry(Protocol):
    """What an error needs of one try of a checked call."""

    @property
    def outcomes(self) -> Sequence[Any]: ...
    def describe(self) -> str: ...


class _Attempt(Protocol):
    """What an error needs of a recorded attempt."""

    def describe(self) -> str: ...


__all__ = [
    "AllAttemptsFailedError",
    "ArgumentError",
    "AuthenticationError",
    "CheckFailedError",
    "BudgetExceededError",
    "ConfigError",
    "ConnectorError",
    "ContentFilterError",
    "ContextLengthError",
    "DualtrackError",
    "FileAccessError",
    "FileChangedError",
    "FileLockedError",
    "FileReferenceError",
    "FileSourceError",
    "InputFileError",
    "MalformedResponseError",
    "MissingDependencyError",
    "ModelTimeoutError",
    "NoRouteError",
    "NotConfirmedError",
    "OutputPathError",
    "PluginError",
    "RateLimitError",
    "ServerError",
    "UnknownSkillError",
    "UserError",
]


class DualtrackError(Exception):
    """Base class of every error dualtrack raises on purpose.

    Attributes:
        model_summary: A fixed, data-free sentence about this kind of error.
        sensitivity: The sensitivity of the data the failed operation had read
            (set by ``Orchestrator.invoke``); whoever passes anything about the
            error on to a model must carry at least this level.
        calls: The model calls (:class:`~dualtrack.ModelCall`) the failed skill
            made before it failed, with their decisions and attempts (set by
            ``Orchestrator.invoke`` and ``Orchestrator.ask``); empty otherwise.
    """

    model_summary: str = "the operation failed"
    sensitivity: str | None = None
    calls: Sequence[Any] = ()

    def for_model(self) -> str:
        """A summary safe to show a model: the error type and a fixed sentence, no data."""
        return f"{type(self).__name__}: {self.model_summary}"


class UserError(DualtrackError):
    """A mistake in how the library is used; the message names the fix."""

    model_summary = "the request was not valid for this tool"


class PluginError(UserError):
    """A plugin failed validation when it was registered.

    Attributes:
        plugin: The plugin's name.
        problems: Every problem found, each with its fix.
    """

    def __init__(self, plugin: str, problems: Sequence[str]) -> None:
        self.plugin = plugin
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"plugin {plugin!r} has {len(self.problems)} problem(s):\n{lines}")


class ConfigError(UserError):
    """A configuration file or field is invalid.

    Attributes:
        path: The file that was read, if any.
        field: The dotted field that is wrong, if known.
    """

    def __init__(self, message: str, *, path: str | None = None, field: str | None = None) -> None:
        self.path = path
        self.field = field
        where = ""
        if path:
            where = f"{path}: "
        if field:
            where += f"{field}: "
        super().__init__(where + message)


class UnknownSkillError(UserError):
    """No registered skill has the requested name."""

    model_summary = "there is no tool by that name; use one of the tools offered"


class ArgumentError(UserError):
    """Arguments given to a skill do not match its schema.

    Attributes:
        skill: The full skill name.
        errors: One ``(field, message)`` pair per problem.
    """

    def __init__(self, skill: str, errors: Sequence[tuple[str, str]]) -> None:
        self.skill = skill
        self.errors = list(errors)
        detail = "; ".join(f"{field}: {msg}" for field, msg in self.errors)
        self.model_summary = _fields_summary(self.errors)
        super().__init__(
            f"invalid arguments for skill {skill!r}: {detail} "
            f"(see `dualtrack plugins` or orc.manifest() for its parameters)"
        )


class MissingDependencyError(UserError):
    """A plugin or connector needs an optional dependency that is not installed.

    Attributes:
        what: What cannot work, e.g. ``"plugin 'document'"``.
        module: The module that could not be imported, e.g. ``"docx"``.
        install: The command that installs it, e.g. ``pip install 'dualtrack[document]'``.
    """

    def __init__(self, what: str, module: str, install: str) -> None:
        self.what = what
        self.module = module
        self.install = install
        super().__init__(
            f"{what} is unavailable: it needs {module!r}, which is not installed; run `{install}`"
        )


class InputFileError(DualtrackError):
    """A user's input file cannot be used; nothing was changed.

    Attributes:
        path: The offending file.
    """

    model_summary = "the file is missing, of the wrong type, or unsafe to open; nothing was changed"

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(f"{path}: {message}")


class FileAccessError(InputFileError):
    """A path lies outside the roots the host allows, or looks like a secret.

    Attributes:
        path: The resolved path that was refused.
        reason: ``"outside-roots"``, ``"secret"`` or ``"not-confirmed"``.
    """

    model_summary = (
        "that path is outside the folders this application may use, or is a protected file; "
        "nothing was read or written. Ask the user for a file inside the workspace"
    )

    def __init__(self, path: str, message: str, *, reason: str) -> None:
        self.reason = reason
        super().__init__(path, message)


class OutputPathError(InputFileError, UserError):
    """An output path breaks the output rule; nothing was written.

    The rule: next to the input by default, never over the input unless
    ``in_place=True``, never through a symbolic link, inside the allowed roots.
    """

    model_summary = (
        "the output path cannot be used (it would overwrite the input, is a link, or "
        "contradicts in_place); nothing was written"
    )


class FileSourceError(InputFileError):
    """A file source (OneDrive, SharePoint, an upload store ...) could not read or write a file.

    Nothing was overwritten and nothing half-written is left behind.

    Attributes:
        path: The reference, without any query string.
        source: The file source's name.
        reason: Why, in a word: ``"not-found"``, ``"too-large"``, ``"auth"``, ``"throttled"``,
            ``"unavailable"``, ``"forbidden"``, ``"read-only"``, ``"changed"``, ``"locked"``,
            ``"reference"``, ``"failed"``.
        status_code: The source's HTTP status, when there was one.
    """

    model_summary = "the file could not be read from or written to its store; nothing was overwritten"

    def __init__(
        self,
        ref: str,
        message: str,
        *,
        source: str = "",
        reason: str = "failed",
        status_code: int | None = None,
    ) -> None:
        self.source = source
        self.reason = reason
        self.status_code = status_code
        super().__init__(ref.split("?", 1)[0], message)


class FileReferenceError(FileSourceError, UserError):
    """A file reference is malformed, or no registered file source handles it."""

    model_summary = "that file reference is not valid or not supported here; nothing was read"

    def __init__(self, ref: str, message: str, *, source: str = "") -> None:
        super().__init__(ref, message, source=source, reason="reference")


class FileChangedError(FileSourceError):
    """The file changed at its source since it was read; the write-back was refused."""

    model_summary = "the file was changed by someone else meanwhile; nothing was overwritten"

    def __init__(self, ref: str, message: str, *, source: str = "", status_code: int | None = None) -> None:
        super().__init__(ref, message, source=source, reason="changed", status_code=status_code)


class FileLockedError(FileSourceError):
    """The file is locked at its source (checked out, open elsewhere, double-key encrypted)."""

    model_summary = "the file is locked at its store; nothing was read or written"

    def __init__(self, ref: str, message: str, *, source: str = "", status_code: int | None = None) -> None:
        super().__init__(ref, message, source=source, reason="locked", status_code=status_code)


class NotConfirmedError(DualtrackError):
    """A model chose a skill that changes files, and nobody confirmed that exact call.

    Attributes:
        skill: The skill's full name.
    """

    model_summary = (
        "this tool changes files and was not confirmed by the user; nothing was changed. "
        "Tell the user what you would change instead"
    )

    def __init__(self, skill: str) -> None:
        self.skill = skill
        super().__init__(
            f"{skill} changes files and was chosen by a model; it runs only when the user confirms "
            "that call (give the orchestrator a `confirm` callback, or confirm it in the host)"
        )


class CheckFailedError(DualtrackError):
    """No qualifying model produced a reply that passed the checks.

    Attributes:
        attempts: Every try, with the outcome of each check.
    """

    model_summary = "no model produced a reply that passed the quality checks; nothing was changed"

    def __init__(self, attempts: Sequence[_CheckedTry]) -> None:
        self.attempts = tuple(attempts)
        tried = " → ".join(a.describe() for a in self.attempts) or "no reply"
        super().__init__(
            f"no model produced a reply that passes the checks: {tried}. Keep the input unchanged, "
            "use a fallback, or configure a stronger model for this skill's tags."
        )

    @property
    def outcomes(self) -> list[Any]:
        """Every check outcome of every try, in order."""
        return [o for a in self.attempts for o in a.outcomes]


class NoRouteError(DualtrackError):
    """No model satisfies the hard constraints of a call.

    Attributes:
        decision: The full routing decision, with a rejection for every model.
    """

    model_summary = "no model may take this request under the current policy"

    def __init__(self, decision: _Decision) -> None:
        self.decision = decision
        super().__init__(decision.explain_failure())


class BudgetExceededError(DualtrackError):
    """A call would exceed a configured USD or token budget.

    Attributes:
        decision: The routing decision, whose rejections name each budget.
    """

    model_summary = "a usage budget would be exceeded; try again later or ask for less"

    def __init__(self, message: str, decision: _Decision | None = None) -> None:
        self.decision = decision
        super().__init__(message)


class AllAttemptsFailedError(DualtrackError):
    """Every candidate model failed.

    Attributes:
        attempts: Each attempt made, in order, with its model, error and duration.
    """

    model_summary = "every model that could take the request failed"

    def __init__(self, attempts: Sequence[_Attempt]) -> None:
        self.attempts = list(attempts)
        lines = "\n".join(f"  - {a.describe()}" for a in self.attempts)
        super().__init__(
            f"all {len(self.attempts)} attempt(s) failed:\n{lines}\n"
            "Check the models' health with `dualtrack models`, or add a fallback model."
        )


class ConnectorError(DualtrackError):
    """A model call failed.

    Attributes:
        status_code: The HTTP status, when there was one.
        body: The (already redacted) response body, when there was one.
        model: The model card name, filled in by the executor.
    """

    retryable: bool = False
    model_summary = "a model call failed"

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        body: str | None = None,
        model: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.body = body
        self.model = model
        super().__init__(message)


class RateLimitError(ConnectorError):
    """The provider asked us to slow down.

    Attributes:
        retry_after: Seconds the provider asked us to wait, if it said.
    """

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class AuthenticationError(ConnectorError):
    """Credentials are missing or were rejected."""


class ContextLengthError(ConnectorError):
    """The request does not fit the model's context window."""


class ContentFilterError(ConnectorError):
    """The provider refused the content."""


class ServerError(ConnectorError):
    """The provider failed (5xx, dropped connection, cut stream)."""

    retryable = True


class ModelTimeoutError(ConnectorError):
    """The model did not answer in time."""

    retryable = True


class MalformedResponseError(ConnectorError):
    """The reply could not be parsed or did not match the requested schema."""

    model_summary = "a model's reply could not be used (not valid for the expected format)"

    retryable = True


def _fields_summary(errors: Sequence[tuple[str, str]]) -> str:
    """Name the fields of an argument error, never its values or messages."""
    fields = sorted({f for f, _ in errors if _NAME_CHARS.fullmatch(f)})
    named = f" ({', '.join(fields)})" if fields else ""
    return f"the arguments do not match the tool's parameter schema{named}; check each field's type"
