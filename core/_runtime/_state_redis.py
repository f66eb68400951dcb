"""Shared state in Redis: for workers on several machines (the ``redis`` extra).

Each check-and-write (a budget reservation, a lease, a window hit, a probe claim,
a mailbox delivery) is one Lua script, so it is atomic on the server; every
operation is one round trip. Keys start with ``dualtrack:`` (``?prefix=name`` in
the URL picks another prefix, to keep deployments apart in one Redis). Budget keys
expire two days after their last write; usage rows are kept (configure Redis
persistence to keep them across restarts of the server).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .._errors import MissingDependencyError
from .._model._redact import redact_shapes
from ._ledger import UsageRow, UtcDay
from ._state import BudgetUnit, CircuitRecord, ScopeLimit, SharedStateError, Shortfall, safe_url
from ._state_redis_lua import SCRIPTS

if TYPE_CHECKING:
    from .._model._cards import ModelCard
    from .._model._messages import Usage

__all__ = ["RedisLedger", "RedisState"]

T = TypeVar("T")
_SEP = "\x1f"


def _missing() -> MissingDependencyError:
    return MissingDependencyError("shared state in Redis", "redis", "pip install 'dualtrack[redis]'")


def _client(url: str) -> tuple[Any, str]:
    """A Redis client for ``url`` (without our ``prefix`` parameter) and the key prefix."""
    try:
        import redis
    except ImportError as exc:
        raise _missing() from exc
    parts = urlsplit(url)
    query = parse_qsl(parts.query)
    prefix = next((v for k, v in query if k == "prefix"), "dualtrack")
    rest = urlencode([(k, v) for k, v in query if k != "prefix"])
    client = redis.Redis.from_url(
        urlunsplit(parts._replace(query=rest)),
        decode_responses=True,
        socket_timeout=5.0,
        socket_connect_timeout=5.0,
        health_check_interval=30,
    )
    return client, prefix


class RedisState:
    """:class:`~dualtrack._runtime._state.SharedState` in Redis (see the module docstring).

    Args:
        url: ``redis://[:password@]host:port/db``, ``rediss://...`` or ``unix:///path.sock``,
            optionally with ``?prefix=name``.
        clock: Wall clock (seconds since the epoch); the machines should agree on it (NTP).
    """

    def __init__(self, url: str, *, clock: Callable[[], float] | None = None) -> None:
        import importlib.util
        import time

        if importlib.util.find_spec("redis") is None:  # say so when configured, not at the first call
            raise _missing()
        self.url = safe_url(url)
        self.clock = clock or time.time
        self._raw_url = url
        self._lock = threading.Lock()
        self._r: Any = None
        self._p = ""
        self._scripts: dict[str, Any] = {}
        self._ledger: RedisLedger | None = None

    def _redis(self) -> Any:
        if self._r is None:
            with self._lock:
                if self._r is None:
                    r, self._p = _client(self._raw_url)
                    self._scripts = {name: r.register_script(src) for name, src in SCRIPTS.items()}
                    self._r = r
        return self._r

    def _do(self, fn: Callable[[Any], T]) -> T:
        """Run ``fn(client)``, turning Redis failures into :class:`SharedStateError`."""
        r = self._redis()
        import redis

        try:
            return fn(r)
        except redis.RedisError as exc:
            raise SharedStateError(
                f"{type(exc).__name__}: {exc}; check that the Redis server runs and the URL is right",
                self.url,
            ) from exc

    def _run(self, script: str, keys: Sequence[str], args: Sequence[object]) -> Any:
        return self._do(lambda r: self._scripts[script](keys=list(keys), args=list(args)))

    def key(self, *parts: str) -> str:
        """A key under this state's prefix."""
        self._redis()
        return ":".join((self._p, *parts))

    # -- budgets ------------------------------------------------------------------

    def _budget_keys(self, day: str, keys: Sequence[str]) -> list[str]:
        out: list[str] = []
        for k in keys:
            out += [self.key("bs", day, k), self.key("bh", day, k)]
        return out

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
        by_key = {lim.key: lim for lim in limits}
        order = [*by_key, *(k for k in keys if k not in by_key)]
        args: list[object] = [repr(self.clock()), repr(ttl_s), hold, repr(float(usd)), str(int(tokens))]
        for k in order:
            lim = by_key.get(k)
            args += ["" if lim is None or lim.usd is None else repr(lim.usd)]
            args += ["" if lim is None or lim.tokens is None else str(lim.tokens)]
        got = self._run("reserve", self._budget_keys(day, order), args)
        if got[0] == "ok":
            return None
        lim = by_key[order[int(got[1]) - 1]]
        unit = BudgetUnit(got[0])
        limit = lim.usd if unit is BudgetUnit.USD else lim.tokens
        return Shortfall(key=lim.key, unit=unit, used=float(got[2]), limit=float(limit or 0))

    def settle(self, day: str, keys: Sequence[str], hold: str | None, usd: float, tokens: int) -> None:
        """See :meth:`SharedState.settle` (one script: atomic, one round trip)."""
        self._run("settle", self._budget_keys(day, keys), [hold or "", repr(float(usd)), str(int(tokens))])

    def used(self, day: str, keys: Sequence[str]) -> dict[str, tuple[float, float]]:
        """See :meth:`SharedState.used`."""
        if not keys:
            return {}
        got = self._run("used", self._budget_keys(day, keys), [repr(self.clock())])
        out: dict[str, tuple[float, float]] = {}
        for i, k in enumerate(keys):
            u, t = float(got[2 * i]), float(got[2 * i + 1])
            if u or t:
                out[k] = (u, t)
        return out

    def spent(self, day: str, key: str) -> tuple[float, int]:
        """See :meth:`SharedState.spent`."""
        u, t = self._do(lambda r: r.hmget(self.key("bs", day, key), "usd", "tokens"))
        return float(u or 0.0), int(t or 0)

    # -- circuits -----------------------------------------------------------------

    def circuits(self) -> dict[str, CircuitRecord]:
        """See :meth:`SharedState.circuits`."""
        raw: dict[str, str] = self._do(lambda r: r.hgetall(self.key("circuits")))
        out: dict[str, CircuitRecord] = {}
        for model, text in raw.items():
            d = json.loads(text)
            out[model] = CircuitRecord(
                model=model,
                opened_at=float(d["opened_at"]),
                until=float(d["until"]),
                why=str(d.get("why") or ""),
                last_error=d.get("last_error") or None,
                probe_until=float(d.get("probe_until") or 0.0),
            )
        return out

    def open_circuit(self, record: CircuitRecord) -> None:
        """See :meth:`SharedState.open_circuit`."""
        text = json.dumps(
            {
                "opened_at": record.opened_at,
                "until": record.until,
                "why": record.why,
                "last_error": record.last_error or "",
                "probe_until": 0,
            }
        )
        self._do(lambda r: r.hset(self.key("circuits"), record.model, text))

    def close_circuit(self, model: str) -> None:
        """See :meth:`SharedState.close_circuit`."""
        self._do(lambda r: r.hdel(self.key("circuits"), model))

    def claim_probe(self, model: str, now: float, ttl_s: float) -> bool:
        """See :meth:`SharedState.claim_probe`."""
        return bool(self._run("claim", [self.key("circuits")], [model, repr(now), repr(ttl_s)]))

    def end_probe(self, model: str) -> None:
        """See :meth:`SharedState.end_probe`."""
        self._run("end_probe", [self.key("circuits")], [model])

    # -- usage --------------------------------------------------------------------

    def ledger(self) -> RedisLedger:
        """The usage rows, in this Redis."""
        if self._ledger is None:
            self._ledger = RedisLedger(self)
        return self._ledger

    # -- host primitives ----------------------------------------------------------

    def lease(self, name: str, limit: int, token: str, ttl_s: float) -> bool:
        """See :meth:`SharedState.lease`."""
        return bool(
            self._run("lease", [self.key("lease", name)], [repr(self.clock()), limit, token, repr(ttl_s)])
        )

    def unlease(self, name: str, token: str) -> None:
        """See :meth:`SharedState.unlease`."""
        self._do(lambda r: r.zrem(self.key("lease", name), token))

    def hit(self, name: str, limit: int, window_s: float, token: str) -> float | None:
        """See :meth:`SharedState.hit`."""
        got = self._run("hit", [self.key("hits", name)], [repr(self.clock()), limit, repr(window_s), token])
        return None if got is None else max(0.0, float(got))

    def expect(self, key: str, ttl_s: float) -> None:
        """See :meth:`SharedState.expect`."""
        self._do(lambda r: r.set(self.key("mail", key), "", px=max(1, int(ttl_s * 1000))))

    def deliver(self, key: str, value: str) -> bool:
        """See :meth:`SharedState.deliver`."""
        return bool(self._run("deliver", [self.key("mail", key)], [value]))

    def collect(self, key: str) -> str | None:
        """See :meth:`SharedState.collect`."""
        got = self._run("collect", [self.key("mail", key)], [])
        return None if got is None else str(got)

    def forget(self, key: str) -> None:
        """See :meth:`SharedState.forget`."""
        self._do(lambda r: r.delete(self.key("mail", key)))

    def close(self) -> None:
        """Close the connection pool."""
        r, self._r = self._r, None
        if r is not None:
            r.close()

    def __repr__(self) -> str:
        return f"RedisState({self.url!r})"


