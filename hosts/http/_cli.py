"""``dualtrack serve``: run the service on uvicorn.

Refuses to start on a non-loopback address when no authentication is
configured. With ``--workers N`` each worker builds its own app from the
environment (:func:`app_from_env`); budgets, circuits and the ledger are then
per worker unless a shared state backend is configured.
"""

from __future__ import annotations

import ipaddress
import os
import sys
from typing import Any

from dualtrack import ConfigError, Orchestrator

from ._settings import find_http_config, hash_key, new_key, serve_settings

__all__ = ["app_from_env", "log_config", "run_cli"]

_ENV_CONFIG = "DUALTRACK_SERVE_CONFIG"
_ENV_HTTP = "DUALTRACK_HTTP_CONFIG"


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` only exposes the service to this machine."""
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def log_config() -> dict[str, Any]:
    """The logging configuration of uvicorn plus the service's own lines (``dualtrack.http``) on stderr.

    The access log is one JSON object per request (see :class:`~._guard.Guard`); without
    this, those INFO lines would have no handler in a server process.
    """
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["dualtrack"] = {"format": "%(message)s"}
    config["handlers"]["dualtrack"] = {
        "class": "logging.StreamHandler",
        "formatter": "dualtrack",
        "stream": "ext://sys.stderr",
    }
    config["loggers"]["dualtrack.http"] = {"handlers": ["dualtrack"], "level": "INFO", "propagate": False}
    return config


def app_from_env() -> Any:
    """The app of one worker, from the paths ``run_cli`` put in the environment (uvicorn factory)."""
    from ._app import create_app

    config = os.environ.get(_ENV_CONFIG) or None
    settings = serve_settings(config, os.environ.get(_ENV_HTTP) or find_http_config(config))
    return create_app(Orchestrator.from_config(config), settings)


def run_cli(
    *,
    config: str | None,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    http_config: str | None = None,
    new_key_name: str | None = None,
) -> int:
    """Run the service until interrupted; returns the exit status."""
    if new_key_name is not None:
        key = new_key()
        print(f"API key for {new_key_name!r} (shown once; give it to the client):\n  {key}\n")
        print("add to the [http] settings (dualtrack.toml or dualtrack-http.toml):\n")
        print(f'[[http.api_keys]]\nname = "{new_key_name}"\nhash = "{hash_key(key)}"\nplugins = ["*"]')
        print('max_sensitivity = "general"')
        return 0
    path = http_config or find_http_config(config)
    settings = serve_settings(config, path)
    if not settings.auth_configured and not is_loopback(host):
        raise ConfigError(
            f"refusing to serve on {host} without authentication: anyone who can reach it could run skills. "
            "Create a key with `dualtrack serve --new-key NAME` and add the printed [[http.api_keys]] table "
            "to dualtrack.toml or dualtrack-http.toml (or configure [http.entra]), or bind 127.0.0.1",
            path=str(path) if path else settings.path,
        )
    import uvicorn

    os.environ[_ENV_CONFIG] = config or ""
    os.environ[_ENV_HTTP] = str(path or "")
    common: dict[str, Any] = {
        "host": host,
        "port": port,
        "access_log": False,  # the app logs its own lines, without query strings or headers
        "timeout_keep_alive": 5,
        "timeout_graceful_shutdown": int(settings.shutdown_grace_s) or None,
        "h11_max_incomplete_event_size": 64 * 1024,
        "log_level": "info",
        "log_config": log_config(),
        "server_header": False,
    }
    print(f"dualtrack serving on http://{host}:{port} (docs at /docs)", file=sys.stderr)
    if workers > 1:
        uvicorn.run("dualtrack.hosts.http:app_from_env", factory=True, workers=workers, **common)
    else:
        uvicorn.run(app_from_env(), **common)
    return 0
