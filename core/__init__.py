"""dualtrack: a Copilot-style plugin framework.

Every skill call goes to a partner or in-house model, chosen by capability tags,
sensitivity, cost, latency and health.

Plugin authors import everything they need from here::

    from dualtrack import SkillContext, plugin, skill
"""

from __future__ import annotations

import importlib as _importlib
from typing import TYPE_CHECKING
from typing import Any as _Any

from . import tags
from ._errors import (
    AllAttemptsFailedError,
    ArgumentError,
    AuthenticationError,
    BudgetExceededError,
    ConfigError,
    ConnectorError,
    ContentFilterError,
    ContextLengthError,
    DualtrackError,
    InputFileError,
    MalformedResponseError,
    ModelTimeoutError,
    NoRouteError,
    PluginError,
    RateLimitError,
    ServerError,
    UnknownSkillError,
    UserError,
)
from ._sensitivity import Sensitivity

if TYPE_CHECKING:
    from ._budget import Budget, Budgets
    from ._calls import ShadowResult
    from ._cards import Connector, ModelCard, StreamingConnector, Track
    from ._circuit import CircuitBreaker
    from ._config import Config, load_config
    from ._context import SkillContext, estimate_tokens
    from ._decision import Candidate, Rejection, RouteDecision
    from ._execution import Attempt, RetryPolicy
    from ._files import PackageInfo, atomic_write, inspect_package
    from ._labels import LabelPolicy, read_sensitivity_label
    from ._ledger import Ledger, MemoryLedger, UsageRow
    from ._messages import Completion, CompletionRequest, Message, TextCallback, ToolCall, Usage
    from ._orchestrator import Orchestrator
    from ._plugins import Plugin, plugin
    from ._result import ModelCall, SkillResult
    from ._router import Policy, Requirements, Router
    from ._skills import Skill, skill
    from ._sqlite_ledger import SqliteLedger

__version__ = "0.1.0"

__all__ = [
    "AllAttemptsFailedError",
    "ArgumentError",
    "Attempt",
    "AuthenticationError",
    "Budget",
    "BudgetExceededError",
    "Budgets",
    "Candidate",
    "CircuitBreaker",
    "Completion",
    "CompletionRequest",
    "Config",
    "ConfigError",
    "Connector",
    "ConnectorError",
    "ContentFilterError",
    "ContextLengthError",
    "DualtrackError",
    "InputFileError",
    "LabelPolicy",
    "Ledger",
    "MalformedResponseError",
    "MemoryLedger",
    "Message",
    "ModelCall",
    "ModelCard",
    "ModelTimeoutError",
    "NoRouteError",
    "Orchestrator",
    "PackageInfo",
    "Plugin",
    "PluginError",
    "Policy",
    "RateLimitError",
    "Rejection",
    "Requirements",
    "RetryPolicy",
    "RouteDecision",
    "Router",
    "Sensitivity",
    "ServerError",
    "ShadowResult",
    "Skill",
    "SkillContext",
    "SkillResult",
    "SqliteLedger",
    "StreamingConnector",
    "TextCallback",
    "ToolCall",
    "Track",
    "UnknownSkillError",
    "Usage",
    "UsageRow",
    "UserError",
    "__version__",
    "atomic_write",
    "estimate_tokens",
    "inspect_package",
    "load_config",
    "plugin",
    "read_sensitivity_label",
    "skill",
    "tags",
]

# Everything below is imported on first use, so `import dualtrack` stays fast
# (pydantic, asyncio and friends load only when a program needs them).
_LAZY: dict[str, str] = {
    "Attempt": "_execution",
    "Budget": "_budget",
    "Budgets": "_budget",
    "Candidate": "_decision",
    "CircuitBreaker": "_circuit",
    "Completion": "_messages",
    "CompletionRequest": "_messages",
    "Config": "_config",
    "Connector": "_cards",
    "LabelPolicy": "_labels",
    "Ledger": "_ledger",
    "MemoryLedger": "_ledger",
    "Message": "_messages",
    "ModelCall": "_result",
    "ModelCard": "_cards",
    "Orchestrator": "_orchestrator",
    "PackageInfo": "_files",
    "Plugin": "_plugins",
    "Policy": "_router",
    "Rejection": "_decision",
    "Requirements": "_router",
    "RetryPolicy": "_execution",
    "RouteDecision": "_decision",
    "Router": "_router",
    "Skill": "_skills",
    "SkillContext": "_context",
    "ShadowResult": "_calls",
    "SkillResult": "_result",
    "SqliteLedger": "_sqlite_ledger",
    "StreamingConnector": "_cards",
    "TextCallback": "_messages",
    "ToolCall": "_messages",
    "Track": "_cards",
    "Usage": "_messages",
    "UsageRow": "_ledger",
    "atomic_write": "_files",
    "estimate_tokens": "_context",
    "inspect_package": "_files",
    "load_config": "_config",
    "plugin": "_plugins",
    "read_sensitivity_label": "_labels",
    "skill": "_skills",
}


def __getattr__(name: str) -> _Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dualtrack' has no attribute {name!r}")
    value = getattr(_importlib.import_module(f".{module}", __name__), name)
    if getattr(value, "__module__", "").startswith("dualtrack._"):
        try:  # show public names as `dualtrack.X` in reprs and tracebacks, as httpx does
            value.__module__ = "dualtrack"
        except (AttributeError, TypeError):  # pragma: no cover - immutable objects keep theirs
            pass
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


for _name in __all__:
    if _name in globals() and getattr(globals()[_name], "__module__", "").startswith("dualtrack._"):
        globals()[_name].__module__ = "dualtrack"
del _name, TYPE_CHECKING
