"""Checking an Office package before any parser reads it.

Office files (.docx, .xlsx) are zip packages. Before a plugin hands one to
python-docx or openpyxl, :func:`inspect_package` rejects what must never be
parsed: non-zips, truncated zips, encrypted (password-protected) files, zip
bombs (one part, or many parts that together expand far beyond what a file of
that size holds), too many parts, part names that collide, content types the
caller did not ask for, and any XML part that declares a DTD. A part counts as
XML by its content type *or* by its content, never by its file name, so a
renamed ``sharedStrings.XML`` or a part without an extension is checked too.
"""

from __future__ import annotations

import os
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from xml.etree import ElementTree

from .._errors import InputFileError
from ._partnames import OLE_MAGIC, PartIndex, part_key
from ._xmlsafe import declares_dtd, looks_like_xml

__all__ = ["PackageInfo", "inspect_package"]

_CONTENT_TYPES = "[Content_Types].xml"
_MB = 1 << 20


@dataclass(slots=True)
class PackageInfo:
    """What an Office package holds.

    Attributes:
        main_type: The content type of the main part (document, workbook ...).
        parts: Every part name in the zip.
        content_types: Part name → content type from ``[Content_Types].xml`` overrides
            (the zip entry's own name where the override names an existing part).
        uncompressed_size: Sum of the declared uncompressed sizes.
        xml_parts: The parts checked as XML (by content type or content).
    """

    main_type: str
    parts: list[str]
    content_types: dict[str, str] = field(default_factory=dict)
    uncompressed_size: int = 0
    xml_parts: list[str] = field(default_factory=list)

    def has(self, prefix: str) -> bool:
        """Whether any part name starts with ``prefix`` (e.g. ``xl/media/``)."""
        return any(p.startswith(prefix) for p in self.parts)


def inspect_package(
    path: str | Path,
    main_types: Iterable[str],
    *,
    max_uncompressed: int = 1 << 30,
    max_ratio: float = 200.0,
    max_parts: int = 5_000,
    max_total_ratio: float = 100.0,
    min_budget: int = 64 << 20,
) -> PackageInfo:
    """Check an Office package before parsing it.

    The total uncompressed size may be at most ``max_total_ratio`` times the
    file's size on disk (at least ``min_budget``, at most ``max_uncompressed``):
    real documents compress XML 5-20 fold and media not at all, so a package
    that expands further is a bomb, however its parts are split.

    Args:
        path: The file.
        main_types: Accepted content types of the main part.
        max_uncompressed: Largest total declared uncompressed size, whatever the file size.
        max_ratio: Largest compression ratio of any part over 1 MiB.
        max_parts: Most parts a package may hold.
        max_total_ratio: Largest ratio of the total uncompressed size to the file size.
        min_budget: Uncompressed bytes any file may hold, however small it is.

    Returns:
        What the package holds.

    Raises:
        InputFileError: With a clear reason; the file is never modified.
    """
    p = Path(path)
    limits = _Limits(
        uncompressed=max_uncompressed,
        ratio=max_ratio,
        parts=max_parts,
        total_ratio=max_total_ratio,
        floor=min_budget,
    )
    try:
        fh = open(p, "rb")  # opened once: the magic bytes, the size, the zip check and the parts
    except OSError as exc:
        raise InputFileError(str(p), f"cannot be read ({exc.strerror})") from exc
    with fh:
        return _inspect(fh, str(p), set(main_types), limits)


def _inspect(fh: IO[bytes], where: str, accepted: set[str], limits: _Limits) -> PackageInfo:
    try:
        head = fh.read(8)
        on_disk = os.fstat(fh.fileno()).st_size
    except OSError as exc:
        raise InputFileError(where, f"cannot be read ({exc.strerror})") from exc
    if head == OLE_MAGIC:
        raise InputFileError(
            where, "is password-protected (encrypted) or a legacy binary file; save an unprotected copy"
        )
    if not zipfile.is_zipfile(fh):
        raise InputFileError(where, "is not an Office Open XML file (not a zip package) or is truncated")
    try:
        with zipfile.ZipFile(fh) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            total = limits.check(where, infos, on_disk)
            index = PartIndex(zf)
            clashes = index.duplicates()
            if clashes:
                raise InputFileError(
                    where, f"holds part {clashes[0]} more than once (names differ only in case or encoding)"
                )
            if _CONTENT_TYPES not in zf.namelist():
                raise InputFileError(where, "has no [Content_Types].xml; it is not an Office document")
            defaults, overrides = _content_types(zf, zf.getinfo(_CONTENT_TYPES), where)
            by_key = {part_key(name): ct for name, ct in overrides.items()}
            xml_parts = [i.filename for i in infos if _is_xml(zf, i, defaults, by_key, where)]
            content_types = {
                (found[0].filename if (found := index.find(name)) else name): ct
                for name, ct in overrides.items()
            }
    except zipfile.BadZipFile as exc:
        raise InputFileError(where, f"is a damaged zip package ({exc})") from exc
    main = next((ct for ct in content_types.values() if ct in accepted), None)
    if main is None:
        found_types = sorted({ct for ct in content_types.values() if ct.endswith(".main+xml")}) or ["none"]
        raise InputFileError(
            where,
            f"has main content type {', '.join(found_types)}; expected {' or '.join(sorted(accepted))}",
        )
    return PackageInfo(main, [i.filename for i in infos], content_types, total, xml_parts)


