"""Per-caller workspaces: uploads, path arguments, downloads and expiry.

Each caller has one folder under the data folder (named by a hash of who it is).
An upload lands in ``<workspace>/<id>/<name>``; a skill's outputs are written
next to their input, so they appear in the same folder. A path argument names a
file of the workspace by its workspace-relative name (``u1a2b3c4/report.docx``)
or by ``upload:<id>``; anything else (``..``, an absolute path, a NUL byte, a
path through a symbolic link) is refused before a skill sees it, and the call
runs with the workspace as its only file root. Files expire ``file_ttl_s`` after
they were written (:meth:`Workspaces.sweep`).
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import stat
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from dualtrack import FileRoots

from ._problems import Problem

__all__ = ["StoredFile", "Workspace", "Workspaces"]

_UPLOAD_ID = re.compile(r"u[0-9a-f]{10}")
_WORKSPACE_ID = re.compile(r"[0-9a-f]{24}")
_OPEN_WORKSPACES = 4096
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")
_OFFICE_TYPES = {
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",),
    ".xlsm": ("application/vnd.ms-excel.sheet.macroEnabled.main+xml",),
}


@dataclass(frozen=True, kw_only=True)
class StoredFile:
    """A file of a workspace.

    Attributes:
        name: Workspace-relative name (``u1a2b3c4/report.docx``): the value of a path argument.
        upload_id: The upload it belongs to.
        size: Bytes.
        sha256: Hex digest of its content.
        expires_at: Unix time it will be deleted.
    """

    name: str
    upload_id: str
    size: int
    sha256: str
    expires_at: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "name": self.name,
            "upload_id": self.upload_id,
            "ref": f"upload:{self.upload_id}",
            "size": self.size,
            "sha256": self.sha256,
            "expires_at": round(self.expires_at, 3),
            "download": f"/v1/files/{self.name}",
        }


def safe_filename(raw: str) -> str:
    """A plain file name from what a client sent (folders dropped, odd characters replaced)."""
    name = PurePosixPath(raw.replace("\\", "/")).name
    name = _SAFE_NAME.sub("_", name).strip(" .")
    return name[:120] or "upload"


class Workspace:
    """One caller's folder.

    Args:
        root: The folder (created if missing).
        ttl_s: Lifetime of a file.
    """

    def __init__(self, root: Path, ttl_s: float) -> None:
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.root = root.resolve()
        self.ttl_s = ttl_s
        # the workspace is the call's only root; names inside it are the caller's own files
        self.roots = FileRoots([self.root], allow_secrets=[str(self.root)])

    # -- uploads -------------------------------------------------------------------------

    def new_upload_dir(self) -> tuple[str, Path]:
        """A fresh ``(id, folder)`` for one upload."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)  # in case it was removed meanwhile
        while True:
            upload_id = "u" + secrets.token_hex(5)
            folder = self.root / upload_id
            try:
                folder.mkdir(mode=0o700)
            except FileExistsError:
                continue
            return upload_id, folder

    def describe(self, path: Path, *, sha256: str | None = None) -> StoredFile:
        """The :class:`StoredFile` of a file in the workspace (hashed unless ``sha256`` is given)."""
        if sha256 is None:
            digest = hashlib.sha256()
            with open(path, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
            sha256 = digest.hexdigest()
        st = path.stat()
        rel = path.relative_to(self.root)
        return StoredFile(
            name=rel.as_posix(),
            upload_id=rel.parts[0],
            size=st.st_size,
            sha256=sha256,
            expires_at=st.st_mtime + self.ttl_s,
        )

    def names(self) -> set[str]:
        """Workspace-relative names of every regular file (cheap: no hashing)."""
        return set(self.names_by_age())

    def files(self) -> list[StoredFile]:
        """Every regular file, oldest first."""
        return [self.describe(self.root / name) for name in self.names_by_age()]

    def names_by_age(self) -> list[str]:
        """Workspace-relative names of every regular file, oldest first (no hashing)."""
        found: list[tuple[float, str]] = []
        for p in self.root.glob("*/*"):
            try:
                st = p.lstat()
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                found.append((st.st_mtime, p.relative_to(self.root).as_posix()))
        return [name for _, name in sorted(found)]

    # -- path arguments ------------------------------------------------------------------

    def resolve(self, value: str, *, must_exist: bool) -> Path:
        """The absolute path of a workspace-relative name or ``upload:<id>``.

        Raises:
            Problem: 400 ``invalid-path`` for ``..``, absolute paths, NUL bytes, links,
                names outside the workspace, or (``must_exist``) a missing file.
        """
        if not isinstance(value, str) or value == "":
            raise Problem("invalid-path", "a path argument must be a non-empty file name of your workspace")
        if "\x00" in value:
            raise Problem("invalid-path", "the path contains a NUL character")
        if value.startswith("upload:"):
            return self._upload(value.removeprefix("upload:"))
        text = value.replace("\\", "/")
        if text.startswith("/") or re.match(r"^[A-Za-z]:", text) or text.startswith("~"):
            raise Problem(
                "invalid-path",
                f"{value!r} is absolute; name a file of your workspace (as listed by GET /v1/files)",
            )
        parts = PurePosixPath(text).parts
        if any(p == ".." for p in parts):
            raise Problem("invalid-path", f"{value!r} contains '..'; name a file of your workspace")
        current = self.root
        for part in parts:
            if part == ".":
                continue
            current = current / part
            if current.is_symlink():
                raise Problem("invalid-path", f"{value!r} goes through a symbolic link; links are refused")
        if current == self.root or not current.resolve().is_relative_to(self.root):
            raise Problem("invalid-path", f"{value!r} is not a file of your workspace")
        if must_exist and not current.is_file():
            raise Problem(
                "invalid-path",
                f"{value!r} is not a file of your workspace (it may have expired); upload it first",
            )
        return current

    def _upload(self, upload_id: str) -> Path:
        if not _UPLOAD_ID.fullmatch(upload_id):
            raise Problem(
                "invalid-path", f"'upload:{upload_id}' is not an upload reference (upload:u + 10 hex digits)"
            )
        folder = self.root / upload_id
        files = (
            sorted(p for p in folder.glob("*") if p.is_file() and not p.is_symlink())
            if folder.is_dir()
            else []
        )
        if not files:
            raise Problem("invalid-path", f"no upload {upload_id!r} in your workspace (it may have expired)")
        return min(files, key=lambda p: p.stat().st_mtime)  # the upload itself, not outputs beside it

    def relative(self, value: Any) -> Any:
        """Absolute workspace paths inside ``value`` turned back into workspace names (for clients)."""
        prefix = str(self.root) + os.sep
        if isinstance(value, str):
            return value.replace(prefix, "")
        if isinstance(value, list):
            return [self.relative(v) for v in value]
        if isinstance(value, dict):
            return {k: self.relative(v) for k, v in value.items()}
        return value


class Workspaces:
    """Every caller's workspace under one data folder.

    Args:
        data_dir: The data folder.
        ttl_s: Lifetime of uploads and outputs.
    """

    def __init__(self, data_dir: Path, ttl_s: float) -> None:
        self.base = (data_dir / "workspaces").resolve()
        self.base.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.ttl_s = ttl_s
        self._open: dict[str, Workspace] = {}  # created and resolved once, not on every request

    def get(self, workspace_id: str) -> Workspace:
        """The workspace of a caller (by :attr:`Caller.workspace_id`)."""
        ws = self._open.get(workspace_id)
        if ws is not None:
            return ws
        if not _WORKSPACE_ID.fullmatch(workspace_id):
            raise ValueError("workspace ids are 24 hex digits")
        if len(self._open) >= _OPEN_WORKSPACES:
            self._open.pop(next(iter(self._open)))  # the oldest one; it is rebuilt when needed
        ws = self._open[workspace_id] = Workspace(self.base / workspace_id, self.ttl_s)
        return ws

    def sweep(self, now: float | None = None) -> int:
        """Delete files older than the TTL (and upload folders left empty); returns how many files."""
        cutoff = (time.time() if now is None else now) - self.ttl_s
        removed = 0
        for ws in _dirs(self.base.iterdir()):
            for folder in _dirs(ws.iterdir()):
                for f in list(folder.iterdir()):
                    try:
                        st = f.lstat()
                        if st.st_mtime < cutoff:
                            if f.is_dir() and not f.is_symlink():
                                shutil.rmtree(f, ignore_errors=True)
                            else:
                                f.unlink()
                            removed += 1
                    except OSError:
                        continue
                try:
                    folder.rmdir()  # only when empty
                except OSError:
                    pass
        return removed


def _dirs(entries: Iterable[Path]) -> list[Path]:
    return [e for e in entries if e.is_dir() and not e.is_symlink()]


def office_types(suffix: str) -> tuple[str, ...] | None:
    """Main content types of an Office suffix, or ``None`` when it is not an Office package."""
    return _OFFICE_TYPES.get(suffix.lower())
