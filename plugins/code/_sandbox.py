"""A subprocess sandbox for the tests a skill wrote or the command a user gave.

Every run happens in a fresh temporary directory holding a copy of the code.
What it enforces, and what it does not:

* **Time**: a wall-clock timeout kills the whole process group (and, with a PID
  namespace, every process the run started); ``RLIMIT_CPU`` stops busy loops.
* **Resources**: ``RLIMIT_AS`` (memory), ``RLIMIT_FSIZE`` (file size),
  ``RLIMIT_NPROC`` (processes; not enforced for root), ``RLIMIT_NOFILE``, no core dumps.
* **Network**: with ``unshare`` a new network namespace has no route anywhere,
  so nothing leaves the machine. Always, an audit hook refuses non-loopback
  ``connect``/``sendto`` and name lookups in Python code before any packet is sent.
* **Files**: with ``unshare`` every mount outside the sandbox is read-only.
  Always, the audit hook refuses Python writes outside the sandbox, ``HOME``
  and ``TMPDIR`` point inside it, and the user's files are never the working copy.
  Without namespaces, native code (ctypes, C extensions) can bypass the hook.
* **Reads** (``restrict_reads``, used for generated tests and for ``code.fix``
  runs): the hook refuses Python reads outside the sandbox, the interpreter's
  folders and system libraries, so a test or a command cannot copy the user's
  secrets into output that goes back to a model. With a mount namespace the run
  also pivots into a private root holding only those folders, so no program
  (native code included) finds the home folder, ``/etc`` or the real project;
  without one, only Python code is held to it. With a PID namespace, ``/proc``
  shows only the run's own processes.
* **Secret-looking files** are left out of the copy when the caller passes a
  ``skip`` rule (``code.fix`` passes the orchestrator's secret-file rule); each
  file left out is listed in the run's ``refusals``.
* **Processes**: the hook refuses ``subprocess``/``fork``/``exec`` in Python code
  unless the run allows them.
* **Environment**: only a minimal allow-list reaches the run (no tokens, keys, proxies).

Not covered: the hook is Python-level, so without namespaces native code can
bypass it; pytest's report is written by the sandboxed process, so a test built
to forge it (write the report, then ``os._exit(0)``) is not detected; CPU time
is limited per process, not per process tree.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ._isolation import PRIVATE_ROOT, Isolation, detect_isolation, process_count, readable_roots
from ._process import RunResult, SandboxLimits, limiter, read_tail, wait

__all__ = ["RunResult", "Sandbox", "SandboxLimits"]

_IGNORE = {
    ".git",
    ".hg",
    ".svn",
    "__pycache__",
    ".venv",
    "venv",
    "node_modules",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".tox",
    ".nox",
    "build",
    "dist",
    ".eggs",
}
_MAX_COPY_BYTES = 200 * 1024 * 1024
_GUARD_LOG = ".sandbox-refusals.log"


class Sandbox:
    """A temporary directory plus a way to run commands in it, isolated.

    Use as a context manager; the directory is deleted on exit.

    Args:
        limits: The limits of each run.
        namespaces: Use Linux namespaces when the machine allows them; ``False``
            leaves only the in-process guard, limits and environment.
    """

    def __init__(self, limits: SandboxLimits | None = None, *, namespaces: bool = True) -> None:
        self.limits = limits or SandboxLimits()
        self.namespaces = namespaces
        self._tmp = tempfile.TemporaryDirectory(prefix="dualtrack-sandbox-")
        self.root = Path(self._tmp.name).resolve()
        self.work = self.root / "work"
        self.skipped: list[str] = []
        for sub in ("work", "home", "tmp", "boot"):
            (self.root / sub).mkdir()
        readable = readable_roots() if self.limits.restrict_reads else ()
        guard = Path(__file__).with_name("_guard.py").read_text(encoding="utf-8")
        call = (
            f"\ninstall({str(self.root)!r}, {str(self.root / _GUARD_LOG)!r}, "
            f"allow_subprocess={self.limits.allow_subprocess!r}, "
            f"restrict_reads={self.limits.restrict_reads!r}, read_roots={readable!r})\n"
        )
        (self.root / "boot" / "sitecustomize.py").write_text(guard + call, encoding="utf-8")
        if readable:  # read by the boot script: the private root holds only these
            listing = "".join(f"{r}\n" for r in readable)
            (self.root / "boot" / "readable").write_text(listing, encoding="utf-8")

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Delete the sandbox directory."""
        self._tmp.cleanup()

    # -- filling it ---------------------------------------------------------------

    def copy_in(self, source: Path, dest: str = "", *, skip: Callable[[Path], bool] | None = None) -> Path:
        """Copy a file or directory tree into ``work/dest`` (symlinks and caches skipped).

        Args:
            source: The file or folder.
            dest: Its path below ``work/`` (default: its name).
            skip: A rule for files that must not be copied (secret-looking ones);
                each file it skips is listed in :attr:`skipped` and in every run's
                ``refusals``.

        Raises:
            ValueError: When the tree is larger than 200 MiB.
        """
        target = self.work / dest if dest else self.work / source.name
        if skip is not None and source.is_file() and skip(source):
            self.skipped.append(source.name)
            return target
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
            return target
        total = 0
        for dirpath, dirnames, filenames in os.walk(source):
            dirnames[:] = [d for d in dirnames if d not in _IGNORE and not d.endswith(".egg-info")]
            rel = Path(dirpath).relative_to(source)
            (target / rel).mkdir(parents=True, exist_ok=True)
            for name in filenames:
                src = Path(dirpath) / name
                if src.is_symlink() or not src.is_file() or name.endswith((".pyc", ".pyo")):
                    continue
                if skip is not None and skip(src):
                    self.skipped.append((rel / name).as_posix())
                    continue
                total += src.stat().st_size
                if total > _MAX_COPY_BYTES:
                    raise ValueError(f"{source} is larger than 200 MiB; point at a smaller project")
                shutil.copy2(src, target / rel / name)
        return target

    def write(self, relpath: str, text: str) -> Path:
        """Write a text file below ``work/``."""
        path = self.work / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    # -- running ------------------------------------------------------------------

    def environment(
        self, extra_path: list[str] | None = None, extra: dict[str, str] | None = None
    ) -> dict[str, str]:
        """The allow-listed environment of a run (no secrets from the host), plus ``extra``."""
        bindir = str(Path(sys.executable).parent)
        pythonpath = [str(self.root / "boot"), str(self.work), *(extra_path or [])]
        return {
            "PATH": os.pathsep.join([bindir, "/usr/local/bin", "/usr/bin", "/bin"]),
            "HOME": str(self.root / "home"),
            "TMPDIR": str(self.root / "tmp"),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "PYTHONPATH": os.pathsep.join(pythonpath),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONNOUSERSITE": "1",
            "PYTHONHASHSEED": "0",
            "PYTHONIOENCODING": "utf-8",
            "NO_COLOR": "1",
            **(extra or {}),
        }

    def run(
        self,
        argv: list[str],
        *,
        cwd: Path | None = None,
        extra_path: list[str] | None = None,
        env: dict[str, str] | None = None,
    ) -> RunResult:
        """Run ``argv`` (exactly as given) inside the sandbox, with the limits.

        Args:
            argv: The command; ``python``/``python3`` mean this interpreter.
            cwd: Working directory below the sandbox (default ``work/``).
            extra_path: Additional ``PYTHONPATH`` entries below the sandbox.
            env: Additional environment variables (never the host's environment).

        Returns:
            The result; timeouts and limits are reported, never raised.
        """
        if not argv:
            raise ValueError("empty command")
        command = [sys.executable if argv[0] in ("python", "python3") else argv[0], *argv[1:]]
        isolation = detect_isolation() if self.namespaces else Isolation((), (), False)
        wrapped = isolation.wrap(command, str(self.root))
        out_path, err_path = self.root / ".stdout", self.root / ".stderr"
        lim = self.limits
        nproc = process_count() + lim.max_processes
        start = time.perf_counter()
        timed_out = False
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            try:
                proc = subprocess.Popen(
                    wrapped,
                    cwd=str(cwd or self.work),
                    env=self.environment(extra_path, env),
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    start_new_session=True,
                    preexec_fn=limiter(lim, nproc),
                )
            except OSError as exc:
                return RunResult(list(argv), 127, "", f"cannot start {command[0]!r}: {exc}")
            returncode, cpu_used = wait(proc, lim.timeout_s)
            if returncode is None:
                timed_out = True
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                returncode, cpu_used = wait(proc, None)
        private = [PRIVATE_ROOT] if lim.restrict_reads and isolation.uses_boot else []
        layers = [*isolation.layers, *private, "audit-hook guard", "resource limits", "scrubbed environment"]
        return RunResult(
            argv=list(argv),
            returncode=returncode or 0,
            stdout=read_tail(out_path, lim.output_bytes),
            stderr=read_tail(err_path, lim.output_bytes),
            timed_out=timed_out,
            cpu_limited=not timed_out and returncode != 0 and cpu_used >= lim.cpu_s - 0.25,
            duration_s=time.perf_counter() - start,
            refusals=self._refusals(),
            isolation=layers,
        )

    def _refusals(self) -> list[str]:
        left_out = [
            f"sandbox refused copying {rel!r}: it looks like a secret "
            "(a host that means it lists it in Orchestrator(allow_secrets=[...]))"
            for rel in self.skipped[:20]
        ]
        log = self.root / _GUARD_LOG
        if not log.is_file():
            return left_out
        lines = read_tail(log, 20_000).splitlines()
        return left_out + list(dict.fromkeys(line for line in lines if line.strip()))[:50]
