"""The HTTP service: a Starlette app over one :class:`~dualtrack.Orchestrator`.

Routes (all JSON, problems as ``application/problem+json``)::

    GET  /v1/skills                  skills with JSON schemas, effects, tags
    POST /v1/skills/{plugin}.{skill} run one (body: its arguments); SSE on request
    GET  /v1/models                  the catalog with health
    POST /v1/route                   routing dry run
    GET  /v1/usage                   usage and budgets
    POST /v1/generate                one routed model call (SSE: text deltas)
    POST /v1/ask                     a model calls skills as tools; SSE: confirm events
    POST /v1/ask/{id}/confirm        approve/decline one write of an ask
    GET|POST /v1/files, GET|DELETE /v1/files/{name}   the caller's workspace
    GET  /openapi.json, /docs, /healthz, /readyz, /manifest.xml (Office add-in); the task pane at /
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import re
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from dualtrack import Orchestrator, PathRole, Sensitivity, Skill, SkillResult, path_parameters

from ._ask import AskSession, decision_key, workspace_prompt
from ._auth import Authenticator, Caller
from ._calls import Emit, Runner, problem_response, wants_stream
from ._guard import Guard
from ._manifest import manifest_endpoint
from ._openapi import docs_html, openapi_document
from ._problems import Problem, problem_from_exception
from ._settings import HttpSettings
from ._shared_state import state_for
from ._state import StateBackend
from ._uploads import store_upload
from ._workspace import Workspace, Workspaces

__all__ = ["HttpService", "create_app"]

_log = logging.getLogger("dualtrack.http")
STATIC_DIR = Path(__file__).parent / "static"


class HttpService:
    """Everything one server process holds.

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
        self._path_params: dict[str, dict[str, PathRole]] = {}

    # -- helpers ----------------------------------------------------------------------------

    def clean(self, text: str) -> str:
        """``text`` without secrets and without the server's workspace folders (for errors)."""
        return self.unpath(self.orc.redactor.text(text))

    def unpath(self, text: str) -> str:
        """``text`` without the server's workspace folders (cheap when there are none)."""
        if self._base not in text:
            return text
        return self._folders.sub("", text).replace(self._base, "<data>")

    def path_params(self, skill: Skill) -> dict[str, PathRole]:
        """The file parameters of ``skill`` (the core's rule, computed once per skill)."""
        found = self._path_params.get(skill.full_name)
        if found is None:
            found = self._path_params[skill.full_name] = path_parameters(skill)
        return found

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
        for name, role in self.path_params(skill).items():
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

    # -- endpoints ----------------------------------------------------------------------------

    async def list_skills(self, request: Request) -> Response:
        caller = await self.caller(request)
        skills = [
            {
                "name": s.full_name,
                "plugin": s.plugin,
                "description": s.description,
                "effects": s.effects,
                "requires": sorted(s.requires),
                "prefers": sorted(s.prefers),
                "parameters": s.parameters_schema(),
                "path_parameters": {k: v.value for k, v in self.path_params(s).items()},
                "operation": f"/v1/skills/{s.full_name}",
            }
            for s in sorted(self.orc.registry.skills(), key=lambda s: s.full_name)
            if caller.may_call(s.plugin)
        ]
        return JSONResponse(skills)

    async def list_models(self, request: Request) -> Response:
        await self.caller(request)
        breakers = getattr(self.orc.executor, "breakers", {})
        out = []
        for card in sorted(self.orc.models.values(), key=lambda c: c.name):
            breaker = breakers.get(card.name)
            state = "disabled" if not card.enabled else (getattr(breaker, "state", "closed") or "closed")
            out.append(
                {
                    "name": card.name,
                    "track": card.track.value,
                    "clearance": card.clearance.value,
                    "capabilities": sorted(card.capabilities),
                    "context_window": card.context_window,
                    "cost_input": card.cost_input,
                    "cost_output": card.cost_output,
                    "connector": card.connector_name,
                    "enabled": card.enabled,
                    "disabled_reason": card.disabled_reason,
                    "health": {"closed": "healthy", "open": "open-circuit", "half-open": "probing"}.get(
                        state, state
                    ),
                }
            )
        return JSONResponse(out)

    async def route(self, request: Request) -> Response:
        caller = await self.caller(request)
        body = await self.json_object(request)
        unknown = sorted(set(body) - {"skill", "sensitivity", "tokens", "requires"})
        if unknown or not isinstance(body.get("skill"), str):
            errors = [{"field": f, "message": "unknown field"} for f in unknown] or [
                {"field": "skill", "message": "required string"}
            ]
            raise Problem(
                "invalid-arguments", "send {skill, sensitivity?, tokens?, requires?}", errors=errors
            )
        skill = self.orc.skill(body["skill"])
        caller.check_plugin(skill.plugin)
        tokens, requires = body.get("tokens", 1000), body.get("requires", [])
        if not isinstance(tokens, int) or isinstance(tokens, bool) or tokens < 1:
            raise Problem(
                "invalid-arguments",
                "tokens must be a positive integer",
                errors=[{"field": "tokens", "message": "positive integer"}],
            )
        if not isinstance(requires, list) or not all(isinstance(t, str) for t in requires):
            raise Problem(
                "invalid-arguments",
                "requires must be a list of tags",
                errors=[{"field": "requires", "message": "list of strings"}],
            )
        level = self.sensitivity(body.get("sensitivity"), caller)
        decision = self.orc.route(skill.full_name, sensitivity=level, tokens=tokens, requires=requires)
        return JSONResponse({**decision.to_dict(), "explanation": self.unpath(decision.explain())})

    async def usage(self, request: Request) -> Response:
        await self.caller(request)
        try:
            days = int(request.query_params.get("days", "30"))
        except ValueError:
            raise Problem(
                "invalid-arguments",
                "days must be an integer",
                errors=[{"field": "days", "message": "integer"}],
            ) from None
        rows_fn = getattr(self.orc.ledger, "rows", None)
        rows = rows_fn(days=max(1, min(days, 366))) if rows_fn else []
        budget = self.orc.budget
        spent = budget.spent() if budget is not None else None
        return JSONResponse(
            {
                "rows": [
                    {
                        k: getattr(r, k)
                        for k in (
                            "day",
                            "model",
                            "track",
                            "skill",
                            "calls",
                            "input_tokens",
                            "output_tokens",
                            "cost_usd",
                        )
                    }
                    for r in rows
                ],
                "budget_today": {"usd": spent[0], "tokens": spent[1]} if spent else None,
            }
        )

    async def invoke(self, request: Request) -> Response:
        caller = await self.caller(request)
        skill = self.orc.skill(request.path_params["name"])
        caller.check_plugin(skill.plugin)
        level = self.sensitivity(request.query_params.get("sensitivity"), caller)
        args = await self.json_object(request)
        ws = self.workspace(caller)
        bound = self.bind_paths(skill, args, ws)
        release = await self.slot(caller)
        before = ws.names() if skill.effects == "write" else None  # only writes add files
        stream = wants_stream(request)

        async def work(emit: Emit) -> dict[str, Any]:
            def progress(name: str, done: int, total: int, message: str) -> None:
                emit(
                    "progress", {"skill": name, "done": done, "total": total, "message": self.unpath(message)}
                )

            result = await self.orc.invoke(
                skill.full_name,
                bound,
                sensitivity=level,
                on_progress=progress if stream else None,
                on_text=(lambda chunk: emit("text", {"delta": chunk})) if stream else None,
                roots=ws.roots,
            )
            return self.payload(result, caller, ws, before)

        return await self.runner.respond(request, work, release=release, stream=stream)

    async def generate(self, request: Request) -> Response:
        caller = await self.caller(request)
        body = await self.json_object(request)
        unknown = sorted(set(body) - {"prompt", "requires", "sensitivity", "max_tokens"})
        prompt = body.get("prompt")
        if unknown or not isinstance(prompt, str) or not prompt:
            errors = [{"field": f, "message": "unknown field"} for f in unknown] or [
                {"field": "prompt", "message": "required non-empty string"}
            ]
            raise Problem(
                "invalid-arguments", "send {prompt, requires?, sensitivity?, max_tokens?}", errors=errors
            )
        requires = body.get("requires", [])
        max_tokens = body.get("max_tokens", 512)
        if not isinstance(requires, list) or not all(isinstance(t, str) for t in requires):
            raise Problem(
                "invalid-arguments",
                "requires must be a list of tags",
                errors=[{"field": "requires", "message": "list of strings"}],
            )
        if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or not 1 <= max_tokens <= 32768:
            raise Problem(
                "invalid-arguments",
                "max_tokens must be an integer in 1..32768",
                errors=[{"field": "max_tokens", "message": "integer 1..32768"}],
            )
        level = self.sensitivity(body.get("sensitivity"), caller)
        ws = self.workspace(caller)
        release = await self.slot(caller)
        stream = wants_stream(request)

        async def work(emit: Emit) -> dict[str, Any]:
            on_text = (lambda chunk: emit("text", {"delta": chunk})) if stream else None
            result = await self.orc.generate(
                prompt, requires=requires, sensitivity=level, max_tokens=max_tokens, on_text=on_text
            )
            return self.payload(result, caller, ws, None)

        return await self.runner.respond(request, work, release=release, stream=stream)

    async def ask(self, request: Request) -> Response:
        caller = await self.caller(request)
        body = await self.json_object(request)
        unknown = sorted(set(body) - {"prompt", "sensitivity", "max_steps"})
        prompt, steps = body.get("prompt"), body.get("max_steps", 5)
        if unknown or not isinstance(prompt, str) or not prompt.strip():
            errors = [{"field": f, "message": "unknown field"} for f in unknown] or [
                {"field": "prompt", "message": "required non-empty string"}
            ]
            raise Problem("invalid-arguments", "send {prompt, sensitivity?, max_steps?}", errors=errors)
        if not isinstance(steps, int) or isinstance(steps, bool) or not 1 <= steps <= 20:
            raise Problem(
                "invalid-arguments",
                "max_steps must be an integer in 1..20",
                errors=[{"field": "max_steps", "message": "integer 1..20"}],
            )
        level = self.sensitivity(body.get("sensitivity"), caller)
        ws = self.workspace(caller)
        names = ws.names_by_age()
        prompt = workspace_prompt(prompt, names)  # workspace names: no server folder reaches a model
        release = await self.slot(caller)
        ask_id = "a" + secrets.token_hex(8)
        stream = wants_stream(request)

        async def work(emit: Emit) -> dict[str, Any]:
            session = AskSession(
                ask_id=ask_id,
                owner=caller.workspace_id,
                workspace=ws,
                emit=emit,
                streaming=stream,
                state=self.state,
                timeout_s=self.settings.confirm_timeout_s,
            )
            emit("ask", {"ask_id": ask_id})
            result = await self.orc.ask(
                prompt,
                max_steps=steps,
                sensitivity=level,
                tools=caller.plugins,  # None: every plugin
                roots=ws.roots,
                confirm=session.confirm,
                on_text=(lambda chunk: emit("text", {"delta": chunk})) if stream else None,
            )
            data = self.payload(result, caller, ws, set(names))
            data["ask_id"], data["confirmations"] = ask_id, session.decisions
            return data

        return await self.runner.respond(request, work, release=release, stream=stream)

    async def confirm(self, request: Request) -> Response:
        caller = await self.caller(request)
        body = await self.json_object(request)
        call_id, decision = body.get("call_id"), body.get("decision")
        if (
            set(body) - {"call_id", "decision"}
            or not isinstance(call_id, str)
            or decision not in ("approve", "decline")
        ):
            raise Problem(
                "invalid-arguments",
                "send {call_id, decision: 'approve' | 'decline'}",
                errors=[
                    {"field": "decision" if isinstance(call_id, str) else "call_id", "message": "required"}
                ],
            )
        key = decision_key(caller.workspace_id, request.path_params["ask_id"], call_id)
        if not await self.state.post_decision(key, decision):
            raise Problem(
                "not-found",
                "no pending confirmation with that ask id and call id for you (it may have timed out)",
            )
        return JSONResponse({"call_id": call_id, "decision": decision})

    async def list_files(self, request: Request) -> Response:
        caller = await self.caller(request)
        return JSONResponse([f.to_dict() for f in self.workspace(caller).files()])

    async def upload(self, request: Request) -> Response:
        caller = await self.caller(request)
        stored = await store_upload(request, self.workspace(caller), self.settings, self.orc, caller)
        return JSONResponse(stored, status_code=201)

    async def download(self, request: Request) -> Response:
        caller = await self.caller(request)
        ws = self.workspace(caller)
        path = ws.resolve(request.path_params["name"], must_exist=True)
        return FileResponse(
            path,
            filename=path.name,
            headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
        )

    async def delete(self, request: Request) -> Response:
        caller = await self.caller(request)
        self.workspace(caller).resolve(request.path_params["name"], must_exist=True).unlink()
        return Response(status_code=204)

    async def openapi(self, request: Request) -> Response:
        return JSONResponse(openapi_document(self.orc, auth=self.settings.auth_configured))

    async def docs(self, request: Request) -> Response:
        return HTMLResponse(docs_html(openapi_document(self.orc, auth=self.settings.auth_configured)))

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "alive"})

    async def readyz(self, request: Request) -> Response:
        if not self.ready:
            raise Problem("unavailable", "starting or shutting down", headers={"Retry-After": "5"})
        enabled = [c.name for c in self.orc.models.values() if c.enabled]
        return JSONResponse(
            {"status": "ready", "models": len(enabled), "running_calls": len(self.runner.tasks)}
        )

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


