"""The skill routes: list the skills, run one, and one routed model call."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ._calls import Emit, wants_stream
from ._service import ServiceCore

__all__ = ["SkillRoutes"]


class SkillRoutes(ServiceCore):
    """``GET /v1/skills``, ``POST /v1/skills/{plugin}.{skill}``, ``POST /v1/generate``."""

    async def list_skills(self, request: Request) -> Response:
        caller = await self.caller(request)
        skills = [info for info in self.skill_infos() if caller.may_call(info["plugin"])]
        return JSONResponse(skills)

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
        prompt: str = body.get("prompt", "")  # checked just below
        self.check_fields(
            body,
            {"prompt", "requires", "sensitivity", "max_tokens"},
            "send {prompt, requires?, sensitivity?, max_tokens?}",
            field="prompt",
            valid=isinstance(prompt, str) and prompt != "",
            rule="required non-empty string",
        )
        requires = self.tags(body)
        max_tokens = self.count(body, "max_tokens", 512, 32768)
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
