"""Safe file handling for skills: atomic writes, package checks, sensitivity labels.

Office files (.docx, .xlsx) are zip packages. Before a plugin hands one to
python-docx or openpyxl, :func:`inspect_package` rejects what must never be
parsed: non-zips, truncated zips, zip bombs, encrypted (password-protected)
files, XML with DTDs or entities, and content types the caller did not ask for.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from xml.etree import ElementTree

from .._errors import InputFileError
from ._xmlsafe import declares_dtd

__all__ = ["PackageInfo", "atomic_write", "inspect_package"]

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_CT_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "wb") -> Iterator[IO[Any]]:
    """Write a file atomically: a temporary sibling, flushed, then renamed.

    Readers see either the old file or the whole new one, never a half-written
    file; on error the temporary file is removed and the target is untouched.

    Args:
        path: The destination.
        mode: ``"wb"`` or ``"w"``.

    Yields:
        The open temporary file.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        if target.exists():
            os.chmod(tmp, target.stat().st_mode & 0o777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@dataclass(slots=True)
class PackageInfo:
    """What an Office package holds.

    Attributes:
        main_type: The content type of the main part (document, workbook ...).
        parts: Every part name in the zip.
        content_types: Part name → content type from ``[Content_Types].xml`` overrides.
        uncompressed_size: Sum of the declared uncompressed sizes.
    """

    main_type: str
    parts: list[str]
    content_types: dict[str, str] = field(default_factory=dict)
    uncompressed_size: int = 0

    def has(self, prefix: str) -> bool:
        """Whether any part name starts with ``prefix`` (e.g. ``xl/media/``)."""
        return any(p.startswith(prefix) for p in self.parts)


def inspect_package(
    path: str | Path,
    main_types: Iterable[str],
    *,
    max_uncompressed: int = 1 << 30,
    max_ratio: float = 200.0,
    max_parts: int = 20_000,
) -> PackageInfo:
    """Check an Office package before parsing it.

    Args:
        path: The file.
        main_types: Accepted content types of the main part.
        max_uncompressed: Largest total declared uncompressed size.
        max_ratio: Largest compression ratio of any sizeable part (bomb guard).
        max_parts: Most parts a package may hold.

    Returns:
        What the package holds.

    Raises:
        InputFileError: With a clear reason; the file is never modified.
    """
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise InputFileError(str(p), f"cannot be read ({exc.strerror})") from exc
    if head == _OLE_MAGIC:
        raise InputFileError(
            str(p), "is password-protected (encrypted) or a legacy binary file; save an unprotected copy"
        )
    if not zipfile.is_zipfile(p):
        raise InputFileError(str(p), "is not an Office Open XML file (not a zip package) or is truncated")
    try:
        with zipfile.ZipFile(p) as zf:
            infos = zf.infolist()
            if len(infos) > max_parts:
                raise InputFileError(str(p), f"has {len(infos)} parts (limit {max_parts}); refusing to open")
            total = 0
            for info in infos:
                total += info.file_size
                if info.file_size > (1 << 20) and info.file_size > max_ratio * max(info.compress_size, 1):
                    raise InputFileError(
                        str(p), f"part {info.filename} expands {info.file_size} bytes (zip bomb?)"
                    )
            if total > max_uncompressed:
                raise InputFileError(
                    str(p), f"declares {total} uncompressed bytes (limit {max_uncompressed})"
                )
            names = [i.filename for i in infos]
            if "[Content_Types].xml" not in names:
                raise InputFileError(str(p), "has no [Content_Types].xml; it is not an Office document")
            for info in infos:
                if info.filename.endswith((".xml", ".rels")):
                    with zf.open(info) as part:
                        if declares_dtd(part):
                            raise InputFileError(
                                str(p), f"part {info.filename} declares a DTD; refusing XML entity tricks"
                            )
            overrides = _content_types(zf.read("[Content_Types].xml"), str(p))
    except zipfile.BadZipFile as exc:
        raise InputFileError(str(p), f"is a damaged zip package ({exc})") from exc
    accepted = set(main_types)
    main = next((ct for ct in overrides.values() if ct in accepted), None)
    if main is None:
        found = sorted({ct for ct in overrides.values() if ct.endswith(".main+xml")}) or ["none"]
        raise InputFileError(
            str(p), f"has main content type {', '.join(found)}; expected {' or '.join(sorted(accepted))}"
        )
    return PackageInfo(main, names, overrides, total)


def _content_types(data: bytes, where: str) -> dict[str, str]:
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise InputFileError(where, f"has a broken [Content_Types].xml ({exc})") from exc
    return {
        el.get("PartName", "").lstrip("/"): el.get("ContentType", "") for el in root.iter(f"{_CT_NS}Override")
    }
