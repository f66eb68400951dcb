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
    CheckFailedError,
    ConfigError,
    ConnectorError,
    ContentFilterError,
    ContextLengthError,
    DualtrackError,
    FileAccessError,
    FileChangedError,
    FileLockedError,
    FileReferenceError,
    FileSourceError,
    InputFileError,
    MalformedResponseError,
    MissingDependencyError,
    ModelTimeoutError,
    NoRouteError,
    NotConfirmedError,
    OutputPathError,
    PluginError,
    RateLimitError,
    ServerError,
    UnknownSkillError,
    UserError,
)
from ._model._sensitivity import Sensitivity

if TYPE_CHECKING:
    from ._app._ask import host_skill
    from ._app._checked import CheckedReply
    from ._app._config import Config, load_config
    from ._app._context import SkillContext, estimate_tokens
    from ._app._orchestrator import Orchestrator
    from ._app._paths import FileRoots, InputPath, OutputPath, PathRole, path_parameters
    from ._app._sources import FetchedFile, FileSource
    from ._eval._evaluate import evaluate
    from ._eval._report import EvalReport
    from ._eval._workload import Workload, WorkloadRow, load_workload
    from ._model._cards import Connector, ModelCard, PromptProfile, StreamingConnector, Track
    from ._model._messages import Completion, CompletionRequest, Message, TextCallback, ToolCall, Usage
    from ._model._redact import Redactor
    from ._office._atomic import atomic_write
    from ._office._labels import LabelPolicy, read_sensitivity_label
    from ._office._package import PackageInfo, inspect_package
    from ._plugins._prompting import data_block
    from ._plugins._registry import Plugin, plugin
    from ._plugins._skills import Skill, skill
    from ._routing._decision import Candidate, Constraint, Rejection, RouteDecision
    from ._routing._router import Policy, Requirements, Router
    from ._runtime._budget import Budget, Budgets
    from ._runtime._circuit import CircuitBreaker
    from ._runtime._execution import Attempt, Outcome, RetryPolicy
    from ._runtime._gateway import ModelGateway, SkillScope
    from ._runtime._ledger import Ledger, MemoryLedger, UsageRow
    from ._runtime._outcomes import CheckContext, CheckedAttempt, CheckResult, CheckStage
    from ._runtime._result import ModelCall, SkillResult
    from ._runtime._shadow import ShadowResult
    from ._runtime._shadow_log import ShadowLog, ShadowRecord
    from ._runtime._sqlite_ledger import SqliteLedger
    from ._runtime._state import SharedState, SharedStateError, open_state
    from ._runtime._state_redis import RedisState
    from ._runtime._state_sqlite import SqliteState

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
    "CheckContext",
    "CheckFailedError",
    "CheckResult",
    "CheckStage",
    "CheckedAttempt",
    "CheckedReply",
    "CircuitBreaker",
    "Completion",
    "CompletionRequest",
    "Config",
    "ConfigError",
    "Connector",
    "ConnectorError",
    "Constraint",
    "ContentFilterError",
    "ContextLengthError",
    "DualtrackError",
    "EvalReport",
    "FetchedFile",
    "FileAccessError",
    "FileChangedError",
    "FileLockedError",
    "FileReferenceError",
    "FileRoots",
    "FileSource",
    "FileSourceError",
    "InputFileError",
    "InputPath",
    "LabelPolicy",
    "Ledger",
    "MalformedResponseError",
    "MemoryLedger",
    "Message",
    "MissingDependencyError",
    "ModelCall",
    "ModelCard",
    "ModelGateway",
    "ModelTimeoutError",
    "NoRouteError",
    "NotConfirmedError",
    "Orchestrator",
    "OutputPath",
    "Outcome",
    "OutputPathError",
    "PackageInfo",
    "PathRole",
    "Plugin",
    "PluginError",
    "Policy",
    "PromptProfile",
    "RateLimitError",
    "Redactor",
    "RedisState",
    "Rejection",
    "Requirements",
    "RetryPolicy",
    "RouteDecision",
    "Router",
    "Sensitivity",
    "ServerError",
    "ShadowLog",
    "ShadowRecord",
    "ShadowResult",
    "SharedState",
    "SharedStateError",
    "Skill",
    "SkillContext",
    "SkillResult",
    "SkillScope",
    "SqliteLedger",
    "SqliteState",
    "StreamingConnector",
    "TextCallback",
    "ToolCall",
    "Track",
    "UnknownSkillError",
    "Usage",
    "UsageRow",
    "UserError",
    "Workload",
    "WorkloadRow",
    "__version__",
    "atomic_write",
    "data_block",
    "estimate_tokens",
    "evaluate",
    "host_skill",
    "inspect_package",
    "load_config",
    "load_workload",
    "open_state",
    "path_parameters",
    "plugin",
    "read_sensitivity_label",
    "skill",
    "tags",
]

