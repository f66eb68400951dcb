"""Moving bytes: downloads through the pre-authenticated URL, simple uploads and upload sessions.

Downloads ask Graph for ``/content``, which answers ``302`` with a short-lived
pre-authenticated URL; that URL is fetched *without* the Authorization header and
streamed to disk, stopping (and deleting the partial file) past the size limit.

Uploads below ``simple_max`` bytes are one ``PUT``; larger ones use an upload
session: chunks that are multiples of 320 KiB and under 60 MiB, sent without the
Authorization header, resumed from ``nextExpectedRanges`` after a failed chunk; a
session that cannot finish is deleted, so nothing half-uploaded is left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from typing import Any

import httpx

from dualtrack import FileSourceError

from ._client import GraphClient, graph_error

__all__ = ["CHUNK_UNIT", "MAX_CHUNK", "check_chunk_size", "download", "upload"]

CHUNK_UNIT = 320 * 1024
MAX_CHUNK = 60 * 1024 * 1024
_SOURCE = "m365"


def check_chunk_size(size: int) -> int:
    """``size`` if Graph accepts it as an upload-session chunk.

    Raises:
        ValueError: Not a positive multiple of 320 KiB, or 60 MiB or more.
    """
    if size <= 0 or size % CHUNK_UNIT or size >= MAX_CHUNK:
        raise ValueError(
            f"chunk_size must be a multiple of 320 KiB ({CHUNK_UNIT} bytes) under 60 MiB, got {size}"
        )
    return size


async def download(client: GraphClient, content_url: str, ref: str, target: Path, *, limit: int) -> int:
    """Stream the file at ``content_url`` (a Graph ``/content`` path) into ``target``.

    Returns:
        The number of bytes written.

    Raises:
        FileSourceError: Too large (``reason="too-large"``), gone, or failed; no partial file is kept.
    """
    first = await client.send("GET", content_url, ref, what="download")
    if first.status_code in (301, 302, 303, 307, 308):
        location = first.headers.get("location")
        if not location:
            raise FileSourceError(ref, "download failed: Graph redirected nowhere", source=_SOURCE)
        response = await client.send("GET", location, ref, what="download", auth=False, stream=True)
    else:  # some deployments answer with the bytes directly
        response = first
    written = 0
    try:
        with target.open("xb") as fh:
            async for block in response.aiter_bytes(1 << 16):
                written += len(block)
                if written > limit:
                    raise FileSourceError(
                        ref,
                        f"download stopped: the file is larger than the limit ({limit // (1 << 20)} MiB); "
                        "raise max_download_mb for this file source if it should be read",
                        source=_SOURCE,
                        reason="too-large",
                    )
                fh.write(block)
    except httpx.HTTPError as exc:
        target.unlink(missing_ok=True)
        raise FileSourceError(
            ref,
            f"download was cut off ({type(exc).__name__}); try again",
            source=_SOURCE,
            reason="unavailable",
        ) from exc
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    finally:
        await response.aclose()
    return written


async def upload(
    client: GraphClient,
    local: Path,
    ref: str,
    *,
    simple_url: str,
    session_url: str,
    conflict: str,
    if_match: str | None,
    simple_max: int,
    chunk_size: int,
) -> dict[str, Any]:
    """Upload ``local``: one PUT to ``simple_url`` when small, else a session from ``session_url``.

    Args:
        client: The Graph client.
        local: The file to upload.
        ref: The reference, for errors.
        simple_url: ``.../content`` (its query names the conflict behaviour).
        session_url: ``.../createUploadSession``.
        conflict: ``"rename"`` (new files: never overwrite) or ``"replace"`` (guarded by ``if_match``).
        if_match: The eTag that must still be current.
        simple_max: Largest size sent in one PUT.
        chunk_size: Session chunk size (see :func:`check_chunk_size`).

    Returns:
        The driveItem Graph created or updated.
    """
    size = local.stat().st_size
    headers = {"If-Match": if_match} if if_match else {}
    if size <= simple_max:
        data = local.read_bytes()
        r = await client.send(
            "PUT", simple_url, ref, what="upload", content=data, headers=headers, retry_transport=False
        )
        return dict(r.json())
    body = {"item": {"@microsoft.graph.conflictBehavior": conflict}}
    r = await client.send("POST", session_url, ref, what="upload", json=body, headers=headers)
    upload_url = str(r.json().get("uploadUrl") or "")
    if not upload_url:
        raise FileSourceError(ref, "upload failed: Graph gave no upload URL", source=_SOURCE)
    try:
        return await _send_chunks(client, upload_url, local, ref, size, chunk_size)
    except BaseException:
        await _abort(client, upload_url, ref)
        raise


async def _send_chunks(
    client: GraphClient, upload_url: str, local: Path, ref: str, size: int, chunk_size: int
) -> dict[str, Any]:
    offset, failures = 0, 0
    with local.open("rb") as fh:
        while True:
            fh.seek(offset)
            chunk = fh.read(min(chunk_size, size - offset))
            end = offset + len(chunk) - 1
            headers = {"Content-Range": f"bytes {offset}-{end}/{size}", "Content-Length": str(len(chunk))}
            r: httpx.Response | None = None
            error: Exception | None = None
            try:
                r = await client.http.put(upload_url, content=chunk, headers=headers)
            except httpx.HTTPError as exc:
                error = exc
            if r is not None and r.status_code in (200, 201):
                return dict(r.json())
            if r is not None and r.status_code == 202:
                offset = _next_offset(r.json(), ref, end + 1)
                failures = 0
                continue
            if r is not None and r.status_code not in (408, 429, 500, 502, 503, 504):
                raise graph_error(ref, r, "upload", client.redactor)
            failures += 1
            if failures > client.retry.max_retries:
                why = f"HTTP {r.status_code}" if r is not None else type(error).__name__
                raise FileSourceError(
                    ref,
                    f"upload failed after {failures} tries of one chunk ({why}); nothing was left behind, "
                    "try again later",
                    source=_SOURCE,
                    reason="unavailable",
                    status_code=r.status_code if r is not None else None,
                )
            await asyncio.sleep(
                min(client.retry.max_delay_s, client.retry.base_delay_s * 2 ** (failures - 1))
            )
            offset = await _resume_offset(client, upload_url, ref)


def _next_offset(status: Any, ref: str, default: int) -> int:
    ranges = status.get("nextExpectedRanges") if isinstance(status, dict) else None
    if not ranges:
        return default
    try:
        return int(str(ranges[0]).split("-", 1)[0])
    except ValueError:
        raise FileSourceError(ref, "upload failed: Graph sent an unreadable range", source=_SOURCE) from None


async def _resume_offset(client: GraphClient, upload_url: str, ref: str) -> int:
    """Where the session wants the next byte (``GET`` on the upload URL, no Authorization)."""
    r = await client.send("GET", upload_url, ref, what="upload", auth=False)
    return _next_offset(r.json(), ref, 0)


async def _abort(client: GraphClient, upload_url: str, ref: str) -> None:
    """Delete an unfinished upload session (best effort; Graph also expires it)."""
    with contextlib.suppress(httpx.HTTPError, FileSourceError):
        await client.send("DELETE", upload_url, ref, what="abort upload", auth=False, retry_transport=True)


def private_name(name: str) -> str:
    """A safe local file name for a name from a drive."""
    base = os.path.basename(name.replace("\\", "/")).replace("\x00", "").strip()
    return (
        base if base not in ("", ".", "..") and not base.startswith(".") else f"download{Path(base).suffix}"
    )
