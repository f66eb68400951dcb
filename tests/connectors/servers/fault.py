"""An OpenAI-compatible loopback server that misbehaves on demand.

The ``model`` field of a request picks the scenario (``"ok"``, ``"rate-limit-ms"``,
``"cut-stream"`` ...). Azure routes check the path, ``api-version`` and credentials.
The server runs its own event loop in a daemon thread, so any test (whatever its
event loop) can call it; every request is recorded in ``server.requests``.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TEXT_PIECES = ["Hello", " from", " the", " fault", " server."]
TEXT = "".join(TEXT_PIECES)
USAGE = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
TOOL_ARGS = '{"city": "Paris", "unit": "celsius"}'


@dataclass
class Recorded:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class FaultServer:
    azure_api_key: str = "azure-key-for-tests"
    valid_tokens: set[str] = field(default_factory=set)
    requests: list[Recorded] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- lifecycle --------------------------------------------------------------------

    def start(self) -> FaultServer:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        async def boot() -> None:
            app = web.Application()
            app.router.add_post("/v1/chat/completions", self._openai)
            app.router.add_post("/openai/deployments/{deployment}/chat/completions", self._azure)
            app.router.add_post("/openai/v1/chat/completions", self._azure)
            self._runner = web.AppRunner(
                app, handler_cancellation=True, access_log=None, shutdown_timeout=0.2
            )
            await self._runner.setup()
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            await site.start()
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            ready.set()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(boot())
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="fault-server", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fault server did not start")
        return self

    def stop(self) -> None:
        fut = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop)
        try:
            fut.result(10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    # -- handlers ---------------------------------------------------------------------

    async def _record(self, request: web.Request) -> Any:
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        self.requests.append(
            Recorded(
                request.path, dict(request.query), {k.lower(): v for k, v in request.headers.items()}, body
            )
        )
        return body

    async def _azure(self, request: web.Request) -> web.StreamResponse:
        body = await self._record(request)
        auth = request.headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else None
        if request.headers.get("api-key") != self.azure_api_key and token not in self.valid_tokens:
            return web.json_response(
                {"error": {"code": "401", "message": "Access denied due to invalid subscription key."}},
                status=401,
            )
        if "deployment" in request.match_info:
            if "api-version" not in request.query:
                return web.json_response(
                    {"error": {"code": "404", "message": "Resource not found"}}, status=404
                )
            who = request.match_info["deployment"]
        else:
            who = body.get("model", "?")
        if body.get("stream"):
            return await self._sse(request, [f"deployment={who}"], usage=USAGE)
        return web.json_response(_completion(f"deployment={who}"))

    async def _openai(self, request: web.Request) -> web.StreamResponse:
        body = await self._record(request)
        scenario = str(body.get("model", "ok"))
        stream = bool(body.get("stream"))
        handler = getattr(self, "_s_" + scenario.replace("-", "_"), None)
        if handler is None:
            return web.json_response({"error": {"message": f"unknown scenario {scenario}"}}, status=404)
        return await handler(request, body, stream)

    async def _sse(
        self,
        request: web.Request,
        pieces: list[str],
        *,
        usage: dict[str, int] | None = None,
        finish: str = "stop",
        extra: list[Any] | None = None,
        done: bool = True,
    ) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(_event(_chunk({"role": "assistant", "content": ""})))
        for piece in pieces:
            await resp.write(_event(_chunk({"content": piece})))
        for item in extra or []:
            await resp.write(_event(item))
        await resp.write(_event(_chunk({}, finish=finish)))
        if usage is not None:
            await resp.write(
                _event({"id": "c1", "object": "chat.completion.chunk", "choices": [], "usage": usage})
            )
        if done:
            await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
        return resp

    # -- scenarios (selected by the request's model) ------------------------------------

    async def _s_ok(self, request: web.Request, body: Any, stream: bool) -> web.StreamResponse:
        if stream:
            return await self._sse(request, TEXT_PIECES, usage=USAGE)
        return web.json_response(_completion(TEXT))

    async def _s_no_usage(self, request: web.Request, body: Any, stream: bool) -> web.StreamResponse:
        if stream:
            return await self._sse(request, TEXT_PIECES, usage=None)
        data = _completion(TEXT)
        del data["usage"]
        return web.json_response(data)

    async def _s_echo(self, request: web.Request, body: Any, stream: bool) -> web.StreamResponse:
        return web.json_response(_completion(json.dumps(body)))

    async def _s_rate_limit_ms(self, request: web.Request, body: Any, stream: bool) -> web.StreamResponse:
        return _rate_limited({"retry-after-ms": "1500", "Retry-After": "2"})

    async def _s_rate_limit_seconds(
        self, request: web.Request, body: Any, stream: bool
    ) -> web.StreamResponse:
        return _rate_limited({"Retry-After": "7"})

    async def _s_rate_limit_date(self, request: web.Request, body: Any, stream: bool) -> web.StreamResponse:
        return _rate_limited({"Retry-After": email.utils.formatdate(time.time() + 30, usegmt=True)})

    async def _s_quota(self, request: web.Request, body: Any, stream: bool) -> web.StreamResponse:
        err = {
            "message": "You exceeded your current quota.",
            "type": "insufficient_quota",
            "code": "insufficient_quota",
        }
        return web.json_response({"error": err}, status=429)

    async def _s_server_error(self, request: web.Request, body: Any, stream: bool) -> web.StreamResponse:
        return web.json_response(
            {"error": {"message": "The server had an error", "type": "server_error"}}, status=500
        )

    async def _s_unavailable(self, request: web.Request, body: Any, stream: bool) -> web.StreamResponse:
        return web.Response(status=503, text="upstream busy", headers={"Retry-After": "3"})

    async def _s_hang(self, request: web.Request, body: Any, stream: bool) -> web.StreamResponse:
        if stream:
            resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await resp.prepare(request)
            await resp.write(_event(_chunk({"content": "Hel"})))
            await asyncio.sleep(30)
            return resp
        await asyncio.sleep(30)
        return web.json_response(_completion("too late"))

    async def _s_cut_stream(self, request: web.Request, body: Any, stream: bool) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(_event(_chunk({"content": "Hello"})))
        await resp.write(_event(_chunk({"content": " fr"})))
        assert request.transport is not None
        request.transport.close()  # chunked body never terminated
        return resp

    async def _s_early_end(self, request: web.Request, body: Any, stream: bool) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(_event(_chunk({"content": "Hello"})))
        await resp.write_eof()  # a clean end of body, but no finish_reason and no [DONE]
        return resp

    async def _s_cut_body(self, request: web.Request, body: Any, stream: bool) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "application/json", "Content-Length": "400"})
        await resp.prepare(request)
        await resp.write(b'{"id": "x", "choices": [')
        assert request.transport is not None
        request.transport.close()
        return resp

    async def _s_reset(self, request: web.Request, body: Any, stream: bool) -> web.StreamResponse:
        assert request.transport is not None
        request.transport.abort()
        return web.Response()

    async def _s_malformed(self, request: web.Request, body: Any, stream: bool) -> web.StreamResponse:
        return web.Response(text='{"id": "x", "choices": [ oops', content_type="application/json")

    async def _s_no_choices(self, request: web.Request, body: Any, stream: bool) -> web.StreamResponse:
        return web.json_response({"id": "x", "object": "chat.completion", "choices": []})

    async def _s_bad_event(self, request: web.Request, body: Any, stream: bool) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(b"data: {not json\n\n")
        await resp.write_eof()
        return resp

    async def _s_context_length(self, request: web.Request, body: Any, stream: bool) -> web.StreamResponse:
        err = {
            "message": "This model's maximum context length is 8192 tokens. However, your messages "
            "resulted in 9100 tokens.",
            "type": "invalid_request_error",
            "param": "messages",
            "code": "context_length_exceeded",
        }
        return web.json_response({"error": err}, status=400)

    async def _s_context_llama(self, request: web.Request, body: Any, stream: bool) -> web.StreamResponse:
        err = {
            "code": 400,
            "message": "the request exceeds the available context size, try increasing it",
            "type": "exceed_context_size_error",
        }
        return web.json_response({"error": err}, status=400)

    async def _s_context_vllm(self, request: web.Request, body: Any, stream: bool) -> web.StreamResponse:
        msg = "This model's maximum context length is 2048 tokens. However, you requested 3000 tokens."
        return web.json_response(
            {"object": "error", "message": msg, "type": "BadRequestError", "code": 400}, status=400
        )

    async def _s_content_filter(self, request: web.Request, body: Any, stream: bool) -> web.StreamResponse:
        err = {
            "message": "The response was filtered due to the prompt triggering content management policy.",
            "type": None,
            "param": "prompt",
            "code": "content_filter",
            "status": 400,
            "innererror": {"code": "ResponsibleAIPolicyViolation"},
        }
        return web.json_response({"error": err}, status=400)

    async def _s_filtered_reply(self, request: web.Request, body: Any, stream: bool) -> web.StreamResponse:
        if stream:
            return await self._sse(request, ["Once upon"], finish="content_filter")
        data = _completion("")
        data["choices"][0]["finish_reason"] = "content_filter"
        return web.json_response(data)

    async def _s_unauthorized(self, request: web.Request, body: Any, stream: bool) -> web.StreamResponse:
        sent = request.headers.get("Authorization", "")
        err = {"message": f"Incorrect API key provided: {sent}.", "type": "invalid_request_error",
               "code": "invalid_api_key"}  # fmt: skip
        return web.json_response({"error": err}, status=401)

    async def _s_forbidden(self, request: web.Request, body: Any, stream: bool) -> web.StreamResponse:
        return web.json_response({"error": {"message": "Project does not have access to model"}}, status=403)

    async def _s_stream_error(self, request: web.Request, body: Any, stream: bool) -> web.StreamResponse:
        error = {"error": {"message": "The server is overloaded", "type": "server_error"}}
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(_event(_chunk({"content": "Hel"})))
        await resp.write(_event(error))
        await resp.write_eof()
        return resp

    async def _s_ignore_stream(self, request: web.Request, body: Any, stream: bool) -> web.StreamResponse:
        return web.json_response(_completion(TEXT))

    async def _s_tool_call(self, request: web.Request, body: Any, stream: bool) -> web.StreamResponse:
        if not stream:
            msg = {
                "role": "assistant",
                "content": None,
                "tool_calls": [_tool("call_abc", "get_weather", TOOL_ARGS)],
            }
            data = _completion("")
            data["choices"][0].update(message=msg, finish_reason="tool_calls")
            return web.json_response(data)
        deltas = [
            {"tool_calls": [{"index": 0, "id": "call_abc", "type": "function",
                             "function": {"name": "get_weather", "arguments": ""}}]},
            {"tool_calls": [{"index": 1, "id": "call_def", "type": "function",
                             "function": {"name": "get_time", "arguments": ""}}]},
            {"tool_calls": [{"index": 0, "function": {"arguments": TOOL_ARGS[:9]}}]},
            {"tool_calls": [{"index": 1, "function": {"arguments": '{"tz": '}}]},
            {"tool_calls": [{"index": 0, "function": {"arguments": TOOL_ARGS[9:]}}]},
            {"tool_calls": [{"index": 1, "function": {"arguments": '"UTC"}'}}]},
        ]  # fmt: skip
        return await self._sse(
            request, [], extra=[_chunk(d) for d in deltas], finish="tool_calls", usage=USAGE
        )

    async def _s_json_schema_reject(
        self, request: web.Request, body: Any, stream: bool
    ) -> web.StreamResponse:
        fmt = body.get("response_format") or {}
        if fmt.get("type") == "json_schema":  # what llama-cpp-python's server answers
            msg = (  # the shape of llama-cpp-python's answer
                "1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), "
                "'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema'}"
            )
            return web.json_response({"error": {"message": msg, "type": "internal_server_error"}}, status=500)
        return web.json_response(_completion('{"name": "Ada", "age": 36}'))

    async def _s_schema_invalid(self, request: web.Request, body: Any, stream: bool) -> web.StreamResponse:
        err = {
            "message": "Invalid schema for response_format 'reply': 'required' is required to be supplied",
            "type": "invalid_request_error",
            "param": "response_format",
            "code": None,
        }
        return web.json_response({"error": err}, status=400)


def _completion(text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "fault-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": dict(USAGE),
    }


def _chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "model": "fault-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _tool(call_id: str, name: str, args: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": args}}


def _event(obj: Any) -> bytes:
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


def _rate_limited(headers: dict[str, str]) -> web.Response:
    err = {"message": "Rate limit reached for requests", "type": "requests", "code": "rate_limit_exceeded"}
    return web.json_response({"error": err}, status=429, headers=headers)
