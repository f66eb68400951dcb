"""Uploading a file into a caller's workspace (``POST /v1/files``, ``multipart/form-data``).

The file arrives in the form field ``file``. It is refused (and nothing is kept)
when its type is not one of ``upload_suffixes``, when it is larger than
``max_upload_mb``, when an Office package fails
:func:`~dualtrack.inspect_package` (zip bombs, encrypted or damaged files, DTDs,
the wrong main part), or when its sensitivity label is above what the caller may
send. Stored files are never modified by the service; the label read here is the
one the skill's ``ctx.input_file`` reads again, so it governs routing as a local
file's does.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
from pathlib import Path
from typing import Any, BinaryIO

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request

from dualtrack import InputFileError, Orchestrator, inspect_package, read_sensitivity_label

from ._auth import Caller
from ._problems import Problem
from ._settings import HttpSettings
from ._workspace import Workspace, office_types, safe_filename

__all__ = ["store_upload"]


def _copy(src: BinaryIO, dest: Path, limit: int) -> str | None:
    """Copy at most ``limit`` bytes into a new file; returns its SHA-256, or ``None`` when it is larger."""
    size = 0
    digest = hashlib.sha256()
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "wb") as out:
        while block := src.read(1 << 20):
            size += len(block)
            if size > limit:
                return None
            digest.update(block)
            out.write(block)
    return digest.hexdigest()


async def store_upload(
    request: Request, ws: Workspace, settings: HttpSettings, orc: Orchestrator, caller: Caller
) -> dict[str, Any]:
    """Store the uploaded file; returns its description (with its sensitivity label).

    Raises:
        Problem: 400/413/415/422/403 with the reason; nothing is kept then.
    """
    ctype = request.headers.get("content-type", "")
    if not ctype.lower().startswith("multipart/form-data"):
        raise Problem(
            "unsupported-media-type", "upload with multipart/form-data, the file in the field 'file'"
        )
    try:
        form = await request.form(max_files=1, max_fields=8, max_part_size=64 * 1024)
    except HTTPException as exc:
        raise Problem("malformed-request", f"the multipart body cannot be read ({exc.detail})") from None
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise Problem(
                "invalid-arguments",
                "send the file in the form field 'file'",
                errors=[{"field": "file", "message": "required file"}],
            )
        name = safe_filename(upload.filename or "")
        suffix = Path(name).suffix.lower()
        allowed = sorted({s.lower() for s in settings.upload_suffixes})
        if name.startswith(".") or suffix not in allowed:
            raise Problem(
                "unsupported-file-type",
                f"{suffix or 'a file without a suffix'} cannot be uploaded; allowed: {', '.join(allowed)}",
                allowed=allowed,
            )
        _, folder = ws.new_upload_dir()
        dest = folder / name
        try:
            sha256 = await asyncio.to_thread(_copy, upload.file, dest, settings.max_upload_bytes)
            if sha256 is None:
                raise Problem(
                    "payload-too-large",
                    f"files may be at most {settings.max_upload_mb:g} MB",
                    limit_bytes=settings.max_upload_bytes,
                )
            label = await asyncio.to_thread(_check, dest, suffix, orc)
            if label is not None:
                caller.check_sensitivity(label, "this file's sensitivity label")
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
    finally:
        await form.close()
    stored = ws.describe(dest, sha256=sha256).to_dict()  # hashed while it was copied
    stored["sensitivity"] = label.value if label is not None else None
    stored["filename"] = name
    return stored


def _check(path: Path, suffix: str, orc: Orchestrator) -> Any:
    types = office_types(suffix)
    try:
        if types is not None:
            inspect_package(path, types)
        return read_sensitivity_label(path, orc.labels) if types is not None else None
    except InputFileError as exc:
        raise Problem(
            "bad-input-file", f"{path.name}: {str(exc).rpartition(': ')[2]}; nothing was kept"
        ) from None
