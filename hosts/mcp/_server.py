"""The MCP server: every skill of an orchestrator as an MCP tool.

Built on ``mcp.server.lowlevel.Server`` so each tool carries its skill's own JSON
Schemas. A tool call is a call a model chose: it runs
``Orchestrator.invoke(..., chosen_by="model")`` with everything that makes a skill
dualtrack's: routing by tags and sensitivity, the usage ledger, progress
(``ctx.progress`` becomes ``notifications/progress``), cancellation (a client's
``notifications/cancelled`` cancels the skill and its model calls), the orchestrator's
file roots, confirmation of writes (elicitation, ``allow_writes``, or the orchestrator's
``confirm``) and the server's sensitivity ceiling.
Every failure comes back as a tool result with ``isError`` and one line of text;
nothing a tool does ends the session.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import anyio
from mcp import types
from mcp.server.lowlevel import NotificationOptions, Server
from mcp.server.models import InitializationOptions
from mcp.server.session import ServerSession

import dualtrack
from dualtrack import DualtrackError, NotConfirmedError, Orchestrator, Sensitivity, Skill, SkillResult

from ._ceiling import CeilingError, check_input_labels
from ._progress import ProgressRelay
from ._tools import ToolSpec, tool_specs

__all__ = ["McpServer", "WriteRefusedError"]

_log = logging.getLogger("dualtrack.hosts.mcp")
_CONFIRM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "confirm": {
            "type": "boolean",
            "title": "Allow this change",
            "description": "Check to let the tool write the files named in its arguments.",
        }
    },
    "required": ["confirm"],
}
_INSTRUCTIONS = (
    "dualtrack skills as tools. Each call is routed to a partner or in-house model by capability "
    "tags and data sensitivity; tools that change files ask the user first. File paths must lie "
    "inside the folders the server was started with."
)


class WriteRefusedError(NotConfirmedError):
    """A write skill was not confirmed, so nothing was changed.

    Attributes:
        skill: The skill's full name.
    """

    model_summary = "the user did not confirm this change; nothing was written"

    def __init__(self, skill: str, message: str) -> None:
        super().__init__(skill)
        self.args = (message,)


class McpServer:
    """Serve an orchestrator's skills over MCP.

    Args:
        orchestrator: Whose skills become tools. Its ``roots`` confine file arguments
            (build it with ``Orchestrator(roots=[...])``).
        allow_writes: Run write skills without asking when the client cannot ask the
            user (no elicitation support). Clients that can ask are always asked.
        max_sensitivity: The highest sensitivity this server may return to its client;
            a call whose data would exceed it is refused. ``None``: no ceiling.
        name: The server name shown to clients.
        confirm_timeout: Seconds to wait for the user's answer to a confirmation.
    """

    def __init__(
        self,
        orchestrator: Orchestrator,
        *,
        allow_writes: bool = False,
        max_sensitivity: Sensitivity | str | None = None,
        name: str = "dualtrack",
        confirm_timeout: float = 300.0,
    ) -> None:
        self.orc = orchestrator
        self.allow_writes = allow_writes
        self.ceiling = None if max_sensitivity is None else Sensitivity.parse(max_sensitivity)
        self.confirm_timeout = confirm_timeout
        self.specs: dict[str, ToolSpec] = tool_specs(orchestrator)
        self._by_skill = {spec.skill.full_name: spec for spec in self.specs.values()}
        self.server: Server[Any, Any] = Server(
            name, version=dualtrack.__version__, instructions=_INSTRUCTIONS
        )
        self.server.list_tools()(self._list_tools)  # type: ignore[no-untyped-call]
        self.server.call_tool(validate_input=False)(self._call_tool)

    # -- running ------------------------------------------------------------------

    def initialization_options(self) -> InitializationOptions:
        """What the server tells clients when a session starts."""
        return self.server.create_initialization_options(NotificationOptions())

    async def run_stdio(self) -> None:
        """Serve one client over standard input and output until it disconnects."""
        from mcp.server.stdio import stdio_server

        async with stdio_server() as (read, write):
            await self.server.run(read, write, self.initialization_options())

    # -- handlers -----------------------------------------------------------------

    async def _list_tools(self) -> list[types.Tool]:
        return [spec.tool for spec in self.specs.values()]

    async def _call_tool(self, name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        ctx = self.server.request_context
        token = ctx.meta.progressToken if ctx.meta is not None else None
        try:
            spec = self.specs.get(name)
            if spec is None:  # the earlier `plugin-skill` form, or `plugin.skill`
                spec = self._by_skill[self.orc.skill(name).full_name]
            skill = spec.skill
            async with ProgressRelay(ctx.session, token, ctx.request_id) as relay:
                result = await self.run(skill, arguments, ctx.session, ctx.request_id, relay.callback)
            return spec.result(result.value)
        except DualtrackError as exc:
            return self._error(exc)
        except Exception as exc:  # noqa: BLE001 - a bug in a skill or plugin must not end the session
            _log.warning("tool %s failed", name, exc_info=True)
            return _error_result(f"internal error in {name}: {type(exc).__name__}; see the server log")

    async def run(
        self,
        skill: Skill,
        arguments: dict[str, Any],
        session: ServerSession | None,
        request_id: types.RequestId | None,
        on_progress: Callable[[str, int, int, str], None] | None = None,
    ) -> SkillResult:
        """Run one tool call through the guards and the orchestrator.

        Args:
            skill: The skill.
            arguments: The client's arguments.
            session: The client session (asked to confirm writes), if any.
            request_id: The request the call belongs to.
            on_progress: Receives the skill's progress.

        Returns:
            The skill's result.

        Raises:
            DualtrackError: Any refusal or failure, typed.
        """
        values = skill.bind_arguments(dict(arguments))  # a bad call is refused before anyone is asked
        if self.ceiling is not None:
            check_input_labels(self.orc, skill, values, self.ceiling)
        confirmed = skill.effects == "write" and await self._confirm_write(
            skill, arguments, session, request_id
        )
        level = self.orc.default_sensitivity
        if self.ceiling is not None:
            level = min(level, self.ceiling)
        try:
            result = await self.orc.invoke(
                skill.full_name,
                values,
                sensitivity=level,
                on_progress=on_progress,
                chosen_by="model",
                confirmed=confirmed,
            )
        except NotConfirmedError as exc:  # nobody could ask the user, and orc.confirm did not approve
            if isinstance(exc, WriteRefusedError):
                raise
            raise WriteRefusedError(
                skill.full_name,
                f"{skill.full_name} changes files and this client cannot ask the user to confirm; "
                "nothing was written. Use a client that supports elicitation, or start the server "
                "with --allow-writes",
            ) from exc
        if self.ceiling is not None and result.sensitivity is not None and result.sensitivity > self.ceiling:
            raise CeilingError(skill.full_name, Sensitivity.parse(result.sensitivity), self.ceiling)
        return result

    async def _confirm_write(
        self,
        skill: Skill,
        arguments: dict[str, Any],
        session: ServerSession | None,
        request_id: types.RequestId | None,
    ) -> bool:
        """Whether the user (or ``allow_writes``) confirmed the call; a decline raises.

        Returns ``False`` when nobody can be asked: the orchestrator's rule then decides.
        """
        if session is None or not _can_elicit(session):
            return self.allow_writes
        shown = json.dumps(arguments, ensure_ascii=False)[:2000]
        message = f"Allow {skill.full_name} to change files?\n{skill.description}\nArguments: {shown}"
        try:
            with anyio.fail_after(self.confirm_timeout):
                answer = await session.elicit_form(message, _CONFIRM_SCHEMA, related_request_id=request_id)
        except TimeoutError:
            raise WriteRefusedError(
                skill.full_name,
                f"{skill.full_name}: no answer to the confirmation within {self.confirm_timeout:g} s; "
                "nothing was written",
            ) from None
        except anyio.get_cancelled_exc_class():
            raise
        except Exception as exc:  # noqa: BLE001 - the client failed the request: not confirmed
            raise WriteRefusedError(
                skill.full_name,
                f"{skill.full_name}: the client could not ask the user ({type(exc).__name__}); "
                "nothing was written",
            ) from None
        if answer.action != "accept" or not (answer.content or {}).get("confirm"):
            raise WriteRefusedError(
                skill.full_name,
                f"{skill.full_name}: the user did not confirm the change; nothing was written",
            )
        return True

    def _error(self, exc: DualtrackError) -> types.CallToolResult:
        level = Sensitivity.parse(exc.sensitivity) if exc.sensitivity else None
        if self.ceiling is not None and level is not None and level > self.ceiling:
            return _error_result(exc.for_model())  # its text may quote data above the ceiling
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.for_model()
        return _error_result(f"{type(exc).__name__}: {first}")


def _can_elicit(session: ServerSession) -> bool:
    params = session.client_params
    caps = params.capabilities.elicitation if params is not None else None
    return caps is not None and (caps.form is not None or caps.url is None)


def _error_result(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=message)], isError=True)
