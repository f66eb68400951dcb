"""Reading and checking ``ModelCard.settings`` for the HTTP connectors.

A wrong or misspelt setting fails when the connector is built, with a message
that names the setting and the fix (the core turns the ``ValueError`` into a
``ConfigError`` that points at ``models.<name>.settings``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

__all__ = ["HTTP_SETTINGS", "check_base_url", "check_keys", "http_options"]

HTTP_SETTINGS: dict[str, str] = {
    "timeout": "seconds to wait for each read from the server (default 120)",
    "connect_timeout": "seconds to wait for a connection (default 10)",
    "max_connections": "size of the connection pool (default 256)",
    "extra_headers": "a table of extra HTTP headers",
    "verify": "verify TLS certificates (true/false, or a CA bundle path)",
    "proxy": "a proxy URL (default: the environment's HTTPS_PROXY / NO_PROXY)",
    "json_mode": '"auto", "json_schema" or "json_object" (llama-cpp-python server)',
    "strict_schema": '"auto", true or false: OpenAI strict structured outputs',
    "max_tokens_field": '"max_tokens" or "max_completion_tokens" (reasoning models)',
    "stream_usage": "ask for token usage at the end of a stream (default true)",
}


def check_keys(settings: Mapping[str, Any], allowed: Mapping[str, str], connector: str) -> None:
    """Reject unknown settings, suggesting the closest known name.

    Raises:
        ValueError: A setting is not known to ``connector``.
    """
    for key in settings:
        if key in allowed:
            continue
        import difflib  # only for the suggestion of an unknown setting

        close = difflib.get_close_matches(key, list(allowed), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        known = ", ".join(sorted(allowed))
        raise ValueError(f"unknown {connector} setting {key!r}.{hint} Known settings: {known}")


def check_base_url(url: Any, setting: str = "base_url", *, credentials: bool = False) -> str:
    """An ``http(s)://host...`` URL without a trailing slash.

    Args:
        url: The setting's value.
        setting: Its name, for messages.
        credentials: Whether ``user:password@`` may appear (a proxy URL); an API
            URL must not carry them: they would travel next to the API key's
            ``Authorization`` header and show wherever the URL is logged.

    Raises:
        ValueError: It is not an absolute http(s) URL, or it carries credentials.
    """
    if not isinstance(url, str) or not url:
        raise ValueError(f"{setting} must be a URL such as https://api.openai.com/v1, got {url!r}")
    try:
        parts = urlsplit(url)
        hostname, _port = parts.hostname, parts.port
    except ValueError as exc:  # a bad port or a malformed IPv6 host
        raise ValueError(f"{setting} is not a valid URL ({exc}); use e.g. http://127.0.0.1:8080/v1") from None
    if parts.scheme not in ("http", "https") or not hostname:
        raise ValueError(f"{setting} must be an absolute http(s) URL such as http://127.0.0.1:8080/v1")
    if not credentials and (parts.username is not None or parts.password is not None):
        raise ValueError(
            f"{setting} must not contain credentials (user:password@); put the API key in `api_key`, "
            "or a basic-auth header under `extra_headers`"
        )
    return url.rstrip("/")


def _number(settings: Mapping[str, Any], key: str, default: float, *, integer: bool = False) -> Any:
    value = settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError(f"{key} must be a positive number, got {value!r}")
    return int(value) if integer else float(value)


def _choice(settings: Mapping[str, Any], key: str, default: Any, options: tuple[Any, ...]) -> Any:
    value = settings.get(key, default)
    if not any(type(value) is type(o) and value == o for o in options):
        raise ValueError(f"{key} must be one of {', '.join(map(repr, options))}, got {value!r}")
    return value


def http_options(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Constructor keywords for the HTTP and wire settings common to all HTTP connectors.

    Raises:
        ValueError: A value has the wrong type or is out of range.
    """
    headers = settings.get("extra_headers") or {}
    if not isinstance(headers, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise ValueError("extra_headers must be a table of header names to string values")
    verify = settings.get("verify", True)
    if not isinstance(verify, bool | str):
        raise ValueError("verify must be true, false or a path to a CA bundle")
    proxy = settings.get("proxy")
    if proxy is not None:
        check_base_url(proxy, "proxy", credentials=True)
    stream_usage = settings.get("stream_usage", True)
    if not isinstance(stream_usage, bool):
        raise ValueError("stream_usage must be true or false")
    return {
        "timeout": _number(settings, "timeout", 120.0),
        "connect_timeout": _number(settings, "connect_timeout", 10.0),
        "max_connections": _number(settings, "max_connections", 256, integer=True),
        "extra_headers": dict(headers),
        "verify": verify,
        "proxy": proxy,
        "json_mode": _choice(settings, "json_mode", "auto", ("auto", "json_schema", "json_object")),
        "strict_schema": _choice(settings, "strict_schema", "auto", ("auto", True, False)),
        "max_tokens_field": _choice(
            settings, "max_tokens_field", "max_tokens", ("max_tokens", "max_completion_tokens")
        ),
        "stream_usage": stream_usage,
    }
