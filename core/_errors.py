"""The exception tree of dualtrack.

Every error raised on purpose derives from :class:`DualtrackError`, and every
message says what to do next::

    DualtrackError
    ├── UserError                  a mistake of the developer using the library
    │   ├── PluginError            a plugin or skill failed validation at registration
    │   ├── ConfigError            a configuration file or field is wrong
    │   ├── UnknownSkillError      no skill by that name ("Did you mean ...?")
    │   └── ArgumentError          skill arguments failed validation
    ├── InputFileError             a user's input file is missing, broken or hostile
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

from collections.abc import Sequence
from typing import Protocol


class _Decision(Protocol):
    """What an error needs of a routing decision (this module imports nothing of dualtrack)."""

    def explain(self) -> str: ...
    def explain_failure(self) -> str: ...


class _Attempt(Protocol):
    """What an error needs of a recorded attempt."""

    def describe(self) -> str: ...


__all__ = [
    "AllAttemptsFailedError",
    "ArgumentError",
    "AuthenticationError",
    "BudgetExceededError",
    "ConfigError",
    "ConnectorError",
    "ContentFilterError",
    "ContextLengthError",
    "DualtrackError",
    "InputFileError",
    "MalformedResponseError",
    "ModelTimeoutError",
    "NoRouteError",
    "PluginError",
    "RateLimitError",
    "ServerError",
    "UnknownSkillError",
    "UserError",
]


class DualtrackError(Exception):
    """Base class of every error dualtrack raises on purpose."""


class UserError(DualtrackError):
    """A mistake in how the library is used; the message names the fix."""


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
        super().__init__(
            f"invalid arguments for skill {skill!r}: {detail} "
            f"(see `dualtrack plugins` or orc.manifest() for its parameters)"
        )


class InputFileError(DualtrackError):
    """A user's input file cannot be used; nothing was changed.

    Attributes:
        path: The offending file.
    """

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(f"{path}: {message}")


class NoRouteError(DualtrackError):
    """No model satisfies the hard constraints of a call.

    Attributes:
        decision: The full routing decision, with a rejection for every model.
    """

    def __init__(self, decision: _Decision) -> None:
        self.decision = decision
        super().__init__(decision.explain_failure())


class BudgetExceededError(DualtrackError):
    """A call would exceed a configured USD or token budget.

    Attributes:
        decision: The routing decision, whose rejections name each budget.
    """

    def __init__(self, message: str, decision: _Decision | None = None) -> None:
        self.decision = decision
        super().__init__(message)


class AllAttemptsFailedError(DualtrackError):
    """Every candidate model failed.

    Attributes:
        attempts: Each attempt made, in order, with its model, error and duration.
    """

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

    retryable = True
