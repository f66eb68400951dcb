"""The file routes: the caller's workspace (list, upload, download, delete)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from ._service import ServiceCore
from ._uploads import store_upload

__all__ = ["FileRoutes"]


class FileRoutes(ServiceCore):
    """``GET|POST /v1/files``, ``GET|DELETE /v1/files/{name}``."""

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
