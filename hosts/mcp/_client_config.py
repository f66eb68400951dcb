"""``[[mcp_servers]]``: other MCP servers whose tools become dualtrack skills.

.. code-block:: toml

    [[mcp_servers]]
    name = "files"                       # the plugin name: skills are files.<tool>
    command = "python"                   # a stdio server ...
    args = ["-m", "my_server"]
    env = { TOKEN = "${FILES_TOKEN}" }

    [[mcp_servers]]
    name = "tickets"
    url = "https://mcp.example.com/mcp"  # ... or a streamable HTTP one
    headers = { Authorization = "Bearer ${TICKETS_TOKEN}" }
    timeout = 30                         # seconds per call (default 60)
    sensitivity = "general"              # its tools receive nothing above it; results carry it

Strings may use ``${NAME}`` or ``${NAME:-default}``; a variable that is not set
makes that server unavailable (with the reason), not the whole configuration.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from dualtrack import ConfigError, Sensitivity

__all__ = ["McpServerConfig", "expand", "parse_servers"]

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class McpServerConfig(BaseModel):
    """One external MCP server.

    Attributes:
        name: The plugin name its tools are registered under (lowercase snake_case).
        command: The program of a stdio server.
        args: Its arguments.
        cwd: Its working directory.
        url: The endpoint of a streamable HTTP server (instead of ``command``).
        env: Extra environment variables of a stdio server.
        headers: HTTP headers sent to a URL server.
        timeout: Seconds a tool call may take before it is cancelled.
        startup_timeout: Seconds the server may take to start and list its tools.
        sensitivity: The highest sensitivity its tools may receive; their results carry it.
        description: What the server is for (default: its own instructions).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    command: str | None = None
    args: tuple[str, ...] = ()
    cwd: str | None = None
    url: str | None = None
    env: dict[str, str] = Field(default_factory=dict)
    headers: dict[str, str] = Field(default_factory=dict)
    timeout: float = Field(default=60.0, gt=0)
    startup_timeout: float = Field(default=30.0, gt=0)
    sensitivity: Sensitivity = Sensitivity.GENERAL
    description: str | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(f"{value!r} must be lowercase snake_case (it becomes the plugin name)")
        return value

    @field_validator("sensitivity", mode="before")
    @classmethod
    def _level(cls, value: Any) -> Sensitivity:
        return Sensitivity.parse(value)

    @model_validator(mode="after")
    def _one_transport(self) -> McpServerConfig:
        if (self.command is None) == (self.url is None):
            raise ValueError("give either `command` (a stdio server) or `url` (streamable HTTP), not both")
        return self

    def resolved(self, environ: Mapping[str, str] | None = None) -> McpServerConfig:
        """A copy with every ``${NAME}`` replaced from the environment.

        Raises:
            ConfigError: Naming the variable that is not set.
        """
        env = os.environ if environ is None else environ
        where = f"mcp_servers[{self.name}]"
        data = self.model_dump()
        for key in ("command", "cwd", "url"):
            if data[key] is not None:
                data[key] = expand(data[key], env, f"{where}.{key}")
        data["args"] = tuple(expand(a, env, f"{where}.args") for a in self.args)
        data["env"] = {k: expand(v, env, f"{where}.env.{k}") for k, v in self.env.items()}
        data["headers"] = {k: expand(v, env, f"{where}.headers.{k}") for k, v in self.headers.items()}
        return McpServerConfig(**data)


def expand(value: str, env: Mapping[str, str], field: str) -> str:
    """Replace ``${NAME}`` and ``${NAME:-default}`` in ``value``.

    Raises:
        ConfigError: When a variable without a default is not set.
    """

    def sub(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        if env.get(name):
            return env[name]
        if default is not None:
            return default
        raise ConfigError(
            f"environment variable {name} is not set; export it or use ${{{name}:-default}}", field=field
        )

    return _VAR.sub(sub, value)


def parse_servers(entries: Sequence[Mapping[str, Any]], path: str | None = None) -> list[McpServerConfig]:
    """Validate ``[[mcp_servers]]`` entries (variables are expanded later, per server).

    Raises:
        ConfigError: Naming the entry and field that is wrong, or a duplicated name.
    """
    out: list[McpServerConfig] = []
    for i, raw in enumerate(entries):
        label = raw.get("name", i) if isinstance(raw, Mapping) else i
        try:
            out.append(McpServerConfig.model_validate(raw))
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"])
            field = f"mcp_servers[{label}]" + (f".{loc}" if loc else "")
            raise ConfigError(str(err["msg"]), path=path, field=field) from None
    names = [s.name for s in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(
            f"names must be unique; duplicated: {', '.join(dupes)}", path=path, field="mcp_servers"
        )
    return out
