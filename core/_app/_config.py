"""Configuration from ``dualtrack.toml`` or ``[tool.dualtrack]`` in ``pyproject.toml``.

Secrets come from the environment: any string may use ``${NAME}`` or
``${NAME:-default}``. A model whose settings name a variable that is not set is
kept in the catalog but disabled, with the reason shown in route explanations.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .._errors import ConfigError, MissingDependencyError
from .._model._cards import ModelCard
from .._model._discovery import default_cards
from .._model._sensitivity import Sensitivity
from .._office._labels import LabelPolicy
from .._routing._router import Policy
from .._runtime._budget import Budgets
from .._runtime._execution import RetryPolicy
from .._runtime._ledger import Ledger
from .._runtime._shadow_log import ShadowLog, ShadowSettings, shadow_log_path
from .._runtime._state import SharedState

__all__ = ["Config", "find_config", "load_config"]

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class Config(BaseModel):
    """A parsed configuration.

    Attributes:
        path: The file it came from, if any.
        models: The catalog (the default catalog when the file declares none).
        policy: Routing policy.
        retry: Retry, deadline and circuit-breaker settings.
        labels: Sensitivity label mapping.
        default_sensitivity: Sensitivity when nobody says otherwise.
        plugins: Plugin names to load; ``None`` loads every installed plugin.
        ledger: Path of the persistent usage ledger (relative to the config file);
            ``None`` uses ``$DUALTRACK_LEDGER`` or ``usage.sqlite3`` in the user's
            data directory; ``"memory"`` keeps usage in memory only.
        budgets: Daily USD and token limits, global and per skill or plugin.
        state: What several workers share (budgets, open circuits, usage rows):
            ``sqlite:///path`` (relative to the config file; workers on one disk) or
            ``redis://host:6379/0`` (several machines); ``None`` uses ``$DUALTRACK_STATE``,
            else each process keeps its own.
        roots: Folders skills may read and write (relative to the config file);
            ``None`` means the working directory.
        mcp_servers: ``[[mcp_servers]]``: MCP servers whose tools become plugins (the
            ``mcp`` extra handles them; ``${NAME}`` is expanded when each one starts).
        shadow: ``[shadow]``: a fraction of live calls also sent to second models in
            the background, logged for ``dualtrack eval``.
        file_sources: ``[[file_sources]]``: where references in path arguments are
            fetched from (``source = "m365"`` and its settings; ``${NAME}`` is expanded
            when the orchestrator is built).
        sections: Tables that installed hosts handle (``[http]`` for ``dualtrack serve``),
            by name, as written (``${NAME}`` is expanded by the host that reads them). A
            host registers a section under the ``dualtrack.config`` entry points; any
            other unknown key is an error.
    """

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    path: str | None = None
    models: list[ModelCard] = Field(default_factory=list)
    policy: Policy = Field(default_factory=Policy)
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    labels: LabelPolicy = Field(default_factory=LabelPolicy)
    default_sensitivity: Sensitivity = Sensitivity.GENERAL
    plugins: list[str] | None = None
    ledger: str | None = None
    budgets: Budgets = Field(default_factory=Budgets)
    state: str | None = None
    roots: list[str] | None = None
    mcp_servers: list[dict[str, Any]] = Field(default_factory=list)
    shadow: ShadowSettings = Field(default_factory=ShadowSettings)
    file_sources: list[dict[str, Any]] = Field(default_factory=list)
    sections: dict[str, Any] = Field(default_factory=dict)

    def section(self, name: str) -> Any:
        """The raw table of a host's section (``cfg.section("http")``), or ``None`` when absent."""
        return self.sections.get(name)

    def root_paths(self) -> list[Path] | None:
        """The configured roots, relative ones taken from the config file's folder."""
        if self.roots is None:
            return None
        base = Path(self.path).parent if self.path else Path.cwd()
        return [base / Path(r).expanduser() for r in self.roots]

    def make_state(self) -> SharedState | None:
        """The shared state of ``state`` (or ``$DUALTRACK_STATE``), or ``None`` (each process its own)."""
        url = self.state if self.state is not None else os.environ.get("DUALTRACK_STATE") or None
        if url is None or not url.strip():
            return None
        from .._runtime._state import open_state

        base = Path(self.path).parent if self.path is not None and self.state is not None else None
        return open_state(url.strip(), base=base)

    def make_ledger(self, state: SharedState | None = None) -> Ledger | None:
        """The persistent ledger, or ``None`` for the in-memory default (``ledger = "memory"``).

        Args:
            state: The shared state; its ledger is used when ``ledger`` is not set.
        """
        where = self.ledger if self.ledger is not None else os.environ.get("DUALTRACK_LEDGER") or None
        if where is None and state is not None:
            return state.ledger()
        if where is not None and where.strip().lower() in ("memory", ":memory:"):
            return None
        from .._runtime._sqlite_ledger import SqliteLedger

        if where is None:
            return SqliteLedger()
        path = Path(where).expanduser()
        if not path.is_absolute() and self.path is not None and self.ledger is not None:
            path = Path(self.path).parent / path
        ledger: Ledger = SqliteLedger(path)
        return ledger

    def make_shadow_log(self) -> ShadowLog:
        """The shadow log: ``[shadow] log``, else next to the usage ledger, else in memory."""
        where = self.shadow.log
        if where is not None and where.strip().lower() in ("memory", ":memory:"):
            return ShadowLog(None)
        if where is not None:
            path = Path(where).expanduser()
            if not path.is_absolute() and self.path is not None:
                path = Path(self.path).parent / path
            return ShadowLog(path)
        ledger = self.make_ledger()
        ledger_path = getattr(ledger, "path", None)
        return ShadowLog(shadow_log_path(ledger_path) if ledger_path is not None else None)

    def section_plugins(self) -> list[tuple[str, Callable[[], object]]]:
        """Plugins that sections handled by installed hosts declare (``[[mcp_servers]]``).

        Each section goes to the ``dualtrack.config`` entry point of its name, which
        returns ``(plugin name, load)`` pairs (none for a section of settings such as
        ``[http]``); ``load()`` builds one plugin.

        Raises:
            ConfigError: The section is present and no installed host handles it.
            MissingDependencyError: The host is installed but its extra is not.
        """
        wanted: dict[str, Any] = dict(self.sections)
        if self.mcp_servers:
            wanted["mcp_servers"] = self.mcp_servers
        if not wanted:
            return []
        found = config_sections()
        pairs: list[tuple[str, Callable[[], object]]] = []
        for name, entries in wanted.items():
            ep = found.get(name)
            extra = "mcp" if name == "mcp_servers" else name
            if ep is None:
                raise ConfigError(
                    f"no installed host handles this section; pip install 'dualtrack[{extra}]'",
                    path=self.path,
                    field=name,
                )
            try:
                factory = ep.load()
            except ImportError as exc:
                install = f"pip install 'dualtrack[{extra}]'"
                raise MissingDependencyError(f"the [{name}] section", exc.name or extra, install) from exc
            pairs.extend(factory(entries, self.path))
        return pairs


