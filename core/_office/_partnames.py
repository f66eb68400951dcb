"""Part names of an Office package, resolved the way the OPC specification does.

A relationship's ``Target`` is a URI reference relative to the *source part*
(ECMA-376 Part 2, §7.3 and Annex A; python-docx's ``PackURI.from_rel_ref``):
``docProps/custom.xml`` from the package root, ``media/a.png`` from
``/word/document.xml``, or absolute (``/docProps/custom.xml``). ``.`` and ``..``
segments are removed, percent-encoding is decoded, and part names compare
case-insensitively. :class:`PartIndex` finds the zip entries behind a part name
however the target was written.
"""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Iterator
from urllib.parse import unquote, urlsplit

__all__ = ["OLE_MAGIC", "PartIndex", "part_key", "rels_part_for", "resolve_target"]

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
"""The first bytes of an OLE compound file: an encrypted (rights-protected) or legacy binary Office file."""


def part_key(name: str) -> str:
    """The comparison key of a part or zip item name: no leading ``/``, decoded, case-folded."""
    decoded = unquote(name.replace("\\", "/"))
    return posixpath.normpath("/" + decoded.lstrip("/")).lstrip("/").casefold()


def resolve_target(source: str, target: str) -> str | None:
    """The part name (without leading ``/``) a relationship target points at.

    Args:
        source: The source part's name (``""`` or ``"/"`` for the package itself).
        target: The relationship's ``Target`` attribute.

    Returns:
        The resolved part name, or ``None`` for an external (scheme-qualified) URI
        or an empty target.
    """
    parts = urlsplit(target.strip().replace("\\", "/"))
    if parts.scheme or parts.netloc or not parts.path:
        return None
    path = unquote(parts.path)
    base = posixpath.dirname("/" + source.lstrip("/"))
    joined = path if path.startswith("/") else posixpath.join(base, path)
    resolved = posixpath.normpath(joined).lstrip("/")
    return resolved or None


def rels_part_for(source: str) -> str:
    """The relationships part of ``source`` (``_rels/.rels`` for the package)."""
    name = source.strip("/")
    if not name:
        return "_rels/.rels"
    folder, _, base = name.rpartition("/")
    return f"{folder}/_rels/{base}.rels" if folder else f"_rels/{base}.rels"


class PartIndex:
    """The zip entries of a package, found by part name the OPC way.

    Two entries whose names differ only in case or encoding are both kept, so a
    caller looking for a part sees every candidate (a package that uses this to
    hide a part is not valid OPC; see :meth:`duplicates`).
    """

    def __init__(self, zf: zipfile.ZipFile) -> None:
        self._by_key: dict[str, list[zipfile.ZipInfo]] = {}
        for info in zf.infolist():
            if info.is_dir():
                continue
            self._by_key.setdefault(part_key(info.filename), []).append(info)

    def find(self, name: str) -> list[zipfile.ZipInfo]:
        """Every zip entry whose name is ``name`` as an OPC part name (usually one or none)."""
        return list(self._by_key.get(part_key(name), ()))

    def duplicates(self) -> list[str]:
        """Part names held by more than one zip entry (forbidden by OPC)."""
        return sorted(infos[0].filename for infos in self._by_key.values() if len(infos) > 1)

    def __iter__(self) -> Iterator[zipfile.ZipInfo]:
        for infos in self._by_key.values():
            yield from infos
