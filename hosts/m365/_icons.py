"""The app package's two icons, drawn as real PNG files (zlib and struct, no imaging library).

* ``color.png``: 192x192, a solid square of the accent colour with a white symbol
  inside the central 120x120 safe region.
* ``outline.png``: 32x32, the same symbol as a white outline on a fully transparent
  background, with no padding around it.

The symbol is two parallel tracks joined by rungs: the two model tracks a call can take.
"""

from __future__ import annotations

import struct
import zlib

__all__ = ["color_icon", "outline_icon", "png", "png_size"]

_WHITE = (255, 255, 255, 255)
_CLEAR = (0, 0, 0, 0)
Pixel = tuple[int, int, int, int]


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png(pixels: list[list[Pixel]]) -> bytes:
    """Encode rows of RGBA pixels as a PNG (8-bit RGBA, no interlace)."""
    height, width = len(pixels), len(pixels[0])
    raw = b"".join(b"\x00" + b"".join(bytes(p) for p in row) for row in pixels)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw, 9))
        + _chunk(b"IEND", b"")
    )


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's header (``ValueError`` when it is not a PNG)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG file")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def _hex(color: str) -> tuple[int, int, int]:
    value = color.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _tracks(
    size: int, rails: tuple[int, int], width: int, rungs: list[int], rung: int
) -> set[tuple[int, int]]:
    """Pixels (x, y) of two vertical rails from top to bottom and horizontal rungs between them."""
    cells: set[tuple[int, int]] = set()
    for left in rails:
        cells.update((x, y) for x in range(left, left + width) for y in range(size))
    for top in rungs:
        cells.update((x, y) for x in range(rails[0], rails[1] + width) for y in range(top, top + rung))
    return cells


def color_icon(accent: str) -> bytes:
    """The 192x192 colour icon on a solid ``accent`` background (``#rrggbb``)."""
    background: Pixel = (*_hex(accent), 255)
    shape = {(x + 36, y + 36) for x, y in _tracks(120, (22, 82), 16, [14, 52, 90], 16)}
    return png([[_WHITE if (x, y) in shape else background for x in range(192)] for y in range(192)])


def outline_icon() -> bytes:
    """The 32x32 outline icon: a white outline of the symbol on a transparent background."""
    solid = _tracks(32, (0, 28), 4, [3, 14, 25], 4)
    edge = {
        (x, y)
        for x, y in solid
        if any((x + dx, y + dy) not in solid for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)))
        or x in (0, 31)
        or y in (0, 31)
    }
    return png([[_WHITE if (x, y) in edge else _CLEAR for x in range(32)] for y in range(32)])
