"""An external MCP server as a dualtrack plugin: each of its tools a skill.

The plugin is named after the server (``[[mcp_servers]] name``); each tool becomes
the skill ``<server>.<tool>`` with the tool's own input schema. Effects come from
the tool's annotations: ``readOnlyHint: true`` (and not destructive) is a read,
anything else, unknown included, is a write (so a model-chosen call needs the
host's confirmation). A tool call carries the data of the skill call to the
server: a call above the server's ``sensitivity`` is refused before anything is
sent, and results carry that level.

The tool list is read once when the plugin is built (a short connection); the
serving connection starts on the first call and stops with the orchestrator
(:meth:`McpClientPlugin.aclose`, called by ``Orchestrator.aclose``).
"""

from __future__ import annotations

import asyncio
import copy
import functools
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jsonschema
from mcp import types
from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from dualtrack import DualtrackError, Plugin, Skill, SkillContext

from ._client_config import McpServerConfig, parse_servers
from ._connection import McpConnection, McpServerError, on_mcp_loop, run_sync

__all__ = [
    "McpClearanceError",
    "McpClientPlugin",
    "McpServerError",
    "McpToolError",
    "config_plugins",
    "mcp_plugin",
]

_PROGRESS_INTERVAL_S = 0.05  # a server flooding progress costs one report per 50 ms, the latest

_UNSET: Any = type("_Unset", (), {"__repr__": lambda self: "<unset>"})()
_SKILL_NAME = re.compile(r"[^a-z0-9_]+")


class McpToolError(DualtrackError):
    """An external MCP tool ran and reported an error (``isError``).

    Attributes:
        server: The server's name.
        tool: The tool's name on the server.
    """

    model_summary = "the external tool reported an error"

    def __init__(self, server: str, tool: str, message: str) -> None:
        self.server = server
        self.tool = tool
        super().__init__(f"{server}.{tool}: {message}")


class McpClearanceError(DualtrackError):
    """A call carries data above the sensitivity an external MCP server may receive."""

    model_summary = "this tool server is not cleared for data this sensitive"


class McpClientPlugin:
    """The object behind an MCP server's plugin: its connection, closed with the orchestrator.

    Args:
        config: The server's configuration.
    """

    def __init__(self, config: McpServerConfig) -> None:
        self.config = config
        self.connection = McpConnection(config)

    async def aclose(self) -> None:
        """Stop the server if it is running."""
        await on_mcp_loop(self.connection.close())

    async def call(
        self, ctx: SkillContext, tool: types.Tool, arguments: dict[str, Any], *, read_only: bool
    ) -> Any:
        """Call ``tool`` for a running skill (the skill's function)."""
        level = self.config.sensitivity
        if ctx.sensitivity > level:
            raise McpClearanceError(
                f"{self.config.name}.{tool.name}: this call carries {ctx.sensitivity.value} data and the MCP "
                f"server {self.config.name!r} may receive {level.value} at most; nothing was sent. Raise its "
                "`sensitivity` in [[mcp_servers]] if it is allowed to see such data"
            )
        ctx.raise_sensitivity(level)  # whatever it returns is data of that level
        loop = asyncio.get_running_loop()
        latest: list[tuple[float, float | None, str | None]] = []
        last_report = [-_PROGRESS_INTERVAL_S]

        def flush() -> None:
            if latest:
                done, total, message = latest.pop()
                latest.clear()
                last_report[0] = loop.time()
                ctx.progress(int(done), int(total or 0), message or "")

        pending: list[asyncio.TimerHandle] = []

        def schedule() -> None:
            delay = max(0.0, last_report[0] + _PROGRESS_INTERVAL_S - loop.time())
            pending[:] = [loop.call_later(delay, flush)]

        async def relay(progress: float, total: float | None, message: str | None) -> None:
            first = not latest
            latest[:] = [(progress, total, message)]  # coalesced: at most one report per interval
            if first:
                loop.call_soon_threadsafe(schedule)

        try:
            result = await on_mcp_loop(
                self.connection.call_tool(tool.name, arguments, retry_on_crash=read_only, progress=relay)
            )
        finally:
            for handle in pending:
                handle.cancel()
        flush()  # the last report is never lost to the interval (a late schedule() then finds nothing)
        return _value(self.config.name, tool.name, result)


def _value(server: str, tool: str, result: types.CallToolResult) -> Any:
    texts = [b.text for b in result.content if isinstance(b, types.TextContent)]
    if result.isError:
        first = next(
            (line for t in texts for line in t.splitlines() if line.strip()), "failed without a message"
        )
        raise McpToolError(server, tool, first[:500])
    if result.structuredContent is not None:
        return result.structuredContent
    others = [f"[{b.type} content]" for b in result.content if not isinstance(b, types.TextContent)]
    return "\n".join([*texts, *others])


