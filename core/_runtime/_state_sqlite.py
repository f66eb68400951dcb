"""Shared state in one SQLite file (WAL): for workers on one machine, or on one shared disk.

Every change runs in a ``BEGIN IMMEDIATE`` transaction, so a check and the write
that depends on it (a budget reservation, a lease, a window hit) are atomic across
processes. Each thread has its own connection; writers wait for each other up to
``timeout`` seconds. The file is created 0600 (in a 0700 folder when the folder is
new) and also holds the usage rows (:class:`~dualtrack._runtime._sqlite_ledger.SqliteLedger`).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ._sqlite_files import SqliteConnections
from ._sqlite_ledger import SqliteLedger
from ._state import BudgetUnit, CircuitRecord, ScopeLimit, SharedStateError, Shortfall

if TYPE_CHECKING:
    from ._ledger import Ledger

__all__ = ["SqliteState"]

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS budget_spent (
    day TEXT NOT NULL, scope TEXT NOT NULL, usd REAL NOT NULL, tokens INTEGER NOT NULL,
    PRIMARY KEY (day, scope)
);
CREATE TABLE IF NOT EXISTS budget_holds (
    hold TEXT NOT NULL, day TEXT NOT NULL, scope TEXT NOT NULL,
    usd REAL NOT NULL, tokens INTEGER NOT NULL, expires REAL NOT NULL,
    PRIMARY KEY (hold, scope)
);
CREATE INDEX IF NOT EXISTS budget_holds_scope ON budget_holds (day, scope);
CREATE TABLE IF NOT EXISTS circuits (
    model TEXT PRIMARY KEY, opened_at REAL NOT NULL, until REAL NOT NULL,
    why TEXT NOT NULL, last_error TEXT, probe_until REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS leases (
    name TEXT NOT NULL, token TEXT NOT NULL, expires REAL NOT NULL, PRIMARY KEY (name, token)
);
CREATE TABLE IF NOT EXISTS hits (name TEXT NOT NULL, ts REAL NOT NULL, token TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS hits_name ON hits (name, ts);
CREATE TABLE IF NOT EXISTS mailbox (key TEXT PRIMARY KEY, value TEXT, expires REAL NOT NULL);
"""


