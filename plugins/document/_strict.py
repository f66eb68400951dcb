"""Strict Open XML documents, read as the Transitional ones python-docx knows.

Word's "Strict Open XML Document" format is the same package with other
namespace URIs (``http://purl.oclc.org/ooxml/wordprocessingml/main`` instead
of ``http://schemas.openxmlformats.org/wordprocessingml/2006/main``) and
relationship types (``.../officeDocument/relationships/officeDocument``).
python-docx reads Transitional only, so a Strict file is translated on load into
an in-memory copy; the user's file is never modified, and what a skill writes
is an ordinary Transitional .docx.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

__all__ = ["STRICT_NOTE", "is_strict", "transitional_copy"]

STRICT_NOTE = (
    "converted from Strict Open XML to Transitional on load (the input file is unchanged); "
    "files written from it are Transitional .docx"
)
"""The note a skill result carries when its input was a Strict Open XML document."""

_STRICT = b"http://purl.oclc.org/ooxml/"
_URI = re.compile(rb"http://purl\.oclc\.org/ooxml/([A-Za-z]+)/([A-Za-z]+(?:/[A-Za-z]+)*)")
_RENAMED = {b"extendedProperties": b"extended-properties", b"customProperties": b"custom-properties"}
_CONFORMANCE = re.compile(rb"\s(?:[A-Za-z_][\w.-]*:)?conformance\s*=\s*([\"'])strict\1")
_XML_HEADS = (b"<", b"\xef\xbb\xbf<")


def _transitional(match: re.Match[bytes]) -> bytes:
    """``.../ooxml/<area>/<rest>`` → ``http://schemas.openxmlformats.org/<area>/2006/<rest>``."""
    area, rest = match.group(1), match.group(2)
    head, _, last = rest.rpartition(b"/")
    last = _RENAMED.get(last, last)
    rest = head + b"/" + last if head else last
    return b"http://schemas.openxmlformats.org/" + area + b"/2006/" + rest


def translate(xml: bytes) -> bytes:
    """One XML part with Strict namespaces and relationship types made Transitional."""
    return _CONFORMANCE.sub(b"", _URI.sub(_transitional, xml))


def _declares_strict(zf: zipfile.ZipFile) -> bool:
    try:
        rels = zf.read("_rels/.rels")
    except KeyError:
        return False
    return _STRICT + b"officeDocument/relationships/officeDocument" in rels


def is_strict(path: Path) -> bool:
    """Whether the package's relationships point at Strict Open XML parts."""
    with zipfile.ZipFile(path) as zf:
        return _declares_strict(zf)


def transitional_copy(path: Path) -> io.BytesIO | None:
    """An in-memory Transitional copy of the package at ``path`` (already inspected) when it is Strict.

    Returns:
        The copy, or ``None`` when the package is not Strict Open XML (read it as it is).
    """
    with zipfile.ZipFile(path) as zin:  # opened once: the check and the copy
        if not _declares_strict(zin):
            return None
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                data = zin.read(info)
                if _STRICT in data and data.lstrip(b" \t\r\n").startswith(_XML_HEADS):
                    data = translate(data)
                zout.writestr(info.filename, data)
    out.seek(0)
    return out
