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

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from dualtrack import Orchestrator

from ._calls import problem_response
from ._guard import Guard
from ._manifest import manifest_endpoint
from ._openapi import docs_html, openapi_document
from ._problems import Problem, problem_from_exception
from ._routes_ask import AskRoutes
from ._routes_files import FileRoutes
from ._routes_models import ModelRoutes
from ._routes_skills import SkillRoutes
from ._settings import HttpSettings
from ._state import StateBackend

__all__ = ["HttpService", "create_app"]

STATIC_DIR = Path(__file__).parent / "static"


class HttpService(SkillRoutes, ModelRoutes, AskRoutes, FileRoutes):
    """The service: the state of :class:`~._service.ServiceCore` (same arguments), every route by area."""

    _api: tuple[int, bytes, str] | None = None

    def _api_pages(self) -> tuple[bytes, str]:
        """The bodies of ``/openapi.json`` and ``/docs``, built once per set of registered plugins."""
        plugins = len(self.orc.registry)  # plugins are only ever added
        api = self._api
        if api is None or api[0] != plugins:
            doc = openapi_document(self.orc, auth=self.settings.auth_configured)
            body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            api = self._api = (plugins, body, docs_html(doc))
        return api[1], api[2]

    async def openapi(self, request: Request) -> Response:
        return Response(self._api_pages()[0], media_type="application/json")

    async def docs(self, request: Request) -> Response:
        return HTMLResponse(self._api_pages()[1])

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "alive"})

    async def readyz(self, request: Request) -> Response:
        if not self.ready:
            raise Problem("unavailable", "starting or shutting down", headers={"Retry-After": "5"})
        enabled = [c.name for c in self.orc.models.values() if c.enabled]
        return JSONResponse(
            {"status": "ready", "models": len(enabled), "running_calls": len(self.runner.tasks)}
        )


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