def create_app(
    orc: Orchestrator,
    settings: HttpSettings | None = None,
    *,
    state: StateBackend | None = None,
    jwks_client: httpx.AsyncClient | None = None,
) -> Any:
    """The ASGI app of the service (Starlette, wrapped in the body/time limits and access log).

    Args:
        orc: The orchestrator to serve.
        settings: The ``[http]`` settings (default: no authentication, defaults everywhere).
        state: Shared state between workers (default: in this process).
        jwks_client: HTTP client for Entra ID signing keys.

    Returns:
        An ASGI application; its ``.service`` attribute is the :class:`HttpService`.
    """
    settings = settings or HttpSettings()
    svc = HttpService(orc, settings, state=state, jwks_client=jwks_client)

    def safe(endpoint: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            try:
                return await endpoint(request)
            except Exception as exc:  # noqa: BLE001 - every failure is a problem document
                return problem_response(problem_from_exception(exc, svc.clean), request.url.path)

        return run

    async def on_http(request: Request, exc: Exception) -> Response:
        code = getattr(exc, "status_code", 500)
        slug = {404: "not-found", 405: "method-not-allowed", 406: "not-acceptable"}.get(
            code, "malformed-request"
        )
        return problem_response(
            Problem(slug, str(getattr(exc, "detail", "")) or "see /docs for the API"), request.url.path
        )

    from starlette.exceptions import HTTPException

    routes = [
        Route("/v1/skills", safe(svc.list_skills), methods=["GET"]),
        Route("/v1/skills/{name}", safe(svc.invoke), methods=["POST"]),
        Route("/v1/models", safe(svc.list_models), methods=["GET"]),
        Route("/v1/route", safe(svc.route), methods=["POST"]),
        Route("/v1/usage", safe(svc.usage), methods=["GET"]),
        Route("/v1/generate", safe(svc.generate), methods=["POST"]),
        Route("/v1/ask", safe(svc.ask), methods=["POST"]),
        Route("/v1/ask/{ask_id}/confirm", safe(svc.confirm), methods=["POST"]),
        Route("/v1/files", safe(svc.list_files), methods=["GET"]),
        Route("/v1/files", safe(svc.upload), methods=["POST"]),
        Route("/v1/files/{name:path}", safe(svc.download), methods=["GET"]),
        Route("/v1/files/{name:path}", safe(svc.delete), methods=["DELETE"]),
        Route("/openapi.json", safe(svc.openapi), methods=["GET"]),
        Route("/docs", safe(svc.docs), methods=["GET"]),
        Route("/healthz", safe(svc.healthz), methods=["GET"]),
        Route("/readyz", safe(svc.readyz), methods=["GET"]),
        Route("/manifest.xml", safe(manifest_endpoint), methods=["GET"]),
        Mount("/", StaticFiles(directory=STATIC_DIR, html=True), name="static"),
    ]
    app = Starlette(
        routes=routes,
        lifespan=svc.lifespan,
        exception_handlers={HTTPException: on_http},
    )
    guarded = Guard(
        app,
        max_body=settings.max_body_bytes,
        max_upload=settings.max_upload_bytes,
        body_timeout_s=settings.body_timeout_s,
        clean=svc.clean,
    )
    guarded.service = svc  # type: ignore[attr-defined]
    guarded.starlette = app  # type: ignore[attr-defined]
    return guarded
