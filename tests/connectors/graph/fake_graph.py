"""A fake Microsoft Graph (drives, sites, shares, upload sessions) on 127.0.0.1.

It behaves like the real service where the m365 file source depends on it:

- every ``/v1.0`` request needs ``Authorization: Bearer <token>`` with a token in
  ``valid_tokens`` (else ``401 InvalidAuthenticationToken``);
- ``GET .../content`` answers ``302`` to a pre-authenticated ``/download/...`` URL that
  *rejects* any request carrying an Authorization header (``401``);
- ``PUT .../content`` and ``createUploadSession`` honour ``If-Match`` (``412``) and
  ``@microsoft.graph.conflictBehavior`` (``rename`` picks ``name 1.ext``, ``fail`` → ``409``);
- upload sessions take ``Content-Range`` chunks that are multiples of 320 KiB (except the
  last) and under 60 MiB, answer ``202`` with ``nextExpectedRanges``, reject chunk PUTs that
  carry an Authorization header, can be queried (``GET``) and deleted (``DELETE``);
- a locked item answers ``423``; ``extractSensitivityLabels`` returns the item's label;
- ``throttle`` queues answers such as ``(429, "2")`` (status, Retry-After) for the next requests.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

CHUNK_UNIT = 320 * 1024
ME_DRIVE = "drive-me"
SITE_HOST = "contoso.sharepoint.com"
SITE_ID = "contoso.sharepoint.com,5a58bb09-1fba-41c1-8125-69da264370a0,9f2ec1da-0be4-4a74-9254-973f0add78fd"
SITE_DRIVE = "drive-finance"


@dataclass
class Item:
    id: str
    name: str
    parent: str | None
    drive: str
    content: bytes | None = None  # None: a folder
    version: int = 1
    locked: bool = False
    label_id: str | None = None
    label_status: int = 200  # what extractSensitivityLabels answers
    reported_size: int | None = None  # a size the metadata claims instead of the real one

    @property
    def etag(self) -> str:
        return f'"{{{self.id}}},{self.version}"'


@dataclass
class Session:
    id: str
    drive: str
    parent: str
    name: str
    target: str | None  # an item to replace
    conflict: str
    received: bytearray = field(default_factory=bytearray)
    chunks: list[tuple[int, int]] = field(default_factory=list)
    deleted: bool = False


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]


class FakeGraph:
    """Start with :meth:`start`; add files with :meth:`add`; inspect ``requests``, ``sessions``."""

    def __init__(self) -> None:
        self.items: dict[str, Item] = {}
        self.valid_tokens: set[str] = set()
        self.requests: list[Seen] = []
        self.sessions: dict[str, Session] = {}
        self.throttle: list[tuple[int, str | None]] = []
        self.fail_chunks: set[int] = set()  # chunk numbers (0-based, counted per server) answered 500 once
        self.delay_s: dict[str, float] = {}  # path substring -> seconds to sleep before answering
        self.shares: dict[str, str] = {}  # sharing URL -> item id
        self.users = {"ada@contoso.test": ME_DRIVE}
        self._ids = itertools.count(100)
        self._chunk_no = itertools.count()
        self._lock = threading.Lock()
        for drive in (ME_DRIVE, SITE_DRIVE):
            self.items[f"root-{drive}"] = Item(id=f"root-{drive}", name="root", parent=None, drive=drive)
        self._server: ThreadingHTTPServer | None = None

    # -- setup ------------------------------------------------------------------------

    @property
    def root(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def graph_url(self) -> str:
        return f"{self.root}/v1.0"

    def start(self) -> FakeGraph:
        graph = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _any(self) -> None:
                graph._handle(self)

            do_GET = do_PUT = do_POST = do_DELETE = _any

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def add(self, path: str, content: bytes, *, drive: str = ME_DRIVE, label_id: str | None = None) -> Item:
        """Add a file at ``path`` (folders made as needed)."""
        parent = f"root-{drive}"
        *folders, name = [p for p in path.split("/") if p]
        for f in folders:
            found = self._child(drive, parent, f)
            if found is None:
                found = self._new(drive, parent, f, None)
            parent = found.id
        item = self._new(drive, parent, name, content)
        item.label_id = label_id
        return item

    def file(self, path: str, drive: str = ME_DRIVE) -> Item | None:
        return self._walk(drive, path)

    def change(self, item: Item, content: bytes) -> None:
        """Someone else edits the file: new content, new eTag."""
        item.content = content
        item.version += 1

    def names(self, drive: str = ME_DRIVE) -> list[str]:
        return sorted(
            self._path(i) for i in self.items.values() if i.drive == drive and i.content is not None
        )

    # -- internals --------------------------------------------------------------------

    def _new(self, drive: str, parent: str, name: str, content: bytes | None) -> Item:
        item = Item(id=f"item-{next(self._ids)}", name=name, parent=parent, drive=drive, content=content)
        self.items[item.id] = item
        return item

    def _child(self, drive: str, parent: str, name: str) -> Item | None:
        for i in self.items.values():
            if i.drive == drive and i.parent == parent and i.name.lower() == name.lower():
                return i
        return None

    def _walk(self, drive: str, path: str) -> Item | None:
        cur: Item | None = self.items[f"root-{drive}"]
        for part in [p for p in path.split("/") if p]:
            cur = self._child(drive, cur.id, part) if cur else None
        return cur

    def _path(self, item: Item) -> str:
        parts = []
        cur: Item | None = item
        while cur is not None and cur.parent is not None:
            parts.append(cur.name)
            cur = self.items.get(cur.parent)
        return "/".join(reversed(parts))

    def _json(self, item: Item) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": item.id,
            "name": item.name,
            "eTag": item.etag,
            "cTag": f'"c:{{{item.id}}},{item.version}"',
            "parentReference": {"driveId": item.drive, "id": item.parent or ""},
            "webUrl": f"https://{SITE_HOST}/personal/{item.id}",
        }
        if item.content is None:
            data["folder"] = {"childCount": 0}
        else:
            data["file"] = {"mimeType": "application/octet-stream"}
            data["size"] = len(item.content) if item.reported_size is None else item.reported_size
        return data

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        url = urlsplit(h.path)
        path = unquote(url.path)
        query = parse_qs(url.query)
        headers = {k.lower(): v for k, v in h.headers.items()}
        length = int(headers.get("content-length") or 0)
        body = h.rfile.read(length) if length else b""
        with self._lock:
            self.requests.append(Seen(h.command, path, headers))
        for needle, delay in self.delay_s.items():
            if needle in path:
                time.sleep(delay)
        status, out_headers, payload = self._route(h.command, path, query, headers, body)
        data = (
            payload
            if isinstance(payload, bytes)
            else json.dumps(payload).encode()
            if payload is not None
            else b""
        )
        try:
            h.send_response(status)
            for k, v in out_headers.items():
                h.send_header(k, v)
            if not isinstance(payload, bytes):
                h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    @staticmethod
    def _err(status: int, code: str, message: str, **headers: str) -> tuple[int, dict[str, str], Any]:
        return status, headers, {"error": {"code": code, "message": message}}

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        if path.startswith("/download/"):
            return self._download(path, headers)
        if path.startswith("/upload/"):
            return self._upload(method, path, headers, body)
        if not path.startswith("/v1.0/"):
            return self._err(404, "notFound", "unknown path")
        auth = headers.get("authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.valid_tokens:
            return self._err(
                401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid."
            )
        if self.throttle:
            status, after = self.throttle.pop(0)
            extra = {"Retry-After": after} if after is not None else {}
            return self._err(
                status, "TooManyRequests" if status == 429 else "serviceNotAvailable", "slow down", **extra
            )
        return self._api(method, path[len("/v1.0") :], query, headers, body)

    def _api(
        self, method: str, p: str, query: dict[str, list[str]], headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        if m := re.fullmatch(r"/sites/([^/:]+):/(sites|teams)/([^/]+)", p):
            if m.group(1) == SITE_HOST and m.group(3) == "Finance":
                return 200, {}, {"id": SITE_ID, "name": "Finance"}
            return self._err(404, "itemNotFound", "site not found")
        if m := re.fullmatch(r"/sites/([^/]+)/drives", p):
            if m.group(1) != SITE_ID:
                return self._err(404, "itemNotFound", "site not found")
            return 200, {}, {"value": [{"id": SITE_DRIVE, "name": "Documents"}]}
        if m := re.fullmatch(r"/shares/u!([A-Za-z0-9_-]+)/driveItem", m_path := p):
            url = base64.urlsafe_b64decode(m.group(1) + "=" * (-len(m.group(1)) % 4)).decode()
            item = self.items.get(self.shares.get(url, ""))
            return (200, {}, self._json(item)) if item else self._err(404, "itemNotFound", "no such share")
        del m_path
        drive, rest = self._drive_of(p)
        if drive is None:
            return self._err(404, "itemNotFound", "unknown drive")
        # /root:/a/b.docx   /items/{id}   /items/{parent}:/{name}:/content|createUploadSession
        if m := re.fullmatch(r"/root:/(.+?)", rest):
            item = self._walk(drive, m.group(1))
            return (
                (200, {}, self._json(item))
                if item
                else self._err(404, "itemNotFound", "The resource could not be found.")
            )
        if m := re.fullmatch(r"/items/([^/:]+):/([^/:]+):/(content|createUploadSession)", rest):
            parent = self.items.get(m.group(1))
            if parent is None or parent.drive != drive:
                return self._err(404, "itemNotFound", "parent not found")
            conflict = (query.get("@microsoft.graph.conflictBehavior") or ["fail"])[0]
            if m.group(3) == "createUploadSession":
                conflict = (
                    json.loads(body or b"{}").get("item", {}).get("@microsoft.graph.conflictBehavior", "fail")
                )
                return self._session(drive, parent.id, m.group(2), None, conflict)
            if method != "PUT":
                return self._err(405, "invalidRequest", "method")
            return self._create(drive, parent.id, m.group(2), body, conflict)
        if m := re.fullmatch(
            r"/items/([^/:]+)(/content|/extractSensitivityLabels|/createUploadSession)?", rest
        ):
            item = self.items.get(m.group(1))
            if item is None or item.drive != drive:
                return self._err(404, "itemNotFound", "The resource could not be found.")
            action = m.group(2) or ""
            if action == "":
                return 200, {}, self._json(item)
            if item.locked:
                return self._err(423, "resourceLocked", "The resource you are attempting to access is locked")
            if action == "/extractSensitivityLabels":
                if item.label_status != 200:
                    return self._err(item.label_status, "generalException", "label service failed")
                labels = (
                    []
                    if item.label_id is None
                    else [
                        {
                            "sensitivityLabelId": item.label_id,
                            "assignmentMethod": "standard",
                            "tenantId": "tenant",
                        }
                    ]
                )
                return 200, {}, {"labels": labels}
            if_match = headers.get("if-match")
            if if_match is not None and if_match != item.etag:
                return self._err(412, "notAllowed", "ETag does not match current item's value")
            if action == "/createUploadSession":
                conflict = (
                    json.loads(body or b"{}")
                    .get("item", {})
                    .get("@microsoft.graph.conflictBehavior", "replace")
                )
                return self._session(drive, item.parent or "", item.name, item.id, conflict)
            if method == "GET":
                nonce = f"{item.id}/{item.version}/tempauth-{next(self._ids)}"
                return 302, {"Location": f"{self.root}/download/{nonce}"}, None
            if method == "PUT":
                self.change(item, body)
                return 200, {}, self._json(item)
        return self._err(400, "invalidRequest", f"the fake does not know {method} {p}")

    def _drive_of(self, p: str) -> tuple[str | None, str]:
        if p.startswith("/me/drive"):
            return ME_DRIVE, p[len("/me/drive") :]
        if m := re.match(r"/users/([^/]+)/drive(.*)", p):
            return self.users.get(m.group(1)), m.group(2)
        if m := re.match(r"/drives/([^/]+)(.*)", p):
            known = {i.drive for i in self.items.values()}
            return (m.group(1) if m.group(1) in known else None), m.group(2)
        return None, ""

    def _free_name(self, drive: str, parent: str, name: str) -> str:
        stem, dot, ext = name.rpartition(".")
        if not dot:
            stem, ext = name, ""
        n = 1
        candidate = name
        while self._child(drive, parent, candidate) is not None:
            candidate = f"{stem} {n}{dot}{ext}"
            n += 1
        return candidate

    def _create(
        self, drive: str, parent: str, name: str, content: bytes, conflict: str
    ) -> tuple[int, dict[str, str], Any]:
        existing = self._child(drive, parent, name)
        if existing is not None:
            if conflict == "rename":
                name = self._free_name(drive, parent, name)
            elif conflict == "replace":
                self.change(existing, content)
                return 200, {}, self._json(existing)
            else:
                return self._err(409, "nameAlreadyExists", "The specified item name already exists.")
        return 201, {}, self._json(self._new(drive, parent, name, content))

    def _session(
        self, drive: str, parent: str, name: str, target: str | None, conflict: str
    ) -> tuple[int, dict[str, str], Any]:
        sid = f"sess-{next(self._ids)}"
        self.sessions[sid] = Session(
            id=sid, drive=drive, parent=parent, name=name, target=target, conflict=conflict
        )
        return (
            200,
            {},
            {
                "uploadUrl": f"{self.root}/upload/{sid}?tempauth=xyz",
                "expirationDateTime": "2099-01-01T00:00:00Z",
                "nextExpectedRanges": ["0-"],
            },
        )

    def _upload(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        if "authorization" in headers:
            return self._err(401, "unauthenticated", "An Authorization header is not allowed on upload URLs")
        s = self.sessions.get(path.split("/")[2])
        if s is None or s.deleted:
            return self._err(404, "itemNotFound", "The upload session was not found")
        if method == "DELETE":
            s.deleted = True
            return 204, {}, None
        if method == "GET":
            return 200, {}, {"nextExpectedRanges": [f"{len(s.received)}-"]}
        m = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", headers.get("content-range", ""))
        if not m:
            return self._err(400, "invalidRange", "Content-Range missing")
        start, end, total = (int(g) for g in m.groups())
        size = end - start + 1
        if size != len(body) or start != len(s.received):
            return self._err(416, "invalidRange", f"expected bytes from {len(s.received)}")
        if size >= 60 * 1024 * 1024 or (end + 1 < total and size % CHUNK_UNIT):
            return self._err(400, "invalidRange", "chunks must be multiples of 320 KiB under 60 MiB")
        if next(self._chunk_no) in self.fail_chunks:
            return self._err(500, "generalException", "chunk lost")  # nothing of it was kept
        s.received += body
        s.chunks.append((start, end))
        if end + 1 < total:
            return (
                202,
                {},
                {"nextExpectedRanges": [f"{end + 1}-"], "expirationDateTime": "2099-01-01T00:00:00Z"},
            )
        if s.target is not None:
            item = self.items[s.target]
            self.change(item, bytes(s.received))
            return 200, {}, self._json(item)
        return self._create(s.drive, s.parent, s.name, bytes(s.received), s.conflict)

    def _download(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        if "authorization" in headers:
            return self._err(401, "unauthenticated", "pre-authenticated URLs reject an Authorization header")
        _, _, item_id, version, _nonce = path.split("/", 4)
        item = self.items.get(item_id)
        if item is None or item.content is None or str(item.version) != version:
            return self._err(404, "itemNotFound", "expired")
        return 200, {"Content-Type": "application/octet-stream"}, item.content
