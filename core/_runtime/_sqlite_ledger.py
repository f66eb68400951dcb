"""A persistent usage ledger in SQLite (one row per answered call, aggregated on read).

By default the file lives in the user's data directory (``platformdirs``), e.g.
``~/.local/share/dualtrack/usage.sqlite3`` on Linux; ``ledger = "..."`` in
``dualtrack.toml`` picks another path. The database is opened lazily: building
an orchestrator creates no file, and listing a ledger that was never written
returns no rows. A new ledger file is created readable by its owner only (0600),
and a directory created for it is 0700.

Many calls may record at once, from the event loop or worker threads, and several
processes may share one file: each thread gets its own connection, the database
runs in WAL mode, and writers wait for each other (``busy_timeout``).
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._model._redact import redact_shapes
from ._ledger import UsageRow, UtcDay
from ._sqlite_files import SqliteConnections

if TYPE_CHECKING:
    import sqlite3

    from .._model._cards import ModelCard
    from .._model._messages import Usage

__all__ = ["SqliteLedger", "default_ledger_path"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS usage (
    id INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    day TEXT NOT NULL,
    model TEXT NOT NULL,
    track TEXT NOT NULL,
    skill TEXT NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cost_usd REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS usage_day ON usage (day);
"""


def default_ledger_path() -> Path:
    """``usage.sqlite3`` in the user's data directory for dualtrack."""
    from platformdirs import user_data_path

    return user_data_path("dualtrack", appauthor=False) / "usage.sqlite3"


class SqliteLedger:
    """Records usage in a SQLite file; :meth:`rows` aggregates by day, model, track and skill.

    Args:
        path: The database file (``~`` is expanded); ``None`` uses :func:`default_ledger_path`.
        timeout: Seconds a writer waits for another writer before failing.
    """

    def __init__(self, path: str | Path | None = None, *, timeout: float = 10.0) -> None:
        self.path = Path(path).expanduser() if path is not None else default_ledger_path()
        self.timeout = timeout
        self._files = SqliteConnections(self.path, _SCHEMA, timeout)
        self._day = UtcDay()

    def _conn(self, create: bool = True) -> sqlite3.Connection | None:
        if not create and not self.path.exists():
            return None
        return self._files.get()

    def record(self, card: ModelCard, skill: str | None, usage: Usage, cost_usd: float) -> None:
        """Record one answered call."""
        now = time.time()
        day = self._day.of(now)
        conn = self._conn()
        assert conn is not None
        conn.execute(
            "INSERT INTO usage (ts, day, model, track, skill, input_tokens, output_tokens, cost_usd) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                now,
                day,
                redact_shapes(card.name),
                card.track.value,
                redact_shapes(skill or "-"),
                int(usage.input_tokens),
                int(usage.output_tokens),
                float(cost_usd),
            ),
        )

    def rows(self, days: int | None = None) -> list[UsageRow]:
        """Aggregated rows of the last ``days`` days (all when ``None``), sorted by day, model, skill."""
        conn = self._conn(create=False)
        if conn is None:
            return []
        since = ""
        if days is not None:
            since = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=max(days, 1) - 1)).isoformat()
        cur = conn.execute(
            "SELECT day, model, track, skill, COUNT(*), SUM(input_tokens), SUM(output_tokens), SUM(cost_usd) "
            "FROM usage WHERE day >= ? GROUP BY day, model, track, skill ORDER BY day, model, track, skill",
            (since,),
        )
        return [
            UsageRow(str(r[0]), str(r[1]), str(r[2]), str(r[3]), int(r[4]), int(r[5]), int(r[6]), float(r[7]))
            for r in cur
        ]

    def raw(self, limit: int = 1000) -> list[dict[str, Any]]:
        """The most recent individual calls, newest first (for audits)."""
        conn = self._conn(create=False)
        if conn is None:
            return []
        cur = conn.execute("SELECT * FROM usage ORDER BY id DESC LIMIT ?", (limit,))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur]

    def close(self) -> None:
        """Close every connection this ledger opened."""
        self._files.close()

    def __repr__(self) -> str:
        return f"SqliteLedger({str(self.path)!r})"