def config_sections() -> dict[str, Any]:
    """The ``dualtrack.config`` entry points of installed hosts, by section name."""
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group="dualtrack.config")}


def find_config(start: str | Path | None = None) -> Path | None:
    """Find ``$DUALTRACK_CONFIG``, ``dualtrack.toml`` or a ``pyproject.toml`` with a section."""
    env = os.environ.get("DUALTRACK_CONFIG")
    if env:
        return Path(env)
    here = Path(start or Path.cwd())
    candidate = here / "dualtrack.toml"
    if candidate.is_file():
        return candidate
    pyproject = here / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, OSError):
            return None
        if "dualtrack" in data.get("tool", {}):
            return pyproject
    return None


def load_config(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate a configuration.

    Args:
        path: The file; ``None`` searches (see :func:`find_config`).
        env: The environment for ``${...}`` (default: ``os.environ``).

    Returns:
        The configuration; with no file, the default catalog.

    Raises:
        ConfigError: Naming the file and the field that is wrong.
    """
    environ = dict(os.environ if env is None else env)
    file = Path(path) if path is not None else find_config()
    if file is None:
        return Config(models=default_cards(environ))
    where = str(file)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("no such file; pass an existing dualtrack.toml", path=where) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", path=where) from None
    if file.name == "pyproject.toml":
        data = data.get("tool", {}).get("dualtrack", {})
    models_raw = data.pop("models", None)
    mcp_raw = data.pop("mcp_servers", None)  # ${NAME} is expanded per server when it starts
    sources_raw = data.pop("file_sources", None)  # ... and per file source when it is built
    if sources_raw is not None and not isinstance(sources_raw, list):
        raise ConfigError("must be an array of tables ([[file_sources]])", path=where, field="file_sources")
    if mcp_raw is not None and not isinstance(mcp_raw, list):
        raise ConfigError("must be an array of tables ([[mcp_servers]])", path=where, field="mcp_servers")
    sections = _host_sections(data, where)  # raw: the host expands ${NAME} when it reads them
    data = _interpolate(data, environ, where, "")
    if sections:
        data["sections"] = sections
    if mcp_raw is not None:
        data["mcp_servers"] = mcp_raw
    if sources_raw is not None:
        data["file_sources"] = sources_raw
    models: list[ModelCard] = []
    if models_raw is None:
        models = default_cards(environ)
    elif not isinstance(models_raw, list):
        raise ConfigError("must be an array of tables ([[models]])", path=where, field="models")
    for i, raw in enumerate(models_raw or []):
        models.append(_model(raw, environ, where, i))
    try:
        return Config(path=where, models=models, **data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise ConfigError(err["msg"], path=where, field=field) from None


def _host_sections(data: dict[str, Any], where: str) -> dict[str, Any]:
    """Pop the keys that are no setting of the core: hosts' sections, or an error naming the key."""
    unknown = [k for k in data if k not in Config.model_fields or k == "sections"]
    if not unknown:
        return {}
    registered = config_sections()
    out: dict[str, Any] = {}
    for key in unknown:
        if key not in registered:
            known = ", ".join(sorted(k for k in Config.model_fields if k not in ("path", "sections")))
            raise ConfigError(
                f"unknown setting or section; the core reads {known}, and installed hosts "
                f"handle {', '.join(sorted(registered)) or 'no section'}",
                path=where,
                field=key,
            )
        out[key] = data.pop(key)
    return out


def _model(raw: Any, env: Mapping[str, str], where: str, i: int) -> ModelCard:
    if not isinstance(raw, dict):
        raise ConfigError("must be a table", path=where, field=f"models[{i}]")
    missing: list[str] = []
    data = _interpolate(raw, env, where, f"models[{i}]", missing)
    if missing:
        data["enabled"] = False
        data["disabled_reason"] = f"{', '.join(sorted(set(missing)))} not set"
    try:
        return ModelCard(**data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        name = raw.get("name", i)
        raise ConfigError(err["msg"], path=where, field=f"models[{name}].{field}") from None


def _interpolate(
    value: Any, env: Mapping[str, str], where: str, field: str, missing: list[str] | None = None
) -> Any:
    if isinstance(value, dict):
        return {k: _interpolate(v, env, where, f"{field}.{k}".lstrip("."), missing) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, env, where, f"{field}[{i}]", missing) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value

    def sub(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        if env.get(name):
            return env[name]
        if default is not None:
            return default
        if missing is not None:
            missing.append(name)
            return ""
        raise ConfigError(
            f"environment variable {name} is not set; export it or use ${{{name}:-default}}",
            path=where,
            field=field,
        )

    return _VAR.sub(sub, value)
