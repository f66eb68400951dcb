"""Running one process under limits: rlimits, a wall-clock timeout, bounded output."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["RunResult", "SandboxLimits", "limiter", "read_tail", "wait"]


@dataclass(frozen=True, slots=True)
class SandboxLimits:
    """Limits of one sandboxed run.

    Attributes:
        timeout_s: Wall-clock seconds before the run is killed.
        cpu_s: CPU seconds (``RLIMIT_CPU``).
        memory_mb: Address space in MiB (``RLIMIT_AS``).
        file_size_mb: Largest file the run may write, in MiB (``RLIMIT_FSIZE``).
        max_processes: Processes the run may add (``RLIMIT_NPROC``).
        open_files: Open descriptors (``RLIMIT_NOFILE``).
        allow_subprocess: Whether Python code in the run may start processes.
        restrict_reads: Whether Python code may only read the sandbox, the
            interpreter's folders and system libraries (not the user's home).
        output_bytes: How much of stdout/stderr is kept.
    """

    timeout_s: float = 60.0
    cpu_s: int = 60
    memory_mb: int = 2048
    file_size_mb: int = 64
    max_processes: int = 64
    open_files: int = 512
    allow_subprocess: bool = False
    restrict_reads: bool = False
    output_bytes: int = 60_000


@dataclass(slots=True)
class RunResult:
    """What one sandboxed run did.

    Attributes:
        argv: The command as given (before isolation wrapping).
        returncode: The exit status (negative: killed by that signal).
        stdout: The kept part of standard output.
        stderr: The kept part of standard error.
        timed_out: Whether the wall-clock timeout killed it.
        cpu_limited: Whether it used up its CPU seconds (``RLIMIT_CPU``).
        duration_s: Wall time.
        refusals: Operations the guard refused (network, writes, processes).
        isolation: The layers that were in effect.
    """

    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool = False
    cpu_limited: bool = False
    duration_s: float = 0.0
    refusals: list[str] = field(default_factory=list)
    isolation: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Exit status 0 and not timed out."""
        return self.returncode == 0 and not self.timed_out

    @property
    def status(self) -> str:
        """``passed``, ``failed``, ``timeout``, ``cpu-limit`` or ``killed``."""
        if self.timed_out:
            return "timeout"
        if self.returncode == 0:
            return "passed"
        if self.cpu_limited or self.returncode in (-signal.SIGXCPU, 128 + signal.SIGXCPU):
            return "cpu-limit"
        if self.returncode < 0 or self.returncode in (128 + signal.SIGKILL,):
            return "killed"
        return "failed"

    def output(self, limit: int = 6000) -> str:
        """Standard output then error, trimmed to the last ``limit`` characters."""
        text = (self.stdout + ("\n" + self.stderr if self.stderr.strip() else "")).strip()
        return text if len(text) <= limit else "...\n" + text[-limit:]


def limiter(lim: SandboxLimits, nproc: int) -> Callable[[], None]:
    """A ``preexec_fn`` that applies the limits (clamped to the current hard limits)."""
    cpu, mem, fsize = lim.cpu_s, lim.memory_mb * 1024 * 1024, lim.file_size_mb * 1024 * 1024

    wanted = [
        (resource.RLIMIT_CPU, cpu, cpu + 1),
        (resource.RLIMIT_AS, mem, mem),
        (resource.RLIMIT_FSIZE, fsize, fsize),
        (resource.RLIMIT_NOFILE, lim.open_files, lim.open_files),
        (resource.RLIMIT_CORE, 0, 0),
        (resource.RLIMIT_NPROC, nproc, nproc),
    ]
    limits = []
    for which, soft, hard in wanted:  # never ask for more than the current hard limit
        current = resource.getrlimit(which)[1]
        if current != resource.RLIM_INFINITY:
            soft, hard = min(soft, current), min(hard, current)
        limits.append((which, (soft, hard)))

    def apply() -> None:  # runs in the child between fork and exec: setrlimit calls only
        for which, pair in limits:
            resource.setrlimit(which, pair)

    return apply


def wait(proc: subprocess.Popen[bytes], timeout: float | None) -> tuple[int | None, float]:
    """Wait for ``proc``; return its exit code (``None`` on timeout) and CPU seconds used."""
    deadline = None if timeout is None else time.monotonic() + timeout
    delay = 0.005
    while True:
        pid, status, usage = os.wait4(proc.pid, 0 if deadline is None else os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return proc.returncode, usage.ru_utime + usage.ru_stime
        if deadline is not None and time.monotonic() >= deadline:
            return None, 0.0
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def read_tail(path: Path, limit: int) -> str:
    """The last ``limit`` bytes of a file, decoded (marked when truncated)."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            if size > limit:
                fh.seek(size - limit)
            data = fh.read(limit)
    except OSError:
        return ""
    text = data.decode("utf-8", "replace")
    return text if size <= limit else "...[output truncated]...\n" + text
