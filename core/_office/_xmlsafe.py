"""Reading untrusted XML safely: refuse any part that declares a DTD.

Entity tricks (billion laughs, external entities) all live in a DTD, and a DTD
may only appear in the prolog, before the root element. Office files never
need one, so any part that declares one is refused.
"""

from __future__ import annotations

from typing import IO
from xml.parsers import expat

__all__ = ["declares_dtd", "looks_like_xml"]

_BOMS = (b"\xef\xbb\xbf", b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00", b"\xfe\xff", b"\xff\xfe")
_EBCDIC_XML = b"\x4c\x6f\xa7\x94"  # "<?xm" in EBCDIC, which libxml2 reads


def looks_like_xml(head: bytes) -> bool:
    """Whether a part's first bytes look like XML, whatever its name or declared type.

    After a byte-order mark, whitespace and NUL bytes (UTF-16/32 without a BOM),
    a part that starts with ``<`` is XML (``<?xml``, ``<!DOCTYPE``, ``<!--`` or a
    root element), and so is EBCDIC ``<?xml``. Such parts get the DTD check.
    """
    if head.startswith(_EBCDIC_XML):
        return True
    for bom in _BOMS:
        if head.startswith(bom):
            head = head[len(bom) :]
            break
    return head.lstrip(b" \t\r\n\x00").startswith(b"<")


class _RootReached(Exception):
    """Internal: the prolog ended without a DTD."""


def declares_dtd(stream: IO[bytes], chunk: int = 1 << 16, limit: int = 1 << 24) -> bool:
    """Whether an XML stream declares a DTD (where entity tricks live).

    A DTD may only appear in the prolog, before the root element, but the prolog
    can hold any amount of comments first; expat reads it properly and stops at
    the root element, so a large part costs only its prolog. A prolog longer than
    ``limit`` bytes, or XML that does not parse, counts as declaring one (fail closed).
    """
    parser = expat.ParserCreate()
    found = False

    def on_doctype(*_args: object) -> None:
        nonlocal found
        found = True
        raise _RootReached

    def on_start(*_args: object) -> None:
        raise _RootReached

    parser.StartDoctypeDeclHandler = on_doctype
    parser.StartElementHandler = on_start
    seen = 0
    try:
        while seen <= limit:
            data = stream.read(chunk)
            seen += len(data)
            parser.Parse(data, not data)
            if not data:
                return False
    except _RootReached:
        return found
    except expat.ExpatError:
        return True
    return True
