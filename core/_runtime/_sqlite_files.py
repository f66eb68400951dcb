"""SQLite files of the usage ledger and the shared state: private files, one connection a thread.

Both stores open their file the same way: created 0600 in a 0700 folder, WAL
journal, writers waiting ``busy_timeout`` for each other, the schema made once,
and every connection remembered so ``close()`` can close them all.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite3

__all__ = ["SqliteConnections", "create_private"]


def create_private(path: Path) -> None:
    """Create the file 0600 in a 0700 directory (usage data is the user's alone).

    Directories that already exist, and a file that already exists, keep their modes:
    a file shared on purpose stays shared. SQLite gives its ``-wal`` and ``-shm``
    files the mode of the database file.
    """
    parent = path.parent
    if not parent.exists():
        parent.mkdir(parents=True, mode=0o700)
        os.chmod(parent, 0o700)  # mkdir's mode is filtered by the umask
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except FileExistsError:
        return
    os.close(fd)  # the umask can only remove bits from 0600


class SqliteConnections:
    """One autocommit connection a thread to one SQLite file in WAL mode.

    Args:
        path: The database file (created private on the first connection).
        schema: The SQL script that creates the tables (run once, by the first connection).
        timeout: Seconds a writer waits for another writer before failing.
    """

    def __init__(self, path: Path, schema: str, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self._schema = schema
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._ready = False

    def get(self) -> sqlite3.Connection:
        """This thread's connection, opened (and the file and schema created) on first use.

        Raises:
            OSError: When the file or its folder cannot be created.
            sqlite3.Error: When SQLite cannot open the file.
        """
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        import sqlite3  # loaded on first use: `import dualtrack` stays fast

        create_private(self.path)
        conn = sqlite3.connect(self.path, timeout=self.timeout, check_same_thread=False, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
        with self._lock:
            if not self._ready:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.executescript(self._schema)
                self._ready = True
            self._all.append(conn)
        conn.execute("PRAGMA synchronous = NORMAL")
        self._local.conn = conn
        return conn

    def close(self) -> None:
        """Close every connection opened so far (a later :meth:`get` opens a new one)."""
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
        self._local = threading.local()
