"""The HTTP host: ``dualtrack serve``, a versioned JSON API over the orchestrator.

Needs the ``http`` extra (``pip install 'dualtrack[http]'``: starlette, uvicorn,
python-multipart, PyJWT). Embed it in your own ASGI server with::

    from dualtrack import Orchestrator
    from dualtrack.hosts.http import HttpSettings, create_app

    app = create_app(Orchestrator.from_config(), HttpSettings(data_dir="/var/lib/dualtrack"))

See ``/docs`` of a running server for the endpoints, or :mod:`._app`.

Names are imported on first use, so reading the ``[http]`` section of
``dualtrack.toml`` (:func:`~._settings.config_section`) needs neither the extra nor
its import time.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._app import HttpService, create_app
    from ._auth import Authenticator, Caller, JwksCache
    from ._cli import app_from_env, run_cli
    from ._openapi import openapi_document, operation_id
    from ._problems import PROBLEM_TYPES, Problem, problem_type
    from ._settings import (
        ApiKeySpec,
        EntraSettings,
        HttpSettings,
        hash_key,
        load_http_settings,
        new_key,
        serve_settings,
    )
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
    "problem_type",
    "run_cli",
    "serve_settings",
]

_LAZY = {
    "HttpService": "_app",
    "create_app": "_app",
    "Authenticator": "_auth",
    "Caller": "_auth",
    "JwksCache": "_auth",
    "app_from_env": "_cli",
    "run_cli": "_cli",
    "openapi_document": "_openapi",
    "operation_id": "_openapi",
    "PROBLEM_TYPES": "_problems",
    "Problem": "_problems",
    "problem_type": "_problems",
    "ApiKeySpec": "_settings",
    "EntraSettings": "_settings",
    "HttpSettings": "_settings",
    "hash_key": "_settings",
    "load_http_settings": "_settings",
    "new_key": "_settings",
    "serve_settings": "_settings",
    "MemoryState": "_state",
    "StateBackend": "_state",
    "StoredFile": "_workspace",
    "Workspace": "_workspace",
    "Workspaces": "_workspace",
}


def _require_extra() -> None:
    from dualtrack import MissingDependencyError

    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingDependencyError(
            "the HTTP host", exc.name or "starlette", "pip install 'dualtrack[http]'"
        ) from exc


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    _require_extra()
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