# Everything below is imported on first use, so `import dualtrack` stays fast
# (pydantic, asyncio and friends load only when a program needs them).
_LAZY: dict[str, str] = {
    "Attempt": "_runtime._execution",
    "Budget": "_runtime._budget",
    "Budgets": "_runtime._budget",
    "Candidate": "_routing._decision",
    "CheckContext": "_runtime._outcomes",
    "CheckResult": "_runtime._outcomes",
    "CheckStage": "_runtime._outcomes",
    "CheckedAttempt": "_runtime._outcomes",
    "CheckedReply": "_app._checked",
    "CircuitBreaker": "_runtime._circuit",
    "Completion": "_model._messages",
    "CompletionRequest": "_model._messages",
    "Config": "_app._config",
    "Connector": "_model._cards",
    "Constraint": "_routing._decision",
    "EvalReport": "_eval._report",
    "LabelPolicy": "_office._labels",
    "Ledger": "_runtime._ledger",
    "MemoryLedger": "_runtime._ledger",
    "Message": "_model._messages",
    "ModelCall": "_runtime._result",
    "ModelCard": "_model._cards",
    "ModelGateway": "_runtime._gateway",
    "Orchestrator": "_app._orchestrator",
    "Outcome": "_runtime._execution",
    "FileRoots": "_app._paths",
    "FetchedFile": "_app._sources",
    "FileSource": "_app._sources",
    "InputPath": "_app._paths",
    "OutputPath": "_app._paths",
    "PathRole": "_app._paths",
    "PackageInfo": "_office._package",
    "Plugin": "_plugins._registry",
    "Policy": "_routing._router",
    "PromptProfile": "_model._cards",
    "Redactor": "_model._redact",
    "Rejection": "_routing._decision",
    "Requirements": "_routing._router",
    "RetryPolicy": "_runtime._execution",
    "RouteDecision": "_routing._decision",
    "Router": "_routing._router",
    "Skill": "_plugins._skills",
    "SkillContext": "_app._context",
    "ShadowLog": "_runtime._shadow_log",
    "ShadowRecord": "_runtime._shadow_log",
    "ShadowResult": "_runtime._shadow",
    "SkillResult": "_runtime._result",
    "SkillScope": "_runtime._gateway",
    "SqliteLedger": "_runtime._sqlite_ledger",
    "SqliteState": "_runtime._state_sqlite",
    "SharedState": "_runtime._state",
    "SharedStateError": "_runtime._state",
    "RedisState": "_runtime._state_redis",
    "open_state": "_runtime._state",
    "StreamingConnector": "_model._cards",
    "TextCallback": "_model._messages",
    "ToolCall": "_model._messages",
    "Track": "_model._cards",
    "Usage": "_model._messages",
    "UsageRow": "_runtime._ledger",
    "Workload": "_eval._workload",
    "WorkloadRow": "_eval._workload",
    "atomic_write": "_office._atomic",
    "data_block": "_plugins._prompting",
    "estimate_tokens": "_app._context",
    "evaluate": "_eval._evaluate",
    "host_skill": "_app._ask",
    "inspect_package": "_office._package",
    "load_config": "_app._config",
    "load_workload": "_eval._workload",
    "path_parameters": "_app._paths",
    "plugin": "_plugins._registry",
    "read_sensitivity_label": "_office._labels",
    "skill": "_plugins._skills",
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
