"""``atomic_write``: whole files or nothing, never through a link, no litter left behind.

A write goes to a hidden temporary sibling named ``.<name>.<pid>-<random>.tmp``,
is flushed to disk, then renamed over the target. A process killed mid-write
(``kill -9``, power loss) leaves that temporary file behind; the next write to
the same target removes such leftovers: those whose process is gone, and any
older than an hour (temporaries of a live writer are left alone).
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_write", "clean_stale_temporaries"]

STALE_AFTER_S = 3600.0
"""A temporary file of ours older than this is stale even if its process still runs."""


def atomic_write(path: str | Path, mode: str = "wb") -> contextlib.AbstractContextManager[IO[Any]]:
    """Write a file atomically: a temporary sibling, flushed, then renamed.

    Readers see either the old file or the whole new one, never a half-written
    file; on error the temporary file is removed and the target is untouched.
    A symbolic link at ``path`` is never followed: the link itself is replaced
    by the new file, and the file it pointed to is left as it was. Temporary
    files that an earlier, killed write left next to ``path`` (named
    ``.<name>.<pid>-<random>.tmp``) are removed first.

    Args:
        path: The destination.
        mode: ``"wb"`` or ``"w"`` (UTF-8 text).

    Returns:
        A context manager yielding the open temporary file.
    """
    return _atomic_write(Path(path), mode)


@contextlib.contextmanager
def _atomic_write(target: Path, mode: str) -> Iterator[IO[Any]]:
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temporaries(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}-", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)  # renames over a link at `target`, never through it
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _mode_for(target: Path) -> int:
    """Keep a regular file's permissions; a new file (or one replacing a link) gets 0644."""
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        return 0o644
    return stat.S_IMODE(st.st_mode) if stat.S_ISREG(st.st_mode) else 0o644


def clean_stale_temporaries(target: str | Path) -> list[Path]:
    """Remove temporary files an interrupted :func:`atomic_write` left next to ``target``.

    Only files of our own naming for this very target are considered
    (``.<name>.<pid>-<random>.tmp``, and the older ``.<name>.<random>.tmp``); one is
    stale when its process no longer runs on this machine or it is older than an hour.

    Args:
        target: The file about to be written.

    Returns:
        The files removed.
    """
    target = Path(target)
    ours = re.compile(rf"\.{re.escape(target.name)}\.(?:(\d+)-)?[a-z0-9_]{{8}}\.tmp")
    removed: list[Path] = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        m = ours.fullmatch(entry.name)
        if m is None:
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode):
            continue
        pid = int(m.group(1)) if m.group(1) else None
        if now - st.st_mtime < STALE_AFTER_S and (pid is None or _alive(pid)):
            continue
        with contextlib.suppress(OSError):
            os.unlink(entry.path)
            removed.append(Path(entry.path))
    return removed


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine (unknown counts as alive)."""
    if pid == os.getpid():
        return True
    if os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True
