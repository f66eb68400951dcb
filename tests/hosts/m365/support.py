"""A third-party plugin whose skills take arguments Copilot's API plugins cannot send."""

from __future__ import annotations

import struct
import zlib
from typing import Literal

from pydantic import BaseModel

from dualtrack import Orchestrator, plugin, skill


class Entry(BaseModel):
    """One ledger entry."""

    account: str
    amount: float


class Filter(BaseModel):
    """Which entries to look at."""

    account: str | None = None
    minimum: float = 0.0


class Found(BaseModel):
    """What ``ledger.search`` returns."""

    summary: str
    matches: int


@plugin("ledger", description="Search and record entries of a small ledger.")
class Ledger:
    @skill
    def search(
        self,
        text: str,
        filter: Filter | None = None,
        limit: int = 10,
        order: Literal["newest", "largest"] = "newest",
        accounts: list[str] | None = None,
    ) -> Found:
        """Search the ledger for entries about a topic.

        Args:
            text: What to look for.
            filter: Narrow the search to an account and a minimum amount.
            limit: Most entries to return.
            order: How to sort them.
            accounts: Only these accounts.
        """
        return Found(summary=f"nothing about {text}", matches=0)

    @skill(effects="write")
    def record(self, entry: Entry, note: str = "") -> str:
        """Record one entry in the ledger.

        Args:
            entry: The entry to record.
            note: A remark kept with it.
        """
        return f"recorded {entry.account}"

    @skill(effects="write")
    def tag(self, account: str, value: str | int) -> str:
        """Tag an account with a label or a number.

        Args:
            account: The account.
            value: The label or number.
        """
        return f"{account}={value}"


def orchestrator() -> Orchestrator:
    """The built-in plugins (document, spreadsheet, code) and the ledger, with no model."""
    orc = Orchestrator(models=[])
    orc.add_plugin(Ledger())
    return orc


def png_pixels(data: bytes) -> tuple[int, int, list[tuple[int, ...]]]:
    """Width, height and RGBA pixels of an 8-bit RGBA PNG whose rows use filter 0 (as ours do)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        crc = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])[0]
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == crc, kind
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color_type = struct.unpack(">IIBB", header[:10])
    assert (depth, color_type) == (8, 6)
    raw = zlib.decompress(idat)
    stride = 1 + width * 4
    pixels = []
    for row in range(height):
        line = raw[row * stride : (row + 1) * stride]
        assert line[0] == 0
        pixels += [tuple(line[1 + i * 4 : 5 + i * 4]) for i in range(width)]
    return width, height, pixels
