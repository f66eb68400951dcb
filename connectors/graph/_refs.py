"""References to files in OneDrive and SharePoint, and the Graph paths they map to.

Accepted references and the Graph request each one becomes:

- ``onedrive:/Reports/q3.docx``: ``/me/drive/root:/Reports/q3.docx`` (``/users/{user}/drive/...``
  when signed in as a service, with ``onedrive_user``).
- ``sharepoint://contoso.sharepoint.com/sites/Fin/Documents/q3.xlsx``: the site
  ``contoso.sharepoint.com:/sites/Fin``, its library ``Documents``, the path ``q3.xlsx``;
  ``sharepoint://{site id}/{library name or id}/q3.xlsx`` names the site by id.
- ``https://contoso.sharepoint.com/:w:/s/Fin/EaBc...`` (a sharing link or a file's web URL):
  ``/shares/u!{base64url}/driveItem``.
- ``https://graph.microsoft.com/v1.0/drives/{d}/items/{i}``: ``/drives/{d}/items/{i}``.
"""

from __future__ import annotations

import base64
import enum
import re
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from dualtrack import FileReferenceError

__all__ = ["DriveRef", "RefKind", "is_graph_url", "is_share_url", "parse_ref", "quote_path", "share_id"]

_SOURCE = "m365"
_SHARE_HOSTS = (
    "sharepoint.com",
    "sharepoint.us",
    "sharepoint.de",
    "sharepoint.cn",
    "1drv.ms",
    "onedrive.live.com",
)
_ITEM_PATH = re.compile(r"^/(?:v1\.0|beta)?/?drives/([^/]+)/items/([^/]+)/?$")
_BAD_CHARS = re.compile(r'[\x00-\x1f"*:<>?|\\]')


class RefKind(enum.Enum):
    """How a reference names its file."""

    ONEDRIVE = "onedrive"
    """A path in the signed-in person's OneDrive (or the configured user's, app-only)."""
    SHAREPOINT = "sharepoint"
    """A path in a SharePoint document library."""
    SHARE = "share"
    """A sharing link or a web URL of a file."""
    ITEM = "item"
    """A Graph drive-item URL (drive id and item id)."""


@dataclass(frozen=True, kw_only=True)
class DriveRef:
    """A parsed reference.

    Attributes:
        kind: How it names its file.
        ref: The reference as given.
        path: The path inside the drive (``Reports/q3.docx``), for path references.
        site: ``hostname:/sites/Name`` or a site id (SharePoint).
        drive: The library's name or id (SharePoint), or the drive id (items).
        item: The item id (items).
        url: The sharing or web URL (shares).
    """

    kind: RefKind
    ref: str
    path: str = ""
    site: str = ""
    drive: str = ""
    item: str = ""
    url: str = ""

    def sibling(self, name: str, *, graph_url: str, drive_id: str, item_id: str) -> str:
        """The reference of a file called ``name`` next to this one (or of ``item_id``)."""
        parent = self.path.rpartition("/")[0]
        path = f"{parent}/{name}" if parent else name
        if self.kind is RefKind.ONEDRIVE:
            return f"onedrive:/{path}"
        if self.kind is RefKind.SHAREPOINT:
            return f"sharepoint://{self.site.replace(':/', '/', 1)}/{self.drive}/{path}"
        return f"{graph_url.rstrip('/')}/drives/{drive_id}/items/{item_id}"


def _bad(ref: str, why: str) -> FileReferenceError:
    return FileReferenceError(ref, why, source=_SOURCE)


def _clean_path(ref: str, raw: str) -> str:
    parts = [p for p in unquote(raw).split("/") if p != ""]
    if not parts:
        raise _bad(ref, "names no file; give a path such as onedrive:/Reports/q3.docx")
    for p in parts:
        if p in (".", "..") or _BAD_CHARS.search(p) or p != p.strip():
            raise _bad(ref, f"has a path segment OneDrive and SharePoint do not allow: {p[:60]!r}")
    if raw.endswith("/"):
        raise _bad(ref, "names a folder; give a file")
    return "/".join(parts)