class SqliteState:
    """:class:`~dualtrack._runtime._state.SharedState` in a SQLite file.

    Args:
        path: The database file (created on first use).
        timeout: Seconds a writer waits for another before failing.
        clock: Wall clock (seconds since the epoch), injectable for tests.
    """

    def __init__(
        self, path: str | Path, *, timeout: float = 10.0, clock: Callable[[], float] = time.time
    ) -> None:
        self.path = Path(path).expanduser()
        self.url = f"sqlite:///{self.path}"
        self.timeout = timeout
        self.clock = clock
        self._files = SqliteConnections(self.path, _SCHEMA, timeout)
        self._ledger: SqliteLedger | None = None

    # -- connections --------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        try:
            return self._files.get()
        except (OSError, sqlite3.Error) as exc:
            raise SharedStateError(
                f"cannot open ({exc}); check the path and its permissions", self.url
            ) from exc

    def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` in one ``BEGIN IMMEDIATE`` transaction (committed, or rolled back on error)."""
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                out = fn(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise SharedStateError(f"{exc}; is another process holding the file locked?", self.url) from exc
        return out

    def _read(self, sql: str, args: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        try:
            return list(self._conn().execute(sql, args))
        except sqlite3.Error as exc:
            raise SharedStateError(str(exc), self.url) from exc

    # -- budgets ------------------------------------------------------------------

    def reserve(
        self,
        day: str,
        keys: Sequence[str],
        limits: Sequence[ScopeLimit],
        usd: float,
        tokens: int,
        *,
        hold: str,
        ttl_s: float,
    ) -> Shortfall | None:
        """See :meth:`SharedState.reserve`."""
        now = self.clock()

        def run(c: sqlite3.Connection) -> Shortfall | None:
            c.execute("DELETE FROM budget_holds WHERE expires <= ?", (now,))
            for lim in limits:
                su, st = _sums(
                    c, "SELECT usd, tokens FROM budget_spent WHERE day = ? AND scope = ?", day, lim.key
                )
                hu, ht = _sums(
                    c,
                    "SELECT SUM(usd), SUM(tokens) FROM budget_holds WHERE day = ? AND scope = ?",
                    day,
                    lim.key,
                )
                if lim.usd is not None and usd > 0 and su + hu + usd > lim.usd:
                    return Shortfall(key=lim.key, unit=BudgetUnit.USD, used=su + hu, limit=lim.usd)
                if lim.tokens is not None and st + ht + tokens > lim.tokens:
                    return Shortfall(key=lim.key, unit=BudgetUnit.TOKENS, used=st + ht, limit=lim.tokens)
            c.executemany(
                "INSERT OR REPLACE INTO budget_holds (hold, day, scope, usd, tokens, expires) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(hold, day, k, usd, tokens, now + ttl_s) for k in keys],
            )
            return None

        return self._write(run)

    def settle(self, day: str, keys: Sequence[str], hold: str | None, usd: float, tokens: int) -> None:
        """See :meth:`SharedState.settle`."""

        def run(c: sqlite3.Connection) -> None:
            if hold is not None:
                c.execute("DELETE FROM budget_holds WHERE hold = ?", (hold,))
            if usd or tokens:
                c.executemany(
                    "INSERT INTO budget_spent (day, scope, usd, tokens) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (day, scope) DO UPDATE SET usd = usd + excluded.usd, "
                    "tokens = tokens + excluded.tokens",
                    [(day, k, usd, tokens) for k in keys],
                )
                c.execute("DELETE FROM budget_spent WHERE day < ?", (_day_before(day),))

        self._write(run)

    def used(self, day: str, keys: Sequence[str]) -> dict[str, tuple[float, float]]:
        """See :meth:`SharedState.used`."""
        if not keys:
            return {}
        marks = ",".join("?" * len(keys))
        now = self.clock()
        out: dict[str, tuple[float, float]] = {}
        for scope, u, t in self._read(
            f"SELECT scope, usd, tokens FROM budget_spent WHERE day = ? AND scope IN ({marks}) "
            f"UNION ALL SELECT scope, usd, tokens FROM budget_holds "
            f"WHERE day = ? AND expires > ? AND scope IN ({marks})",
            (day, *keys, day, now, *keys),
        ):
            pu, pt = out.get(str(scope), (0.0, 0.0))
            out[str(scope)] = (pu + float(u or 0), pt + float(t or 0))
        return out

    def spent(self, day: str, key: str) -> tuple[float, int]:
        """See :meth:`SharedState.spent`."""
        rows = self._read("SELECT usd, tokens FROM budget_spent WHERE day = ? AND scope = ?", (day, key))
        if not rows:
            return 0.0, 0
        return float(rows[0][0]), int(rows[0][1])

    # -- circuits -----------------------------------------------------------------

    def circuits(self) -> dict[str, CircuitRecord]:
        """See :meth:`SharedState.circuits`."""
        rows = self._read("SELECT model, opened_at, until, why, last_error, probe_until FROM circuits")
        return {
            str(m): CircuitRecord(
                model=str(m),
                opened_at=float(o),
                until=float(u),
                why=str(w),
                last_error=None if e is None else str(e),
                probe_until=float(p),
            )
            for m, o, u, w, e, p in rows
        }

    def open_circuit(self, record: CircuitRecord) -> None:
        """See :meth:`SharedState.open_circuit`."""
        r = record
        self._write(
            lambda c: c.execute(
                "INSERT OR REPLACE INTO circuits (model, opened_at, until, why, last_error, probe_until) "
                "VALUES (?, ?, ?, ?, ?, 0)",
                (r.model, r.opened_at, r.until, r.why, r.last_error),
            )
        )

    def close_circuit(self, model: str) -> None:
        """See :meth:`SharedState.close_circuit`."""
        self._write(lambda c: c.execute("DELETE FROM circuits WHERE model = ?", (model,)))

    def claim_probe(self, model: str, now: float, ttl_s: float) -> bool:
        """See :meth:`SharedState.claim_probe`."""
        return bool(
            self._write(
                lambda c: (
                    c.execute(
                        "UPDATE circuits SET probe_until = ? WHERE model = ? AND probe_until <= ?",
                        (now + ttl_s, model, now),
                    ).rowcount
                )
            )
        )

    def end_probe(self, model: str) -> None:
        """See :meth:`SharedState.end_probe`."""
        self._write(lambda c: c.execute("UPDATE circuits SET probe_until = 0 WHERE model = ?", (model,)))

    # -- usage --------------------------------------------------------------------

    def ledger(self) -> Ledger:
        """The usage rows, in the same file (a :class:`SqliteLedger`)."""
        if self._ledger is None:
            self._ledger = SqliteLedger(self.path, timeout=self.timeout)
        return self._ledger

    # -- host primitives ----------------------------------------------------------

    def lease(self, name: str, limit: int, token: str, ttl_s: float) -> bool:
        """See :meth:`SharedState.lease`."""
        now = self.clock()

        def run(c: sqlite3.Connection) -> bool:
            c.execute("DELETE FROM leases WHERE name = ? AND expires <= ?", (name, now))
            (n,) = c.execute("SELECT COUNT(*) FROM leases WHERE name = ?", (name,)).fetchone()
            if int(n) >= limit:
                return False
            c.execute(
                "INSERT OR REPLACE INTO leases (name, token, expires) VALUES (?, ?, ?)",
                (name, token, now + ttl_s),
            )
            return True

        return self._write(run)

    def unlease(self, name: str, token: str) -> None:
        """See :meth:`SharedState.unlease`."""
        self._write(lambda c: c.execute("DELETE FROM leases WHERE name = ? AND token = ?", (name, token)))

    def hit(self, name: str, limit: int, window_s: float, token: str) -> float | None:
        """See :meth:`SharedState.hit`."""
        now = self.clock()

        def run(c: sqlite3.Connection) -> float | None:
            c.execute("DELETE FROM hits WHERE name = ? AND ts <= ?", (name, now - window_s))
            n, oldest = c.execute("SELECT COUNT(*), MIN(ts) FROM hits WHERE name = ?", (name,)).fetchone()
            if int(n) >= limit:
                return max(0.0, window_s - (now - float(oldest)))
            c.execute("INSERT INTO hits (name, ts, token) VALUES (?, ?, ?)", (name, now, token))
            return None

        return self._write(run)

    def expect(self, key: str, ttl_s: float) -> None:
        """See :meth:`SharedState.expect`."""
        now = self.clock()

        def run(c: sqlite3.Connection) -> None:
            c.execute("DELETE FROM mailbox WHERE expires <= ?", (now,))
            c.execute(
                "INSERT OR REPLACE INTO mailbox (key, value, expires) VALUES (?, NULL, ?)", (key, now + ttl_s)
            )

        self._write(run)

    def deliver(self, key: str, value: str) -> bool:
        """See :meth:`SharedState.deliver`."""
        now = self.clock()
        sql = "UPDATE mailbox SET value = ? WHERE key = ? AND value IS NULL AND expires > ?"
        return bool(self._write(lambda c: c.execute(sql, (value, key, now)).rowcount))

    def collect(self, key: str) -> str | None:
        """See :meth:`SharedState.collect`."""
        rows = self._read("SELECT value FROM mailbox WHERE key = ? AND value IS NOT NULL", (key,))
        if not rows:
            return None

        def run(c: sqlite3.Connection) -> str | None:
            row = c.execute(
                "SELECT value FROM mailbox WHERE key = ? AND value IS NOT NULL", (key,)
            ).fetchone()
            c.execute("DELETE FROM mailbox WHERE key = ?", (key,))
            return None if row is None else str(row[0])

        return self._write(run)

    def forget(self, key: str) -> None:
        """See :meth:`SharedState.forget`."""
        self._write(lambda c: c.execute("DELETE FROM mailbox WHERE key = ?", (key,)))

    def close(self) -> None:
        """Close every connection this state (and its ledger) opened."""
        self._files.close()
        if self._ledger is not None:
            self._ledger.close()

    def __repr__(self) -> str:
        return f"SqliteState({str(self.path)!r})"


def _sums(c: sqlite3.Connection, sql: str, day: str, key: str) -> tuple[float, float]:
    row = c.execute(sql, (day, key)).fetchone()
    if row is None:
        return 0.0, 0.0
    return float(row[0] or 0.0), float(row[1] or 0.0)


def _day_before(day: str) -> str:
    import datetime as dt

    return (dt.date.fromisoformat(day) - dt.timedelta(days=2)).isoformat()