@dataclass(frozen=True, kw_only=True, slots=True)
class _Limits:
    """The size limits of :func:`inspect_package` (see its arguments)."""

    uncompressed: int
    ratio: float
    parts: int
    total_ratio: float
    floor: int

    def check(self, where: str, infos: list[zipfile.ZipInfo], on_disk: int) -> int:
        """Refuse too many parts, one part that expands too far, or too much in total."""
        if len(infos) > self.parts:
            raise InputFileError(where, f"has {len(infos)} parts (limit {self.parts}); refusing to open")
        total = 0
        for info in infos:
            total += info.file_size
            if info.file_size > _MB and info.file_size > self.ratio * max(info.compress_size, 1):
                raise InputFileError(
                    where, f"part {info.filename} expands {info.file_size} bytes (zip bomb?)"
                )
        budget = int(min(self.uncompressed, max(self.floor, self.total_ratio * on_disk)))
        if total > budget:
            raise InputFileError(
                where,
                f"expands to {total / _MB:.1f} MB from {on_disk / _MB:.1f} MB on disk "
                f"({len(infos)} parts; limit {budget / _MB:.1f} MB: {self.total_ratio:g}x the file size, "
                f"at least {self.floor / _MB:.0f} MB, at most {self.uncompressed / _MB:.0f} MB); "
                "a possible zip bomb, refusing to open",
            )
        return total


def _zip_name(index: PartIndex, name: str) -> str:
    found = index.find(name)
    return found[0].filename if found else name


def _content_types(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, where: str
) -> tuple[dict[str, str], dict[str, str]]:
    """Extension (case-folded) → content type, and part key → content type."""
    with zf.open(info) as part:
        if declares_dtd(part):
            raise InputFileError(where, f"part {_CONTENT_TYPES} declares a DTD; refusing XML entity tricks")
    try:
        root = ElementTree.fromstring(zf.read(info))
    except ElementTree.ParseError as exc:
        raise InputFileError(where, f"has a broken [Content_Types].xml ({exc})") from exc
    defaults: dict[str, str] = {}
    overrides: dict[str, str] = {}
    for el in root.iter():
        tag = el.tag.rsplit("}", 1)[-1] if isinstance(el.tag, str) else ""
        if tag == "Default":
            defaults[el.get("Extension", "").casefold()] = el.get("ContentType", "")
        elif tag == "Override":
            overrides[el.get("PartName", "").lstrip("/")] = el.get("ContentType", "")
    return defaults, overrides


def _is_xml(
    zf: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    defaults: dict[str, str],
    overrides: dict[str, str],
    where: str,
) -> bool:
    """Whether ``info`` is XML (by content type or content); refuse it when it declares a DTD.

    ``overrides`` is keyed by :func:`part_key`; ``defaults`` by case-folded extension.
    """
    key = part_key(info.filename)
    declared = overrides.get(key)
    if declared is None:
        ext = info.filename.rsplit("/", 1)[-1].rpartition(".")[2].casefold() if "." in info.filename else ""
        declared = defaults.get(ext, "")
    try:
        by_type = declared.casefold().endswith("xml") or key.endswith(".rels")
        if not by_type:
            with zf.open(info) as part:
                if not looks_like_xml(part.read(512)):
                    return False
        with zf.open(info) as part:
            hostile = declares_dtd(part)
    except (RuntimeError, NotImplementedError, zlib.error, EOFError, OSError) as exc:
        raise InputFileError(where, f"part {info.filename} cannot be read ({exc})") from exc
    if hostile:
        raise InputFileError(
            where,
            f"part {info.filename} declares a DTD or is not well-formed XML; refusing XML entity tricks",
        )
    return True