def is_graph_url(ref: str, graph_url: str) -> bool:
    """Whether ``ref`` is a drive-item URL of this Graph endpoint (or of graph.microsoft.com)."""
    u, g = urlsplit(ref), urlsplit(graph_url)
    return u.netloc.lower() in (g.netloc.lower(), "graph.microsoft.com") and "/drives/" in u.path


def is_share_url(ref: str, hosts: tuple[str, ...] = ()) -> bool:
    """Whether ``ref`` is an https URL on a OneDrive or SharePoint host."""
    u = urlsplit(ref)
    host = (u.hostname or "").lower()
    return u.scheme == "https" and any(host == h or host.endswith("." + h) for h in (*_SHARE_HOSTS, *hosts))


def parse_ref(ref: str, *, graph_url: str, hosts: tuple[str, ...] = ()) -> DriveRef:
    """Parse a reference.

    Raises:
        FileReferenceError: Naming what is wrong and the forms accepted.
    """
    if len(ref) > 2048:
        raise _bad(ref[:80] + "...", "is longer than any OneDrive or SharePoint reference")
    scheme, _, rest = ref.partition(":")
    scheme = scheme.lower()
    if scheme == "onedrive":
        if rest.startswith("//"):
            raise _bad(ref, "write onedrive:/Folder/file.docx (one slash)")
        return DriveRef(kind=RefKind.ONEDRIVE, ref=ref, path=_clean_path(ref, rest))
    if scheme == "sharepoint":
        return _sharepoint(ref, rest)
    if scheme in ("https", "http") and is_graph_url(ref, graph_url):
        path = urlsplit(ref).path
        base = urlsplit(graph_url).path.rstrip("/")
        m = _ITEM_PATH.match(path[len(base) :] if base and path.startswith(base) else path)
        if not m:
            raise _bad(ref, "is a Graph URL but not of a drive item (…/drives/{drive-id}/items/{item-id})")
        return DriveRef(kind=RefKind.ITEM, ref=ref, drive=unquote(m.group(1)), item=unquote(m.group(2)))
    if scheme == "https" and is_share_url(ref, hosts):
        return DriveRef(kind=RefKind.SHARE, ref=ref, url=ref)
    raise _bad(
        ref,
        "is not a Microsoft 365 file reference; use onedrive:/path, "
        "sharepoint://host/sites/Site/Library/path, a sharing link, or a Graph drive-item URL",
    )


def _sharepoint(ref: str, rest: str) -> DriveRef:
    if not rest.startswith("//"):
        raise _bad(ref, "write sharepoint://contoso.sharepoint.com/sites/Site/Library/path/file.docx")
    parts = rest[2:].split("/")
    if len(parts) >= 4 and parts[1].lower() in ("sites", "teams"):
        site = f"{parts[0]}:/{parts[1]}/{unquote(parts[2])}"
        drive, path = unquote(parts[3]), "/".join(parts[4:])
    elif len(parts) >= 3 and "," in parts[0]:
        site, drive, path = unquote(parts[0]), unquote(parts[1]), "/".join(parts[2:])
    else:
        raise _bad(
            ref,
            "needs a site, a library and a path: sharepoint://contoso.sharepoint.com/sites/Site/Documents/"
            "q3.docx (or sharepoint://{site-id}/{library}/q3.docx)",
        )
    if not drive or not site.split(":")[0]:
        raise _bad(ref, "names no site or library")
    return DriveRef(kind=RefKind.SHAREPOINT, ref=ref, site=site, drive=drive, path=_clean_path(ref, path))


def quote_path(path: str) -> str:
    """A drive path for a Graph URL (``/`` kept, everything else percent-encoded)."""
    return quote(path, safe="/")


def share_id(url: str) -> str:
    """The ``u!…`` id Graph's ``/shares`` API takes for a sharing URL."""
    return "u!" + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")
