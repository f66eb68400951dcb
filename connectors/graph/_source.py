"""``GraphFileSource``: OneDrive and SharePoint files for skills, through Microsoft Graph."""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from dualtrack import FetchedFile, FileSourceError, MissingDependencyError, Redactor, RetryPolicy

from ._client import Credential, GraphClient, StaticToken
from ._refs import DriveRef, RefKind, is_graph_url, is_share_url, parse_ref, quote_path, share_id
from ._transfer import check_chunk_size, download, private_name, upload

__all__ = ["APP_SCOPE", "DELEGATED_SCOPE", "GRAPH_URL", "GraphFileSource"]

GRAPH_URL = "https://graph.microsoft.com/v1.0"
DELEGATED_SCOPE = "https://graph.microsoft.com/Files.ReadWrite"
"""People (device code): their own files and files shared with them; least privilege."""
APP_SCOPE = "https://graph.microsoft.com/.default"
"""Services (client credentials): the application permissions granted (Sites.ReadWrite.All)."""
_LABELLED = (".docx", ".docm", ".xlsx", ".xlsm", ".pptx", ".pptm", ".pdf")
_log = logging.getLogger("dualtrack.connectors.graph")


class GraphFileSource:
    """A :class:`~dualtrack.FileSource` for files in OneDrive and SharePoint.

    Args:
        credential: Bearer tokens: an :class:`~dualtrack.connectors.azure.EntraTokenProvider`
            (client secret, certificate or device code) or a :class:`StaticToken`.
        graph_url: The Graph root (another cloud, or a test server).
        onedrive_user: Whose OneDrive ``onedrive:`` names when signed in as a service
            (there is no ``/me`` then); people signed in use their own.
        hosts: Extra https hosts whose URLs are sharing links (``*.sharepoint.com``,
            ``1drv.ms`` and ``onedrive.live.com`` are always accepted).
        max_download_mb: Larger files are refused before (and while) downloading.
        simple_upload_max: Largest file uploaded in one PUT (bytes); larger ones use a session.
        chunk_size: Upload-session chunk (a multiple of 320 KiB, under 60 MiB).
        retry: Retries and waits for throttling (429/503 with ``Retry-After``).
        http: An ``httpx.AsyncClient`` (closed by its owner); ``None`` makes one.
        redactor: Masks tokens in logs and messages.
        timeout_s: Timeout of one HTTP request.
        name: The source's name in messages.
    """

    schemes = ("onedrive", "sharepoint", "https", "http")

    def __init__(
        self,
        credential: Credential,
        *,
        graph_url: str = GRAPH_URL,
        onedrive_user: str | None = None,
        hosts: tuple[str, ...] = (),
        max_download_mb: float = 200.0,
        simple_upload_max: int = 4 * 1024 * 1024 - 1,
        chunk_size: int = 10 * 320 * 1024,
        retry: RetryPolicy | None = None,
        http: httpx.AsyncClient | None = None,
        redactor: Redactor | None = None,
        timeout_s: float = 60.0,
        name: str = "m365",
    ) -> None:
        self.name = name
        self.graph = GraphClient(
            graph_url=graph_url, credential=credential, http=http, retry=retry, redactor=redactor,
            timeout_s=timeout_s,
        )  # fmt: skip
        self.onedrive_user = onedrive_user
        self.hosts = tuple(h.lower() for h in hosts)
        self.limit = int(max_download_mb * 1024 * 1024)
        self.simple_upload_max = simple_upload_max
        self.chunk_size = check_chunk_size(chunk_size)
        self._drives: dict[tuple[str, str], str] = {}

    @classmethod
    def from_settings(
        cls, settings: Mapping[str, Any], *, base_dir: Path | None = None, redactor: Redactor | None = None
    ) -> GraphFileSource:
        """Build from a ``[[file_sources]]`` table (``source = "m365"``); see the package docs.

        Raises:
            ValueError: A setting is missing or wrong (shown as a configuration error).
        """
        s = dict(settings)
        name = str(s.pop("name", "m365"))
        graph_url = str(s.pop("graph_url", GRAPH_URL))
        opts: dict[str, Any] = {
            k: s.pop(k)
            for k in ("onedrive_user", "max_download_mb", "simple_upload_max", "chunk_size", "timeout_s")
            if k in s
        }
        hosts = tuple(s.pop("hosts", ()))
        retry = RetryPolicy(**s.pop("retry")) if "retry" in s else None
        credential = _credential(s, base_dir, redactor)
        return cls(
            credential, graph_url=graph_url, hosts=hosts, retry=retry, redactor=redactor, name=name, **opts
        )

    # -- the FileSource protocol ------------------------------------------------------

    def accepts(self, ref: str) -> bool:
        """``onedrive:`` and ``sharepoint:`` references, sharing links and Graph drive-item URLs."""
        scheme = ref.partition(":")[0].lower()
        if scheme in ("onedrive", "sharepoint"):
            return True
        return is_graph_url(ref, self.graph.graph_url) or is_share_url(ref, self.hosts)

    async def fetch(self, ref: str, dest_dir: Path) -> FetchedFile:
        """Download the file ``ref`` names, with its eTag and sensitivity label."""
        target = parse_ref(ref, graph_url=self.graph.graph_url, hosts=self.hosts)
        r = await self.graph.send(
            "GET", await self._item_path(target), ref, what="reading the file's details"
        )
        item = r.json()
        if "folder" in item or "file" not in item:
            raise FileSourceError(ref, "is a folder or not a file; give a file", source=self.name)
        size = int(item.get("size") or 0)
        if size > self.limit:
            raise FileSourceError(
                ref,
                f"is {size / (1 << 20):.1f} MiB, over the download limit ({self.limit >> 20} MiB); "
                "raise max_download_mb for this file source if it should be read",
                source=self.name,
                reason="too-large",
            )
        parent = item.get("parentReference") or {}
        drive_id, item_id = str(parent.get("driveId") or target.drive), str(item["id"])
        name = str(item.get("name") or "download")
        local = dest_dir / private_name(name)
        base = f"/drives/{drive_id}/items/{item_id}"
        written = await download(self.graph, f"{base}/content", ref, local, limit=self.limit)
        label_id, label_error = await self._label(ref, base, name)
        return FetchedFile(
            ref=ref,
            path=local,
            name=name,
            source=self.name,
            etag=item.get("eTag"),
            size=written,
            label_id=label_id,
            label_error=label_error,
            locator={"drive_id": drive_id, "item_id": item_id, "parent_id": str(parent.get("id") or "")},
        )

    async def store(self, fetched: FetchedFile, local_output: Path, *, replace: bool) -> str:
        """Upload ``local_output`` next to ``fetched`` (or over it, if it is unchanged there)."""
        drive, item, parent = (fetched.locator[k] for k in ("drive_id", "item_id", "parent_id"))
        if replace:
            base = f"/drives/{drive}/items/{item}"
            simple, session, conflict = f"{base}/content", f"{base}/createUploadSession", "replace"
        else:
            if not parent:
                raise FileSourceError(
                    fetched.ref, "cannot tell which folder the file is in", source=self.name
                )
            base = f"/drives/{drive}/items/{parent}:/{quote_path(local_output.name)}:"
            simple = f"{base}/content?@microsoft.graph.conflictBehavior=rename"  # never overwrite
            session, conflict = f"{base}/createUploadSession", "rename"
        done = await upload(
            self.graph,
            local_output,
            fetched.ref,
            simple_url=simple,
            session_url=session,
            conflict=conflict,
            if_match=fetched.etag if replace else None,
            simple_max=self.simple_upload_max,
            chunk_size=self.chunk_size,
        )
        if replace:
            return fetched.ref
        target = parse_ref(fetched.ref, graph_url=self.graph.graph_url, hosts=self.hosts)
        new_name = str(done.get("name") or local_output.name)
        return target.sibling(
            new_name, graph_url=self.graph.graph_url, drive_id=drive, item_id=str(done.get("id"))
        )

    async def aclose(self) -> None:
        """Close the HTTP client (when this source made it)."""
        await self.graph.aclose()

    # -- helpers ----------------------------------------------------------------------

    async def _item_path(self, target: DriveRef) -> str:
        if target.kind is RefKind.ONEDRIVE:
            root = f"/users/{quote_path(self.onedrive_user)}/drive" if self.onedrive_user else "/me/drive"
            return f"{root}/root:/{quote_path(target.path)}"
        if target.kind is RefKind.SHAREPOINT:
            return f"/drives/{await self._drive_id(target)}/root:/{quote_path(target.path)}"
        if target.kind is RefKind.SHARE:
            return f"/shares/{share_id(target.url)}/driveItem"
        return f"/drives/{quote_path(target.drive)}/items/{quote_path(target.item)}"

    async def _drive_id(self, target: DriveRef) -> str:
        key = (target.site.lower(), target.drive.lower())
        if key not in self._drives:
            site = await self.graph.send(
                "GET", f"/sites/{quote_path(target.site)}", target.ref, what="finding the site"
            )
            site_id = str(site.json()["id"])
            r = await self.graph.send(
                "GET", f"/sites/{site_id}/drives", target.ref, what="listing the libraries"
            )
            drives = r.json().get("value") or []
            for d in drives:
                if target.drive.lower() in (str(d.get("name", "")).lower(), str(d.get("id", "")).lower()):
                    self._drives[key] = str(d["id"])
                    break
            else:
                names = ", ".join(str(d.get("name")) for d in drives) or "none"
                raise FileSourceError(
                    target.ref, f"the site has no library {target.drive!r} (it has: {names})",
                    source=self.name, reason="not-found",
                )  # fmt: skip
        return self._drives[key]

    async def _label(self, ref: str, base: str, name: str) -> tuple[str | None, str | None]:
        """The sensitivity label id Graph reads from the file, or why it could not."""
        if not name.lower().endswith(_LABELLED):
            return None, None  # Graph reads labels of Office files and PDFs only
        try:
            r = await self.graph.send(
                "POST", f"{base}/extractSensitivityLabels", ref, what="reading the label"
            )
        except FileSourceError as exc:
            if exc.reason == "locked":
                raise
            _log.warning("the sensitivity label of %s could not be read: %s", name, exc.reason)
            return None, f"Graph could not read the label ({exc.reason})"
        labels = (r.json() or {}).get("labels") or []
        ids = [
            str(x.get("sensitivityLabelId"))
            for x in labels
            if isinstance(x, dict) and x.get("sensitivityLabelId")
        ]
        if labels and not ids:
            return None, "Graph returned a label without an id"
        return (ids[0] if ids else None), None


