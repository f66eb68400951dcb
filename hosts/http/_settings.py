"""Settings of the HTTP service: the ``[http]`` table of a TOML file.

The service's own settings (API keys, Entra ID, limits, the data folder) live in
``[http]``, either in ``dualtrack.toml`` beside the model catalog and policy, or in
``dualtrack-http.toml`` (or the file given by ``--http-config`` /
``$DUALTRACK_HTTP_CONFIG``), whose keys win over the same keys of the former::

    [http]
    data_dir = "/var/lib/dualtrack"        # per-caller workspaces live here
    max_upload_mb = 25

    [[http.api_keys]]
    name = "word-addin"
    hash = "sha256:9f2c..."                 # `dualtrack serve --new-key word-addin` prints one
    plugins = ["document"]                  # "*" for all
    max_sensitivity = "confidential"

    [http.entra]
    tenant_id = "..."                        # or jwks_url + issuer
    audience = "api://dualtrack"

Keys are stored as hashes only (sha256 of a random 256-bit key), so the file is
not a secret; ``${NAME}`` expands from the environment as in ``dualtrack.toml``.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dualtrack import ConfigError, Sensitivity, load_config

__all__ = [
    "ApiKeySpec",
    "EntraSettings",
    "HttpSettings",
    "config_section",
    "find_http_config",
    "hash_key",
    "load_http_settings",
    "new_key",
    "serve_settings",
]

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_HASH = re.compile(r"sha256:[0-9a-f]{64}")
DEFAULT_SUFFIXES = (
    ".docx",
    ".xlsx",
    ".xlsm",
    ".py",
    ".txt",
    ".md",
    ".csv",
    ".json",
    ".toml",
    ".yaml",
    ".yml",
)


def hash_key(key: str) -> str:
    """The stored form of an API key: ``sha256:<hex>`` (keys are 256-bit random, so no salt is needed)."""
    return "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> str:
    """A new random API key (``dtk_`` + 43 URL-safe characters, 256 bits)."""
    return "dtk_" + secrets.token_urlsafe(32)


class ApiKeySpec(BaseModel):
    """One API key: who it is, what it may call and the most sensitive data it may send.

    Attributes:
        name: Shown in logs and used for the caller's workspace.
        hash: ``sha256:<hex>`` of the key (see :func:`hash_key`).
        plugins: Plugins it may call; ``["*"]`` for all.
        max_sensitivity: The highest level of data it may send or receive.
        concurrency: Calls it may run at once (more get 429).
        rate_per_minute: Requests per minute (more get 429).
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_.@-]{1,64}$")
    hash: str
    plugins: list[str] = Field(default_factory=lambda: ["*"])
    max_sensitivity: Sensitivity = Sensitivity.GENERAL
    concurrency: int = Field(default=4, ge=1)
    rate_per_minute: int = Field(default=120, ge=1)

    @field_validator("hash")
    @classmethod
    def _check_hash(cls, value: str) -> str:
        if not _HASH.fullmatch(value):
            raise ValueError(
                "must be 'sha256:' and 64 hex digits; `dualtrack serve --new-key NAME` prints one"
            )
        return value


class EntraSettings(BaseModel):
    """Microsoft Entra ID bearer tokens (v2.0).

    Attributes:
        tenant_id: Fills in ``jwks_url`` and ``issuer`` for the public cloud when they are not given.
        jwks_url: Where the signing keys are published.
        issuer: The expected ``iss``.
        audience: The expected ``aud`` (the API's application ID URI or client id).
        plugins: Plugins a signed-in user may call.
        max_sensitivity: The highest level a signed-in user may send.
        leeway_s: Clock skew tolerated on ``exp``/``nbf``.
        jwks_min_refresh_s: Least time between two downloads of the keys (an unknown
            ``kid`` triggers one).
    """

    model_config = ConfigDict(extra="forbid")

    tenant_id: str | None = None
    jwks_url: str | None = None
    issuer: str | None = None
    audience: str
    plugins: list[str] = Field(default_factory=lambda: ["*"])
    max_sensitivity: Sensitivity = Sensitivity.CONFIDENTIAL
    concurrency: int = Field(default=4, ge=1)
    rate_per_minute: int = Field(default=120, ge=1)
    leeway_s: float = 60.0
    jwks_min_refresh_s: float = 30.0

    def resolved(self) -> tuple[str, str]:
        """``(jwks_url, issuer)``, filled in from ``tenant_id`` where missing."""
        if self.tenant_id:
            base = f"https://login.microsoftonline.com/{self.tenant_id}"
            return self.jwks_url or f"{base}/discovery/v2.0/keys", self.issuer or f"{base}/v2.0"
        if not (self.jwks_url and self.issuer):
            raise ConfigError("give tenant_id, or both jwks_url and issuer", field="http.entra")
        return self.jwks_url, self.issuer


