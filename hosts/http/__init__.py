"""The HTTP host: ``dualtrack serve``, a versioned JSON API over the orchestrator.

Needs the ``http`` extra (``pip install 'dualtrack[http]'``: starlette, uvicorn,
python-multipart, PyJWT). Embed it in your own ASGI server with::

    from dualtrack import Orchestrator
    from dualtrack.hosts.http import HttpSettings, create_app

    app = create_app(Orchestrator.from_config(), HttpSettings(data_dir="/var/lib/dualtrack"))

See ``/docs`` of a running server for the endpoints, or :mod:`._app`.
"""

from __future__ import annotations

from dualtrack import MissingDependencyError

try:
    import starlette  # noqa: F401
    import uvicorn  # noqa: F401
except ImportError as _exc:  # pragma: no cover - depends on the environment
    raise MissingDependencyError(
        "the HTTP host", _exc.name or "starlette", "pip install 'dualtrack[http]'"
    ) from _exc

from ._app import HttpService, create_app, path_roles
from ._auth import Authenticator, Caller, JwksCache
from ._cli import app_from_env, run_cli
from ._openapi import openapi_document, operation_id
from ._problems import PROBLEM_TYPES, Problem, problem_type
from ._settings import ApiKeySpec, EntraSettings, HttpSettings, hash_key, load_http_settings, new_key
from ._state import MemoryState, StateBackend
from ._workspace import StoredFile, Workspace, Workspaces

__all__ = [
    "PROBLEM_TYPES",
    "ApiKeySpec",
    "Authenticator",
    "Caller",
    "EntraSettings",
    "HttpService",
    "HttpSettings",
    "JwksCache",
    "MemoryState",
    "Problem",
    "StateBackend",
    "StoredFile",
    "Workspace",
    "Workspaces",
    "app_from_env",
    "create_app",
    "hash_key",
    "load_http_settings",
    "new_key",
    "openapi_document",
    "operation_id",
    "path_roles",
    "problem_type",
    "run_cli",
]
