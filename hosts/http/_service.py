"""The state of the HTTP service and what its routes share: callers, slots, bodies, paths, results."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request

from dualtrack import Orchestrator, PathRole, Sensitivity, Skill, SkillResult, path_parameters

from ._auth import Authenticator, Caller
from ._calls import Runner
from ._problems import Problem
from ._settings import HttpSettings
from ._shared_state import state_for
from ._state import StateBackend
from ._workspace import Workspace, Workspaces

__all__ = ["ServiceCore"]

_log = logging.getLogger("dualtrack.http")


class ServiceCore:
    """Everything one server process holds, and what every route needs (the routes are in subclasses).

    Args:
        orc: The orchestrator (used as it is: each call gets the caller's roots, tools
            and confirmation through the arguments of ``invoke`` and ``ask``).
        settings: The ``[http]`` settings.
        state: Shared state (default: this process only).
        jwks_client: HTTP client for downloading Entra ID signing keys.
    """

    def __init__(
        self,
        orc: Orchestrator,
        settings: HttpSettings,
        *,
        state: StateBackend | None = None,
        jwks_client: httpx.AsyncClient | None = None,
    ) -> None:
        self.orc = orc
        self.settings = settings
        self.state: StateBackend = state or state_for(orc)  # shared when orc.state is
        self.auth = Authenticator(settings, jwks_client=jwks_client)
        self.workspaces = Workspaces(settings.data_path(), settings.file_ttl_s)
        self.runner = Runner(self.clean)
        self.ready = False
        self._base = str(self.workspaces.base)
        self._folders = re.compile(re.escape(self._base) + r"/[0-9a-f]{24}/?")
        self._skill_infos: tuple[int, list[dict[str, Any]]] = (-1, [])

    # -- helpers ----------------------------------------------------------------------------

    def clean(self, text: str) -> str:
        """``text`` without secrets and without the server's workspace folders (for errors)."""
        return self.unpath(self.orc.redactor.text(text))

    def unpath(self, text: str) -> str:
        """``text`` without the server's workspace folders (cheap when there are none)."""
        if self._base not in text:
            return text
        return self._folders.sub("", text).replace(self._base, "<data>")

    def skill_infos(self) -> list[dict[str, Any]]:
        """What ``GET /v1/skills`` lists (every skill), built once per set of registered plugins."""
        plugins, infos = self._skill_infos
        if plugins != len(self.orc.registry):  # plugins are only ever added
            infos = [
                {
                    "name": s.full_name,
                    "plugin": s.plugin,
                    "description": s.description,
                    "effects": s.effects,
                    "requires": sorted(s.requires),
                    "prefers": sorted(s.prefers),
                    "parameters": s.parameters_schema(),
                    "path_parameters": {k: v.value for k, v in path_parameters(s).items()},
                    "operation": f"/v1/skills/{s.full_name}",
                }
                for s in self.orc.registry.skills()
            ]
            self._skill_infos = (len(self.orc.registry), infos)
        return infos

    async def caller(self, request: Request) -> Caller:
        """Authenticate, count the request against the caller's rate, remember its name for the log."""
        caller = await self.auth.authenticate(request.headers)
        request.scope.setdefault("state", {})["caller"] = caller.name
        if not caller.limited:
            return caller
        wait = await self.state.hit(caller.workspace_id, caller.rate_per_minute)
        if wait is not None:
            raise Problem(
                "too-many-requests",
                f"at most {caller.rate_per_minute} requests per minute; wait {wait:g} s",
                headers={"Retry-After": str(int(wait))},
            )
        return caller

    async def slot(self, caller: Caller) -> Callable[[], Awaitable[None]]:
        """Take one of the caller's concurrent-call slots; returns its release."""
        if not caller.limited:
            return _nothing
        if not await self.state.acquire(caller.workspace_id, caller.concurrency):
            raise Problem(
                "too-many-requests",
                f"at most {caller.concurrency} calls at once for this caller; retry when one finishes",
                headers={"Retry-After": "1"},
            )
        released = False

        async def release() -> None:
            nonlocal released
            if not released:
                released = True
                await self.state.release(caller.workspace_id)

        return release

    def workspace(self, caller: Caller) -> Workspace:
        """The caller's workspace."""
        return self.workspaces.get(caller.workspace_id)

    @staticmethod
    async def json_object(request: Request) -> dict[str, Any]:
        """The request body as a JSON object (empty body: ``{}``)."""
        ctype = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
        if ctype not in ("application/json", "") and not ctype.endswith("+json"):
            raise Problem("unsupported-media-type", f"send application/json, not {ctype}")
        raw = await request.body()
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            where = (
                f" at line {exc.lineno} column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
            )
            raise Problem(
                "malformed-request", f"the body is not valid JSON{where}; send one JSON object"
            ) from None
        if not isinstance(data, dict):
            raise Problem("malformed-request", f"the body must be a JSON object, not {type(data).__name__}")
        return data

    @staticmethod
    def check_fields(
        body: dict[str, Any], allowed: set[str], usage: str, *, field: str, valid: bool, rule: str
    ) -> None:
        """Refuse unknown fields of ``body`` (or else an invalid ``field``) with ``usage`` as the detail."""
        unknown = sorted(set(body) - allowed)
        if unknown or not valid:
            errors = [{"field": f, "message": "unknown field"} for f in unknown] or [
                {"field": field, "message": rule}
            ]
            raise Problem("invalid-arguments", usage, errors=errors)

    @staticmethod
    def count(body: dict[str, Any], name: str, default: int, most: int | None = None) -> int:
        """The integer field ``name`` of ``body``, at least 1 (and at most ``most``)."""
        value = body.get(name, default)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= (most or value):
            rule = f"integer 1..{most}" if most else "positive integer"
            detail = f"an integer in 1..{most}" if most else "a positive integer"
            raise Problem(
                "invalid-arguments", f"{name} must be {detail}", errors=[{"field": name, "message": rule}]
            )
        return value

    @staticmethod
    def tags(body: dict[str, Any]) -> list[str]:
        """The ``requires`` field of ``body``: a list of capability tags (default none)."""
        requires = body.get("requires", [])
        if not isinstance(requires, list) or not all(isinstance(t, str) for t in requires):
            raise Problem(
                "invalid-arguments",
                "requires must be a list of tags",
                errors=[{"field": "requires", "message": "list of strings"}],
            )
        return requires

    def sensitivity(self, raw: Any, caller: Caller) -> Sensitivity | None:
        """A requested sensitivity, checked against the caller's ceiling."""
        if raw in (None, ""):
            return None
        try:
            level = Sensitivity.parse(str(raw))
        except ValueError:
            raise Problem(
                "invalid-arguments",
                f"unknown sensitivity {raw!r}",
                errors=[{"field": "sensitivity", "message": "unknown level"}],
            ) from None
        caller.check_sensitivity(level, "the data you declared")
        return level

    def bind_paths(self, skill: Skill, args: dict[str, Any], ws: Workspace) -> dict[str, Any]:
        """Path arguments turned into files of the workspace (or a 400).

        A reference a file source of the orchestrator handles (``onedrive:/Reports/q3.docx``,
        a SharePoint sharing URL ...) passes through untouched: the core fetches it, confines
        the call to its private copy and writes outputs back (``outputs`` of the result).
        ``upload:<id>`` always names an upload of the caller's own workspace.
        """
        out = dict(args)
        sources = self.orc.file_sources
        for name, role in path_parameters(skill).items():
            raw = args.get(name)
            if raw is None:
                continue
            items = raw if isinstance(raw, list) else [raw]
            fixed = []
            for item in items:
                if not isinstance(item, str):
                    fixed.append(item)  # the skill's schema names the wrong type
                    continue
                if not item.startswith("upload:") and sources.find(item) is not None:
                    fixed.append(item)  # a remote file: the core fetches it for this call
                    continue
                if role is PathRole.OUTPUT:
                    p = ws.resolve(item, must_exist=False)
                    if p.parent == ws.root or not p.parent.is_dir():
                        raise Problem(
                            "invalid-path",
                            f"{item!r}: write outputs into a folder of your workspace (u.../name)",
                        )
                else:
                    p = ws.resolve(item, must_exist=True)
                fixed.append(str(p))
            out[name] = fixed if isinstance(raw, list) else fixed[0]
        return out

    def payload(
        self, result: SkillResult, caller: Caller, ws: Workspace, before: set[str] | None
    ) -> dict[str, Any]:
        """A result as JSON: value, sensitivity, model calls, routing explanation, new files.

        Attempt errors and the explanation come redacted from the core; the value is the
        skill's own output, with paths of the workspace shown as workspace names. New
        files are looked for only when ``before`` (the names before the call) is given.
        """
        level = result.sensitivity or self.orc.default_sensitivity
        caller.check_sensitivity(level, "the result")
        data = result.to_dict()
        data["value"] = ws.relative(data["value"])
        data["outputs"] = ws.relative(data["outputs"])
        data["sensitivity"] = level.value
        data["explanation"] = self.unpath(result.explain())
        new = sorted(ws.names() - before) if before is not None else []
        data["files"] = [ws.describe(ws.root / n).to_dict() for n in new]
        return data

    # -- lifecycle ----------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        """Sweep expired files while serving; on shutdown let running calls finish up to the grace time."""
        sweeper = asyncio.ensure_future(self._sweep_forever())
        # what exists now (modules, the catalog, schemas) lives as long as the server: keep it out
        # of the collector's full passes, which would otherwise walk it again and again under load
        gc.freeze()
        self.ready = True
        try:
            yield
        finally:
            self.ready = False
            sweeper.cancel()
            await self.runner.drain(self.settings.shutdown_grace_s)
            await self.orc.aclose()
            await self.auth.aclose()
            await self.state.aclose()

    async def _sweep_forever(self) -> None:
        while True:
            try:
                removed = await asyncio.to_thread(self.workspaces.sweep)
                if removed:
                    _log.info("deleted %d expired file(s)", removed)
            except OSError as exc:
                _log.warning("sweep of expired files failed (%s)", type(exc).__name__)
            await asyncio.sleep(self.settings.sweep_interval_s)


async def _nothing() -> None:
    """The release of a slot that was never counted."""
