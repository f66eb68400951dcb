"""The ask routes: a model calls skills as tools, and the client confirms its writes."""

from __future__ import annotations

import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ._ask import AskSession, decision_key, workspace_prompt
from ._calls import Emit, wants_stream
from ._problems import Problem
from ._service import ServiceCore

__all__ = ["AskRoutes"]


class AskRoutes(ServiceCore):
    """``POST /v1/ask``, ``POST /v1/ask/{id}/confirm``."""

    async def ask(self, request: Request) -> Response:
        caller = await self.caller(request)
        body = await self.json_object(request)
        prompt: str = body.get("prompt", "")  # checked just below
        self.check_fields(
            body,
            {"prompt", "sensitivity", "max_steps"},
            "send {prompt, sensitivity?, max_steps?}",
            field="prompt",
            valid=isinstance(prompt, str) and prompt.strip() != "",
            rule="required non-empty string",
        )
        steps = self.count(body, "max_steps", 5, 20)
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
