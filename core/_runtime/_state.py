"""Shared state: what several workers (processes or machines) must agree on, behind one interface.

With one process, budgets, circuit breakers and the usage ledger live in memory.
With ``--workers N`` or several machines, each would keep its own and N workers
would spend N budgets. A :class:`SharedState` keeps them in one place instead:

- :class:`~dualtrack._runtime._state_sqlite.SqliteState` (``sqlite:///path``):
  one SQLite file in WAL mode, for workers that share a disk;
- :class:`~dualtrack._runtime._state_redis.RedisState` (``redis://host:port/db``):
  a Redis server, for several machines (the ``redis`` extra).

What is shared:

- **budgets**: spend per UTC day and scope, and the reservations of calls in
  flight; a reservation is checked and taken atomically, so N workers enforce one
  budget exactly. A reservation expires (``ttl_s``) so a worker that dies does
  not hold budget forever;
- **circuits**: which models are open, until when, and whether a worker holds the
  half-open probe (failure counts stay per worker; transitions are shared);
- **usage rows** (:meth:`SharedState.ledger`);
- **leases, hit windows and mailboxes**: small primitives hosts use for per-caller
  concurrency, request rates and confirmations answered through another worker.

Use :func:`open_state` to build one from its URL.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable
from urllib.parse import urlsplit, urlunsplit

from .._errors import ConfigError, DualtrackError

if TYPE_CHECKING:
    from ._ledger import Ledger

__all__ = [
    "BudgetUnit",
    "CircuitRecord",
    "ScopeLimit",
    "SharedState",
    "SharedStateError",
    "Shortfall",
    "open_state",
    "safe_url",
]


class SharedStateError(DualtrackError):
    """The shared state (SQLite file or Redis server) could not be read or written.

    Attributes:
        url: The state's URL, without its password.
    """

    model_summary = "the shared state of the service is unavailable"

    def __init__(self, message: str, url: str) -> None:
        super().__init__(f"shared state {url}: {message}")
        self.url = url


class BudgetUnit(enum.StrEnum):
    """What a budget limit counts."""

    USD = "usd"
    TOKENS = "tokens"


@dataclass(frozen=True, slots=True, kw_only=True)
class ScopeLimit:
    """The daily limits of one budget scope (``global``, a plugin or a skill).

    Attributes:
        key: The scope.
        usd: Dollars per day, or ``None``.
        tokens: Tokens per day, or ``None``.
    """

    key: str
    usd: float | None = None
    tokens: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Shortfall:
    """Why a reservation was refused: the first scope it would take past its limit.

    Attributes:
        key: The scope.
        unit: Dollars or tokens.
        used: Spent plus reserved today, before this call.
        limit: The scope's daily limit.
    """

    key: str
    unit: BudgetUnit
    used: float
    limit: float


@dataclass(frozen=True, slots=True, kw_only=True)
class CircuitRecord:
    """A model's open circuit as every worker sees it (wall-clock times, seconds since the epoch).

    Attributes:
        model: The model's name.
        opened_at: When it opened.
        until: When its cool-down ends and a probe may go through.
        why: Why it opened.
        last_error: The type of the last error, if known.
        probe_until: While later than now, a worker holds the half-open probe.
    """

    model: str
    opened_at: float
    until: float
    why: str = ""
    last_error: str | None = None
    probe_until: float = 0.0


@runtime_checkable
class SharedState(Protocol):
    """What workers share (see the module docstring). Every method is atomic and thread-safe.

    Attributes:
        url: Where the state lives, without secrets.
    """

    url: str

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
        """Check ``limits`` and, if the call fits all of them, hold ``usd``/``tokens`` on every key.

        Args:
            day: The UTC day (ISO text).
            keys: Every scope the call counts against (the limited ones and the rest).
            limits: The limited scopes to check.
            usd: The call's estimated cost (a zero cost is never refused by a USD limit).
            tokens: The call's estimated tokens.
            hold: A unique id for the reservation (give it to :meth:`settle`).
            ttl_s: When the reservation lapses if never settled.

        Returns:
            ``None`` when reserved, else the first limit that would be broken.
        """
        ...

    def settle(self, day: str, keys: Sequence[str], hold: str | None, usd: float, tokens: int) -> None:
        """Drop reservation ``hold`` (if any) and add the real ``usd``/``tokens`` spent to every key."""
        ...

    def used(self, day: str, keys: Sequence[str]) -> dict[str, tuple[float, float]]:
        """Spent plus reserved ``(usd, tokens)`` per key today (keys never used are absent)."""
        ...

    def spent(self, day: str, key: str) -> tuple[float, int]:
        """Spent ``(usd, tokens)`` of one key (reservations not included)."""
        ...

    # -- circuits -----------------------------------------------------------------

    def circuits(self) -> dict[str, CircuitRecord]:
        """Every open (or half-open) circuit, by model."""
        ...

    def open_circuit(self, record: CircuitRecord) -> None:
        """Open (or re-open) a model's circuit; any probe claim is dropped."""
        ...

    def close_circuit(self, model: str) -> None:
        """Close a model's circuit (its probe succeeded)."""
        ...

    def claim_probe(self, model: str, now: float, ttl_s: float) -> bool:
        """Take the half-open probe of an open circuit unless another worker holds it."""
        ...

    def end_probe(self, model: str) -> None:
        """Give the probe back without a verdict."""
        ...

    # -- usage --------------------------------------------------------------------

    def ledger(self) -> Ledger:
        """The usage ledger whose rows every worker sees (it has ``rows(days=...)``)."""
        ...

    # -- host primitives ----------------------------------------------------------

    def lease(self, name: str, limit: int, token: str, ttl_s: float) -> bool:
        """Take one of ``limit`` slots of ``name`` as ``token``; ``False`` when all are taken."""
        ...

    def unlease(self, name: str, token: str) -> None:
        """Give slot ``token`` of ``name`` back."""
        ...

    def hit(self, name: str, limit: int, window_s: float, token: str) -> float | None:
        """Count one event in a sliding window; ``None`` if allowed, else seconds to wait."""
        ...

    def expect(self, key: str, ttl_s: float) -> None:
        """Open mailbox ``key``: someone waits for one message in it."""
        ...

    def deliver(self, key: str, value: str) -> bool:
        """Put ``value`` in an open, empty mailbox; ``False`` when nobody waits for ``key``."""
        ...

    def collect(self, key: str) -> str | None:
        """The message in mailbox ``key`` (the mailbox is closed), or ``None`` while empty."""
        ...

    def forget(self, key: str) -> None:
        """Close mailbox ``key`` whatever it holds."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def safe_url(url: str) -> str:
    """``url`` without a password (``redis://:secret@host`` → ``redis://:***@host``)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = (parts.username or "") + ":***"
    return urlunsplit(parts._replace(netloc=f"{user}@{netloc[-1]}"))


def sqlite_path(url: str, base: Path | None = None) -> Path:
    """The file of a ``sqlite:///relative`` or ``sqlite:////absolute`` URL (``~`` is expanded).

    Args:
        url: The URL.
        base: The folder a relative path is taken from (default: the working directory).
    """
    rest = url[len("sqlite://") :]
    if not rest.startswith("/") or rest == "/":
        raise ConfigError(
            f"{url!r}: write sqlite:///relative/path.sqlite3 or sqlite:////absolute/path.sqlite3",
            field="state",
        )
    path = Path(rest[1:]).expanduser()
    if not path.is_absolute() and base is not None:
        path = base / path
    return path


def open_state(url: str, *, base: Path | None = None) -> SharedState:
    """The shared state a URL names.

    Args:
        url: ``sqlite:///path`` (relative to ``base``), ``sqlite:////absolute/path``,
            ``redis://[:password@]host:port/db`` (``rediss://`` for TLS,
            ``unix:///path.sock``); ``?prefix=name`` keeps several deployments apart
            in one Redis.
        base: The folder relative SQLite paths are taken from.

    Returns:
        The state; nothing is opened until first use.

    Raises:
        ConfigError: The URL names no known kind of state.
        MissingDependencyError: A Redis URL without the ``redis`` extra installed.
    """
    scheme = url.partition(":")[0].lower()
    if scheme == "sqlite":
        from ._state_sqlite import SqliteState

        return SqliteState(sqlite_path(url, base))
    if scheme in ("redis", "rediss", "unix"):
        from ._state_redis import RedisState

        return RedisState(url)
    raise ConfigError(
        f"{safe_url(url)!r} is not a known kind of shared state; use sqlite:///path "
        "(workers on one disk) or redis://host:6379/0 (several machines)",
        field="state",
    )
