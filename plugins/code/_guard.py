"""In-process guard installed in every sandboxed Python interpreter.

The sandbox copies this file's text into a ``sitecustomize.py`` that the
sandboxed interpreter imports at start-up, then calls :func:`install`. It uses
``sys.addaudithook`` (PEP 578): a hook cannot be removed by Python code, and it
sees every ``open``, ``socket.connect``, ``subprocess.Popen`` ... the interpreter
performs, before the operation happens.

It is one layer of several: when Linux namespaces are available the sandbox
also runs in a fresh network namespace (no route anywhere) with every mount
outside the sandbox read-only. On its own, the hook stops Python code that uses
the standard library; native code (ctypes, C extensions) can bypass it.

This module must import nothing outside the standard library.
"""

from __future__ import annotations

import ipaddress
import os
import sys
from typing import Any

__all__ = ["install"]

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_WRITE_DEVICES = ("/dev/null", "/dev/tty", "/dev/stdout", "/dev/stderr")
_SPAWN_EVENTS = frozenset(
    {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty"}
)
_PATH_EVENTS = {
    # event -> positions of path arguments that the operation modifies
    "os.remove": (0,),
    "os.rmdir": (0,),
    "os.mkdir": (0,),
    "os.rename": (0, 1),
    "os.replace": (0, 1),
    "os.symlink": (1,),
    "os.link": (1,),
    "os.truncate": (0,),
    "os.chmod": (0,),
    "os.chown": (0,),
    "os.utime": (0,),
    "shutil.rmtree": (0,),
    "shutil.copyfile": (1,),
    "shutil.copytree": (1,),
    "shutil.move": (0, 1),
}


def _is_loopback_host(host: Any) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if host is None or host in ("", "localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _is_local_address(address: Any) -> bool:
    if not isinstance(address, tuple):  # AF_UNIX paths
        return True
    return _is_loopback_host(address[0])


def _read_roots(base: str, extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Where code may read when reads are restricted: the sandbox, the interpreter, system libraries.

    ``extra`` holds what the sandbox found of the installation (editable installs' source folders).
    """
    own = f"/proc/{os.getpid()}"  # not other processes' /proc entries: their environ may hold secrets
    roots = {base, "/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", own, "/dev", "/sys", *extra}
    for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, *sys.path):
        if p and os.path.isabs(p):
            roots.add(os.path.realpath(p))
    roots.add(os.path.dirname(os.path.realpath(sys.executable)))
    return tuple(sorted(roots))


def install(
    root: str,
    log_path: str,
    allow_subprocess: bool = False,
    restrict_reads: bool = False,
    read_roots: tuple[str, ...] = (),
) -> None:
    """Refuse network, writes outside ``root`` and (optionally) new processes and reads.

    Args:
        root: The sandbox directory; writes are allowed only below it.
        log_path: A file below ``root`` where each refusal is recorded.
        allow_subprocess: Whether child processes may be started.
        restrict_reads: Refuse reading files outside the sandbox, the interpreter's
            own folders and system libraries (so a test or a command cannot read the
            user's home folder and echo secrets into output that goes back to a model).
        read_roots: More folders readable under ``restrict_reads`` (the installation's).
    """
    base = os.path.realpath(root)
    prefix = base + os.sep
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    active = [False]
    readable = _read_roots(base, read_roots) if restrict_reads else ()

    def resolve(path: Any) -> str:
        return os.path.realpath(os.path.join(os.getcwd(), os.fsdecode(path)))

    def inside(path: Any) -> bool:
        if isinstance(path, int):
            return True  # an already-open descriptor: its opening was checked
        full = resolve(path)
        return full == base or full.startswith(prefix) or full in _WRITE_DEVICES

    def may_read(path: Any) -> bool:
        if not readable or isinstance(path, int):
            return True
        full = resolve(path)
        return any(full == r or full.startswith(r.rstrip(os.sep) + os.sep) for r in readable)

    def refuse(what: str) -> None:
        message = f"sandbox refused {what}"
        try:
            os.write(log_fd, (message.replace("\n", " ") + "\n").encode("utf-8", "replace"))
        except OSError:
            pass
        raise PermissionError(message)

    def check(event: str, args: tuple[Any, ...]) -> None:
        if event == "open":
            path, mode, flags = args
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & _WRITE_FLAGS
            )
            if path is None:
                return
            if writing and not inside(path):
                refuse(f"writing {os.fsdecode(path)!r} outside the sandbox")
            if not writing and not may_read(path):
                refuse(f"reading {os.fsdecode(path)!r} outside the sandbox")
        elif event in ("os.listdir", "os.scandir"):
            if args and args[0] is not None and not may_read(args[0]):
                refuse(f"listing {os.fsdecode(args[0])!r} outside the sandbox")
        elif event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
            address = args[1] if len(args) > 1 else None
            if not _is_local_address(address):
                refuse(f"network connection to {address!r}")
        elif event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex"):
            if not _is_loopback_host(args[0]):
                refuse(f"name lookup of {args[0]!r}")
        elif event in _SPAWN_EVENTS:
            if not allow_subprocess:
                refuse(f"starting a process ({event})")
        elif event in _PATH_EVENTS:
            for i in _PATH_EVENTS[event]:
                if i < len(args) and args[i] is not None and not inside(args[i]):
                    refuse(f"{event} on {os.fsdecode(args[i])!r} outside the sandbox")

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if active[0]:
            return
        active[0] = True
        try:
            check(event, args)
        finally:
            active[0] = False

    sys.addaudithook(hook)
