"""Which operating-system isolation the sandbox can use on this machine.

The strongest layer is Linux namespaces through the ``unshare`` tool: a new
network namespace (only a loopback interface, so nothing can leave the machine),
a new mount namespace in which every mount outside the sandbox directory is
remounted read-only, and a new PID namespace with its own ``/proc`` (killing its
first process kills every process the run started, and other processes'
environments, which may hold secrets, are not visible). What works is probed once per process, by
running the real boot script and checking that a write outside the sandbox fails.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BOOT_SCRIPT", "Isolation", "detect_isolation", "process_count"]

# $1 is the sandbox directory; the rest is the command. Run inside the namespaces.
BOOT_SCRIPT = r"""
sb="$1"; shift
mount --make-rprivate / 2>/dev/null
mount -t proc proc /proc 2>/dev/null
mount --bind "$sb" "$sb" || { echo "sandbox: cannot bind $sb" >&2; exit 97; }
awk '$4 !~ /^ro/ {print $2}' /proc/self/mounts | while read -r mp; do
  case "$mp" in /proc|/proc/*|/sys|/sys/*|/dev|/dev/pts|"$sb") continue;; esac
  mount -o remount,bind,ro "$mp" 2>/dev/null
done
ip link set lo up 2>/dev/null
exec "$@"
"""

_FULL = ("network namespace", "read-only filesystem outside the sandbox", "pid namespace with its own /proc")
_VARIANTS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (
        ("--user", "--map-root-user", "--net", "--mount", "--pid", "--fork", "--kill-child"),
        _FULL,
    ),
    (("--net", "--mount", "--pid", "--fork", "--kill-child"), _FULL),
    (("--user", "--map-root-user", "--net"), ("network namespace",)),
    (("--net",), ("network namespace",)),
)


@dataclass(frozen=True, slots=True)
class Isolation:
    """How sandboxed commands are wrapped.

    Attributes:
        prefix: The argv prefix (``unshare ... sh -c BOOT sh <dir>``); empty when none works.
        layers: Human-readable names of the namespace layers in effect.
        uses_boot: Whether the prefix runs :data:`BOOT_SCRIPT` (needs the sandbox dir).
    """

    prefix: tuple[str, ...]
    layers: tuple[str, ...]
    uses_boot: bool

    def wrap(self, argv: list[str], sandbox_dir: str) -> list[str]:
        """Return ``argv`` wrapped in the isolation prefix."""
        if not self.prefix:
            return list(argv)
        if self.uses_boot:
            return [*self.prefix, "sh", "-c", BOOT_SCRIPT, "sh", sandbox_dir, *argv]
        return [*self.prefix, *argv]


@functools.cache
def detect_isolation() -> Isolation:
    """Probe ``unshare`` variants once; the first that really isolates wins.

    Set ``DUALTRACK_SANDBOX_NAMESPACES=0`` to skip namespaces (for comparison or
    for hosts where probing is unwanted).

    Returns:
        The isolation to use (possibly none).
    """
    unshare = shutil.which("unshare")
    if unshare is None or os.environ.get("DUALTRACK_SANDBOX_NAMESPACES") == "0":
        return Isolation((), (), False)
    for flags, layers in _VARIANTS:
        uses_boot = "--mount" in flags
        if _probe([unshare, *flags], uses_boot):
            return Isolation((unshare, *flags), layers, uses_boot)
    return Isolation((), (), False)


def _probe(prefix: list[str], uses_boot: bool) -> bool:
    with (
        tempfile.TemporaryDirectory(prefix="dualtrack-probe-") as inner,
        tempfile.TemporaryDirectory(prefix="dualtrack-probe-out-") as outer,
    ):
        outside = Path(outer) / "escaped"
        script = 'echo ok > "$1/inside" && { echo x > "$2"; } 2>/dev/null; test ! -e "/proc/$3"'
        if uses_boot:
            test = ["sh", "-c", script, "sh", inner, str(outside), str(os.getpid())]
            argv = [*prefix, "sh", "-c", BOOT_SCRIPT, "sh", inner, *test]
        else:
            check = "import socket,sys; sys.exit(0 if len(socket.if_nameindex()) <= 1 else 1)"
            argv = [*prefix, sys.executable, "-I", "-c", check]
        try:
            done = subprocess.run(argv, capture_output=True, timeout=20, check=False)
        except (OSError, subprocess.SubprocessError):
            return False
        if done.returncode != 0:
            return False
        if uses_boot:
            return (Path(inner) / "inside").is_file() and not outside.exists()
        return True


def process_count(uid: int | None = None) -> int:
    """Count the processes of ``uid`` (default: this user), for ``RLIMIT_NPROC``.

    The limit counts every process of the real user, so the sandbox sets it to
    this count plus its own allowance rather than to an absolute number.
    """
    uid = os.getuid() if uid is None else uid
    count = 0
    try:
        entries = os.listdir("/proc")
    except OSError:
        return 0
    for name in entries:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status", encoding="ascii", errors="replace") as fh:
                for line in fh:
                    if line.startswith("Uid:"):
                        if int(line.split()[1]) == uid:
                            count += 1
                        break
        except (OSError, ValueError, IndexError):
            continue
    return count