class HttpSettings(BaseModel):
    """The ``[http]`` table (every field has a default).

    Attributes:
        data_dir: Folder of the per-caller workspaces (default: the user's data folder).
        max_body_kb: Largest JSON request body.
        max_upload_mb: Largest uploaded file.
        upload_suffixes: File types that may be uploaded.
        file_ttl_s: Uploads and outputs are deleted this long after they were written.
        sweep_interval_s: How often expired files are looked for.
        body_timeout_s: A request body must arrive within this time (slow clients are cut off).
        confirm_timeout_s: An unanswered ``confirm`` of ``ask`` is declined after this.
        shutdown_grace_s: Running calls may finish for this long on shutdown.
        anonymous_max_sensitivity: Without any authentication (loopback only), the highest level.
        api_keys: ``[[http.api_keys]]``.
        entra: ``[http.entra]``.
    """

    model_config = ConfigDict(extra="forbid")

    path: str | None = None
    data_dir: str | None = None
    max_body_kb: int = Field(default=1024, ge=1)
    max_upload_mb: float = Field(default=25.0, gt=0)
    upload_suffixes: list[str] = Field(default_factory=lambda: list(DEFAULT_SUFFIXES))
    file_ttl_s: float = Field(default=24 * 3600.0, gt=0)
    sweep_interval_s: float = Field(default=300.0, gt=0)
    body_timeout_s: float = Field(default=30.0, gt=0)
    confirm_timeout_s: float = Field(default=120.0, gt=0)
    shutdown_grace_s: float = Field(default=30.0, ge=0)
    anonymous_max_sensitivity: Sensitivity = Sensitivity.HIGHLY_CONFIDENTIAL
    api_keys: list[ApiKeySpec] = Field(default_factory=list)
    entra: EntraSettings | None = None

    @property
    def auth_configured(self) -> bool:
        """Whether callers must authenticate."""
        return bool(self.api_keys) or self.entra is not None

    @property
    def max_body_bytes(self) -> int:
        """:attr:`max_body_kb` in bytes."""
        return self.max_body_kb * 1024

    @property
    def max_upload_bytes(self) -> int:
        """:attr:`max_upload_mb` in bytes."""
        return int(self.max_upload_mb * 1024 * 1024)

    def data_path(self) -> Path:
        """The data folder (relative paths are taken from the settings file's folder)."""
        if self.data_dir is None:
            import platformdirs

            return Path(platformdirs.user_data_dir("dualtrack")) / "http"
        p = Path(self.data_dir).expanduser()
        if not p.is_absolute() and self.path:
            p = Path(self.path).parent / p
        return p


def find_http_config(config: str | Path | None = None) -> Path | None:
    """``$DUALTRACK_HTTP_CONFIG``, else ``dualtrack-http.toml`` beside ``config`` or in the working folder."""
    env = os.environ.get("DUALTRACK_HTTP_CONFIG")
    if env:
        return Path(env)
    folder = Path(config).parent if config else Path.cwd()
    candidate = folder / "dualtrack-http.toml"
    return candidate if candidate.is_file() else None


def load_http_settings(path: str | Path | None, *, base: dict[str, Any] | None = None) -> HttpSettings:
    """Read ``[http]`` from ``path`` (``None``: defaults, no authentication).

    Args:
        path: The settings file.
        base: An ``[http]`` table read elsewhere (``dualtrack.toml``'s); the file's keys win.

    Raises:
        ConfigError: Naming the file and the field that is wrong.
    """
    table = dict(base or {})
    where = None
    if path is not None:
        where = str(path)
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError("no such file; pass an existing settings file", path=where) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"invalid TOML: {exc}", path=where) from None
        own = data.get("http", {})
        if not isinstance(own, dict):
            raise ConfigError("must be a table ([http])", path=where, field="http")
        table.update(own)
    table = _expand(table, where or "[http]")
    try:
        return HttpSettings(path=where, **table)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = "http." + ".".join(str(p) for p in err["loc"])
        raise ConfigError(err["msg"], path=where, field=field) from None


def serve_settings(config: str | Path | None, http_config: str | Path | None) -> HttpSettings:
    """The settings ``dualtrack serve`` runs with: ``[http]`` of ``dualtrack.toml``, then of its own file.

    Args:
        config: The ``dualtrack.toml`` (``None``: searched as the orchestrator does).
        http_config: The service's own settings file (``None``: none).

    Raises:
        ConfigError: Naming the file and the field that is wrong.
    """
    cfg = load_config(config)
    table = cfg.section("http") or {}
    settings = load_http_settings(http_config, base=table)
    if http_config is None and cfg.path is not None and table:
        settings.path = cfg.path  # relative folders are taken from dualtrack.toml's folder
    return settings


def config_section(table: Any, path: str | None = None) -> list[tuple[str, Callable[[], object]]]:
    """The ``dualtrack.config`` entry point of ``[http]`` in ``dualtrack.toml``.

    The table is checked here (a misspelt key fails when the configuration is loaded)
    and read by ``dualtrack serve``; it declares no plugins.

    Raises:
        ConfigError: The section is not a table or names an unknown setting.
    """
    if not isinstance(table, dict):
        raise ConfigError("must be a table ([http])", path=path, field="http")
    known = set(HttpSettings.model_fields) - {"path"}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(
            f"unknown setting; [http] takes {', '.join(sorted(known))}", path=path, field=f"http.{unknown[0]}"
        )
    return []


def _expand(value: Any, where: str) -> Any:
    if isinstance(value, dict):
        return {k: _expand(v, where) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, where) for v in value]
    if not isinstance(value, str) or "${" not in value:
        return value

    def sub(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        if os.environ.get(name):
            return os.environ[name]
        if default is not None:
            return default
        raise ConfigError(f"environment variable {name} is not set; export it", path=where)

    return _VAR.sub(sub, value)