class RedisLedger:
    """Usage rows in Redis: one hash per UTC day, counters per model, track and skill.

    Args:
        state: The Redis state whose connection and prefix it uses.
    """

    def __init__(self, state: RedisState) -> None:
        self._state = state
        self._day = UtcDay()

    def record(self, card: ModelCard, skill: str | None, usage: Usage, cost_usd: float) -> None:
        """Record one answered call (one round trip)."""
        import time

        st = self._state
        day = self._day.of(time.time())
        base = _SEP.join((redact_shapes(card.name), card.track.value, redact_shapes(skill or "-")))

        args = [base, int(usage.input_tokens), int(usage.output_tokens), repr(float(cost_usd)), day, _SEP]
        st._run("record", [st.key("usage", day), st.key("usage", "days")], args)

    def rows(self, days: int | None = None) -> list[UsageRow]:
        """Aggregated rows of the last ``days`` days (all when ``None``), sorted by day, model, skill."""
        st = self._state
        since = ""
        if days is not None:
            since = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=max(days, 1) - 1)).isoformat()
        known: set[str] = st._do(lambda r: r.smembers(st.key("usage", "days")))
        wanted = sorted(d for d in known if d >= since)

        def run(r: Any) -> list[dict[str, str]]:
            pipe = r.pipeline(transaction=False)
            for d in wanted:
                pipe.hgetall(st.key("usage", d))
            return list(pipe.execute())

        tables = st._do(run) if wanted else []
        out: list[UsageRow] = []
        for day, table in zip(wanted, tables, strict=True):
            acc: dict[tuple[str, str, str], dict[str, float]] = defaultdict(dict)
            for field, value in table.items():
                model, track, skill, what = field.split(_SEP)
                acc[(model, track, skill)][what] = float(value)
            for (model, track, skill), v in sorted(acc.items()):
                out.append(
                    UsageRow(
                        day,
                        model,
                        track,
                        skill,
                        int(v.get("calls", 0)),
                        int(v.get("in", 0)),
                        int(v.get("out", 0)),
                        float(v.get("usd", 0.0)),
                    )
                )
        return out

    def __repr__(self) -> str:
        return f"RedisLedger({self._state.url!r})"
