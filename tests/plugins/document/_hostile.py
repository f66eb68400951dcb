"""Hostile and broken inputs, each crafted for real (no mocks)."""

from __future__ import annotations

import os
import struct
import zipfile
from pathlib import Path

from ._samples import build_rich, rewrite_part

ENDOFCHAIN, FREESECT, FATSECT, NOSTREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF


def _dir_entry(
    name: str, kind: int, start: int, size: int, right: int = NOSTREAM, child: int = NOSTREAM
) -> bytes:
    encoded = (name + "\0").encode("utf-16-le") if name else b""
    return (
        encoded.ljust(64, b"\0")
        + struct.pack("<HBB", len(encoded), kind, 1)
        + struct.pack("<III", NOSTREAM, right, child)
        + b"\0" * 16
        + struct.pack("<I", 0)
        + b"\0" * 16
        + struct.pack("<IQ", start, size)
    )


def encrypted_docx(path: Path) -> Path:
    """A compound file (CFB v3) holding EncryptionInfo and EncryptedPackage streams:
    the container Word writes for a password-protected .docx."""
    info = struct.pack("<HHI", 4, 4, 0x40) + b'<?xml version="1.0"?><encryption/>'
    package = struct.pack("<Q", 6000) + os.urandom(6000)
    streams = [info.ljust(4096, b"\0"), package]
    sectors = [-(-len(s) // 512) for s in streams]
    fat = [FATSECT, ENDOFCHAIN]
    starts = []
    for count in sectors:
        starts.append(len(fat))
        fat += [*range(len(fat) + 1, len(fat) + count), ENDOFCHAIN]
    fat += [FREESECT] * (128 - len(fat))
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\0" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\0" * 6
        + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, ENDOFCHAIN, 0, ENDOFCHAIN, 0)
        + struct.pack("<I", 0)
        + struct.pack("<I", FREESECT) * 108
    )
    directory = (
        _dir_entry("Root Entry", 5, ENDOFCHAIN, 0, child=1)
        + _dir_entry("EncryptionInfo", 2, starts[0], len(info), right=2)
        + _dir_entry("EncryptedPackage", 2, starts[1], len(package))
        + _dir_entry("", 0, 0, 0)
    )
    body = (
        struct.pack("<128I", *fat)
        + directory
        + b"".join(s.ljust(n * 512, b"\0") for s, n in zip(streams, sectors, strict=True))
    )
    path.write_bytes(header + body)
    return path


def not_a_zip(path: Path) -> Path:
    path.write_text("Dear team, this is plain text pretending to be a Word file.\n" * 20)
    return path


def truncated(path: Path) -> Path:
    data = build_rich(path.with_name("whole-" + path.name)).read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def zip_bomb(path: Path) -> Path:
    """A valid package whose document part expands 1000-fold (declared size 40 MB)."""
    src = build_rich(path.with_name("bomb-src-" + path.name))
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            zout.writestr(item, zin.read(item.filename))
        zout.writestr("word/media/padding.bin", b"\0" * (40 << 20))
    return path


def _swap_main_type(path: Path, new_type: bytes) -> Path:
    src = build_rich(path.with_name("ct-src-" + path.name))
    old = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    return rewrite_part(src, path, "[Content_Types].xml", lambda b: b.replace(old, new_type))


def macro_enabled(path: Path) -> Path:
    """A .docm's content type inside a file named .docx."""
    return _swap_main_type(path, b"application/vnd.ms-word.document.macroEnabled.main+xml")


def template(path: Path) -> Path:
    """A .dotx (template) content type inside a file named .docx."""
    return _swap_main_type(
        path, b"application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml"
    )


def entity_expansion(path: Path) -> Path:
    """document.xml with a DTD declaring nested entities (billion laughs)."""
    src = build_rich(path.with_name("dtd-src-" + path.name))
    dtd = (
        b'<!DOCTYPE w:document [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>'
    )

    def inject(xml: bytes) -> bytes:
        head, rest = xml.split(b"?>", 1)
        return head + b"?>" + dtd + rest.replace(b"Overview", b"&c;", 1)

    return rewrite_part(src, path, "word/document.xml", inject)


def late_entity(path: Path) -> Path:
    """An entity declaration hidden after 8 KB of comment, past a head-only scan."""
    src = build_rich(path.with_name("late-src-" + path.name))

    def inject(xml: bytes) -> bytes:
        head, rest = xml.split(b"?>", 1)
        return head + b"?><!--" + b"x" * 8192 + b'--><!DOCTYPE w:document [<!ENTITY e "boom">]>' + rest

    return rewrite_part(src, path, "word/document.xml", inject)


def broken_xml(path: Path) -> Path:
    """A zip whose document.xml is not well-formed."""
    src = build_rich(path.with_name("broken-src-" + path.name))
    return rewrite_part(src, path, "word/document.xml", lambda b: b[: len(b) // 2])


HOSTILE = {
    "not-a-zip": not_a_zip,
    "truncated": truncated,
    "zip-bomb": zip_bomb,
    "password-protected": encrypted_docx,
    "macro-enabled-content-type": macro_enabled,
    "template-content-type": template,
    "xml-entities": entity_expansion,
    "late-xml-entity": late_entity,
    "broken-xml": broken_xml,
}
