"""A real uvicorn server on 127.0.0.1 (port 0) in a background thread, for the HTTP host's tests."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import uvicorn

from dualtrack import InputPath, OutputPath, SkillContext, atomic_write, plugin, skill


class ServerThread:
    """Runs ``app`` on uvicorn until :meth:`stop`; ``url`` is its base URL."""

    def __init__(self, app: Any, **config: Any) -> None:
        self.config = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="warning", lifespan="on", **config
        )
        self.server = uvicorn.Server(self.config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("server did not start")
            time.sleep(0.01)
        return self

    @property
    def url(self) -> str:
        sock = self.server.servers[0].sockets[0]
        return f"http://127.0.0.1:{sock.getsockname()[1]}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)


@plugin("notes", description="Small skills over text files, for the HTTP host's tests.")
class NotesPlugin:
    @skill(requires=["chat"])
    async def shout(self, ctx: SkillContext, text: str, times: int = 1) -> str:
        """Ask the model to shout a text.

        Args:
            text: The text.
            times: How often to report progress.
        """
        for i in range(times):
            ctx.progress(i + 1, times, f"step {i + 1}")
        done = await ctx.generate(f"Shout: {text}")
        return done.text

    @skill(requires=["chat"])
    async def read(self, ctx: SkillContext, path: InputPath) -> dict[str, Any]:
        """Read a file (its label raises the call's sensitivity) and summarize it with a model.

        Args:
            path: The file.
        """
        p = ctx.input_file(path)
        done = await ctx.generate(f"Summarize {p.name}")
        return {"name": p.name, "summary": done.text, "level": ctx.sensitivity.value}

    @skill(effects="write")
    def copy(self, path: InputPath, output: OutputPath) -> str:
        """Copy a file to a new name next to it.

        Args:
            path: The file to copy.
            output: Where the copy goes.
        """
        from pathlib import Path

        data = Path(path).read_bytes()
        with atomic_write(output) as fh:
            fh.write(data)
        return output

    @skill(requires=["chat"])
    async def wait(self, ctx: SkillContext, seconds: float = 30.0) -> str:
        """Make a model call that takes long.

        Args:
            seconds: Unused; the model decides.
        """
        done = await ctx.generate("take your time")
        return done.text


async def wait_for(predicate: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)
