"""Which operating-system isolation the sandbox can use on this machine.

The strongest layer is Linux namespaces through the ``unshare`` tool: a new
network namespace (only a loopback interface, so nothing can leave the machine),
a new mount namespace in which every mount outside the sandbox directory is
remounted read-only, and a new PID namespace with its own ``/proc`` (killing its
first process kills every process the run started, and other processes'
environments, which may hold secrets, are not visible). What works is probed once per process, by
running the real boot script and checking that a write outside the sandbox fails.

When a run restricts reads, the sandbox lists the folders it may read in
``boot/readable`` and the boot script pivots into a private root that holds only
those folders (the Python installation, system libraries), the sandbox itself,
a fresh ``/proc`` and a minimal ``/dev``: the user's home folder, ``/etc`` and the
real project are not there at all, for any program, native code included. A
private root that cannot be built fails the run (exit status 97) rather than
running it with reads open.
"""

from __future__ import annotations

import functools
import glob
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BOOT_SCRIPT", "PRIVATE_ROOT", "Isolation", "detect_isolation", "process_count", "readable_roots"]

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
if [ -f "$sb/boot/readable" ]; then
  # restricted reads: a private root holding only the sandbox, the listed folders
  # (the Python installation, system libraries) and a minimal /dev
  nr="$sb/boot/root"; wd=$(pwd); run_path="$PATH"; PATH="$PATH:/usr/sbin:/sbin"
  fail() { echo "sandbox: cannot build the private root ($1)" >&2; exit 97; }
  graft() {  # mount $2 (a folder or a file) at the same path inside the private root
    if [ -d "$2" ]; then mkdir -p "$nr$2"; else mkdir -p "$nr$(dirname "$2")" && : > "$nr$2"; fi &&
      mount "$1" "$2" "$nr$2" || fail "$2"
  }
  mkdir -p "$nr" && mount -t tmpfs -o mode=0755,size=16m tmpfs "$nr" || fail tmpfs
  while IFS= read -r p; do
    if [ -e "$p" ]; then graft --rbind "$p"; fi
  done < "$sb/boot/readable"
  graft --bind "$sb"
  for d in null zero full random urandom; do graft --bind "/dev/$d"; done
  for f in 0:stdin 1:stdout 2:stderr; do ln -s "/proc/self/fd/${f%:*}" "$nr/dev/${f#*:}"; done
  ln -s /proc/self/fd "$nr/dev/fd"
  mkdir -p "$nr/dev/shm" "$nr/proc" "$nr/.old" || fail /dev/shm
  mount -t tmpfs -o size=64m tmpfs "$nr/dev/shm" || fail /dev/shm
  mount -t proc proc "$nr/proc" || fail /proc
  mount -o remount,ro "$nr" || fail "read-only root"
  cd "$nr" && pivot_root . .old && umount -l /.old || fail pivot_root
  cd "$wd" || fail "$wd"
  PATH="$run_path"
fi
exec "$@"
"""

PRIVATE_ROOT = "private root: only the sandbox, the Python installation and system libraries"
_SYSTEM_READABLE = (
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/alternatives",
    "/etc/localtime",
)
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
            argv = Isolation(tuple(prefix), (), uses_boot).wrap(test, inner)
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


@functools.cache
def readable_roots() -> tuple[str, ...]:
    """What a run that restricts reads may read besides the sandbox.

    System libraries, and this interpreter's installation: its prefixes, the
    folders :mod:`sysconfig` names (standard library, site-packages, scripts),
    folders that ``.pth`` files add, and the source folders of editable installs
    (setuptools' ``MAPPING``, the ``editables`` package's redirections). Nothing
    else: not the home folder, not ``/etc``, not the project the copy came from.
    """
    found: set[str] = set(_SYSTEM_READABLE)
    wanted = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
    wanted.append(os.path.dirname(sys.executable))
    wanted += [p for p in sysconfig.get_paths().values() if p]
    for site_dir in site.getsitepackages():
        wanted.append(site_dir)
        for pth in glob.glob(os.path.join(glob.escape(site_dir), "*.pth")):
            wanted += _pth_folders(site_dir, pth)
    for finder in sys.meta_path:
        module = sys.modules.get(getattr(finder, "__module__", "") or "")
        for table in (getattr(module, "MAPPING", None), getattr(finder, "_redirections", None)):
            if isinstance(table, dict):
                wanted += [v for v in table.values() if isinstance(v, str)]
    for p in wanted:
        found.update({os.path.abspath(p), os.path.realpath(p)})
    kept: list[str] = []
    for p in sorted(f for f in found if f != os.sep and "\n" not in f):
        if not any(p.startswith(k.rstrip(os.sep) + os.sep) for k in kept):
            kept.append(p)
    return tuple(kept)


def _pth_folders(site_dir: str, pth: str) -> list[str]:
    try:
        with open(pth, encoding="utf-8", errors="replace") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        line = line.strip()
        if line and not line.startswith(("#", "import ", "import\t")):
            full = os.path.join(site_dir, line)
            if os.path.isdir(full):
                out.append(full)
    return out


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