def _effects(tool: types.Tool) -> str:
    hints = tool.annotations
    if hints is not None and hints.readOnlyHint is True and hints.destructiveHint is not True:
        return "read"
    return "write"


def _params(server: str, skill_name: str, schema: dict[str, Any]) -> tuple[type[BaseModel], dict[str, str]]:
    """A pydantic model that validates with the tool's JSON Schema and shows it unchanged."""
    validator_cls = jsonschema.validators.validator_for(schema)
    validator_cls.check_schema(schema)
    validator = validator_cls(schema)
    shown = copy.deepcopy(schema)
    shown.setdefault("type", "object")
    props: Mapping[str, Any] = schema.get("properties") or {}
    required = set(schema.get("required") or ())

    class Base(BaseModel):
        model_config = ConfigDict(extra="forbid")

        @model_validator(mode="before")
        @classmethod
        def _check(cls, data: Any) -> Any:
            errors = sorted(validator.iter_errors(data), key=lambda e: list(e.path))
            if errors:
                where = ".".join(str(p) for p in errors[0].path)
                raise ValueError(f"{where + ': ' if where else ''}{errors[0].message}")
            return data

        @classmethod
        def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
            return copy.deepcopy(shown)

    aliases: dict[str, str] = {}
    fields: dict[str, Any] = {}
    for i, name in enumerate(props):
        field = f"p{i}"
        aliases[field] = name
        fields[field] = (Any, Field(... if name in required else _UNSET, alias=name))
    model = create_model(f"{server}_{skill_name}_params", __base__=Base, **fields)
    return model, aliases


def _skill(owner: McpClientPlugin, tool: types.Tool, taken: set[str]) -> Skill:
    server = owner.config.name
    name = _SKILL_NAME.sub("_", tool.name.lower()).strip("_") or "tool"
    if not name[0].isalpha():
        name = f"t_{name}"
    while name in taken:
        name += "_"
    taken.add(name)
    params, aliases = _params(server, name, dict(tool.inputSchema))
    read_only = _effects(tool) == "read"

    async def run(ctx: SkillContext, **values: Any) -> Any:
        arguments = {aliases[k]: v for k, v in values.items() if v is not _UNSET}
        return await owner.call(ctx, tool, arguments, read_only=read_only)

    description = (tool.description or tool.title or f"The {tool.name} tool of {server}").strip()
    return Skill(
        plugin=server,
        name=name,
        description=description,
        requires=frozenset(),
        prefers=frozenset(),
        effects="read" if read_only else "write",
        func=run,
        params=params,
        ctx_param="ctx",
        is_async=True,
    )


async def _discover(owner: McpClientPlugin) -> list[types.Tool]:
    try:
        return await owner.connection.list_tools()
    except TimeoutError:
        raise McpServerError(
            owner.config.name,
            f"did not list its tools within {owner.config.startup_timeout:g} s",
            reason="startup",
        ) from None
    finally:
        await owner.connection.close()  # started again on the first call


def mcp_plugin(config: McpServerConfig) -> Plugin:
    """Connect to a server once, read its tools and build its plugin.

    Raises:
        McpServerError: The server did not start or list its tools.
        ConfigError: A ``${NAME}`` in its configuration is not set.
    """
    owner = McpClientPlugin(config)
    try:
        tools = run_sync(_discover(owner), config.startup_timeout + 10)
    except TimeoutError:
        raise McpServerError(
            config.name, "did not answer while listing its tools", reason="startup"
        ) from None
    taken: set[str] = set()
    skills: dict[str, Skill] = {}
    for tool in tools:
        try:
            built = _skill(owner, tool, taken)
        except jsonschema.SchemaError as exc:
            raise McpServerError(
                config.name,
                f"tool {tool.name!r} has an invalid input schema ({exc.message})",
                reason="protocol",
            ) from None
        skills[built.name] = built
    description = config.description or (owner.connection.instructions or "").strip().split("\n\n")[0]
    return Plugin(
        name=config.name,
        description=description or f"tools of the MCP server {config.name!r}",
        skills=skills,
        instance=owner,
    )


def config_plugins(
    entries: Sequence[Mapping[str, Any]], path: str | None = None
) -> list[tuple[str, Callable[[], object]]]:
    """The ``dualtrack.config`` entry point for ``[[mcp_servers]]``: one loader per server.

    Args:
        entries: The raw ``[[mcp_servers]]`` tables.
        path: The configuration file, for messages.

    Returns:
        ``(name, load)`` pairs; ``load()`` builds the plugin (and may raise for that server only).
    """
    return [(cfg.name, functools.partial(mcp_plugin, cfg)) for cfg in parse_servers(entries, path)]
