"""dualtrack: a Copilot-style plugin framework.

Every skill call goes to a partner or in-house model, chosen by capability tags,
sensitivity, cost, latency and health.

Plugin authors import everything they need from here::

    from dualtrack import SkillContext, plugin, skill
"""

from __future__ import annotations

from . import tags
from ._cards import Connector, ModelCard, StreamingConnector, Track
from ._circuit import CircuitBreaker
from ._config import Config, load_config
from ._context import SkillContext, estimate_tokens
from ._decision import Candidate, Rejection, RouteDecision
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
from ._execution import Attempt, RetryPolicy
from ._files import LabelPolicy, PackageInfo, atomic_write, inspect_package, read_sensitivity_label
from ._ledger import Ledger, MemoryLedger, UsageRow
from ._messages import Completion, CompletionRequest, Message, TextCallback, ToolCall, Usage
from ._orchestrator import Orchestrator
from ._plugins import Plugin, plugin
from ._result import ModelCall, SkillResult
from ._router import Policy, Requirements, Router
from ._sensitivity import Sensitivity
from ._skills import Skill, skill

__version__ = "0.1.0"

__all__ = [
    "AllAttemptsFailedError",
    "ArgumentError",
    "Attempt",
    "AuthenticationError",
    "BudgetExceededError",
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
    "Skill",
    "SkillContext",
    "SkillResult",
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

# Show public names as `dualtrack.X` in reprs, tracebacks and docs (as httpx does).
for _name in __all__:
    _member = globals()[_name]
    if getattr(_member, "__module__", "").startswith("dualtrack._"):
        try:
            _member.__module__ = "dualtrack"
        except (AttributeError, TypeError):  # pragma: no cover - immutable objects keep theirs
            pass
del _name, _member