def _credential(s: dict[str, Any], base_dir: Path | None, redactor: Redactor | None) -> Credential:
    if s.get("access_token"):
        token = str(s.pop("access_token"))
        if redactor is not None:
            redactor.add(token)
        _no_extra(s)
        return StaticToken(token)
    if importlib.util.find_spec("msal") is None:
        raise MissingDependencyError("the m365 file source", "msal", "pip install 'dualtrack[m365]'")
    from dualtrack.connectors.azure import EntraTokenProvider

    auth = str(s.pop("auth", "client-secret" if s.get("client_secret") else "device-code"))
    cert = s.pop("client_certificate_path", None)
    if cert is not None and base_dir is not None and not Path(cert).expanduser().is_absolute():
        cert = base_dir / cert
    if cert is not None:
        auth = "client-certificate"
    device = auth == "device-code"
    cache = s.pop("token_cache", None)
    provider = EntraTokenProvider(
        client_id=str(s.pop("client_id", "")),
        tenant_id=s.pop("tenant_id", None),
        authority=s.pop("authority", None),
        client_secret=s.pop("client_secret", None),
        certificate_path=cert,
        certificate_password=s.pop("certificate_password", None),
        device_code=device,
        scope=str(s.pop("scope", DELEGATED_SCOPE if device else APP_SCOPE)),
        cache_path=False if cache is False else cache,
        redactor=redactor,
    )
    _no_extra(s)
    return provider


def _no_extra(s: Mapping[str, Any]) -> None:
    if s:
        raise ValueError(f"unknown setting(s) for the m365 file source: {', '.join(sorted(s))}")
