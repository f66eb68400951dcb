"""The shadow log: one JSON line per shadow call, next to the usage ledger, read by ``dualtrack eval``.

A record holds numbers and names only — skill, models, level, whether the reply
passed each check (by check name), agreement with the primary reply, latency,
tokens and cost — never prompt or reply text, so the log is no more sensitive
than the usage ledger. Lines are appended with one ``write`` each (``O_APPEND``),
so several workers may share a file; a new file is created readable by its
owner only (0600).
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .._model._redact import redact_shapes
from ._shadow import ShadowResult

__all__ = ["ShadowLog", "ShadowRecord", "ShadowSettings", "shadow_log_path"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ShadowRecord:
    """One shadow call, as logged.

    Attributes:
        ts: POSIX time it finished.
        skill: The skill whose call was shadowed.
        primary: The model that answered the real call.
        model: The shadow model.
        sensitivity: The level of the data the call carried.
        ok: Whether the shadow model answered.
        error: Why it did not (a skip names the hard constraint that refused it).
        passed: Whether its reply passed every check (``None``: no checks, or no reply).
        failed_checks: The names of the checks it failed.
        agreement: Token-multiset F1 of its reply against the primary reply.
        duration_s: Wall time of the shadow call.
        input_tokens: Prompt tokens.
        output_tokens: Reply tokens.
        cost_usd: Dollars.
    """

    ts: float
    skill: str
    primary: str
    model: str
    sensitivity: str = "general"
    ok: bool = False
    error: str | None = None
    passed: bool | None = None
    failed_checks: list[str] = field(default_factory=list)
    agreement: float | None = None
    duration_s: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0

    @classmethod
    def of(cls, result: ShadowResult) -> ShadowRecord:
        """The record of a :class:`~dualtrack.ShadowResult` (its texts left out)."""
        done = result.completion
        error = next((a.error for a in reversed(result.attempts) if a.error), None)
        return cls(
            ts=time.time(),
            skill=result.skill or "-",
            primary=result.primary or "-",
            model=result.model,
            sensitivity=result.sensitivity or "general",
            ok=done is not None,
            error=None if done is not None else redact_shapes(error or "no reply"),
            passed=result.passed,
            failed_checks=[c.name for c in result.checks if not c.passed],
            agreement=result.agreement,
            duration_s=round(result.duration_s, 6),
            input_tokens=done.usage.input_tokens if done is not None else 0,
            output_tokens=done.usage.output_tokens if done is not None else 0,
            cost_usd=result.cost_usd,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ShadowRecord:
        """Parse one logged line's object (unknown keys are ignored)."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def shadow_log_path(ledger_path: str | Path) -> Path:
    """Where the shadow log of a ledger file lives: ``usage.sqlite3`` → ``usage.shadow.jsonl``."""
    path = Path(ledger_path)
    return path.with_name(path.stem + ".shadow.jsonl")


class ShadowLog:
    """Appends :class:`ShadowRecord` lines to a file, or keeps them in memory (``path=None``).

    Pass :meth:`record` as the orchestrator's ``on_shadow`` callback.

    Args:
        path: The JSONL file; ``None`` keeps the records in memory.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path).expanduser() if path is not None else None
        self._memory: list[ShadowRecord] = []
        self._lock = threading.Lock()

    def record(self, result: ShadowResult) -> None:
        """Log one shadow call (the ``on_shadow`` callback)."""
        self.append(ShadowRecord.of(result))

    def append(self, record: ShadowRecord) -> None:
        """Append one record."""
        if self.path is None:
            with self._lock:
                self._memory.append(record)
            return
        line = (json.dumps(asdict(record), separators=(",", ":")) + "\n").encode()
        if not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, mode=0o700)
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(self.path, flags, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)

    def records(self) -> list[ShadowRecord]:
        """Every record, oldest first; lines that do not parse are skipped."""
        if self.path is None:
            with self._lock:
                return list(self._memory)
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                data = json.loads(line)
                if isinstance(data, dict):
                    out.append(ShadowRecord.from_dict(data))
            except (ValueError, TypeError):
                continue
        return out

    def __repr__(self) -> str:
        return f"ShadowLog({str(self.path) if self.path else 'memory'!r})"


class ShadowSettings(BaseModel):
    """``[shadow]`` in ``dualtrack.toml``: sample live calls to second models for ``dualtrack eval``.

    Attributes:
        models: Models that shadow every skill's calls.
        skills: Skill or plugin name → models that shadow its calls (wins over ``models``).
        fraction: The share of calls shadowed, in ``[0, 1]``.
        log: The JSONL shadow log (relative to the config file); default: next to the
            usage ledger (``usage.shadow.jsonl``); ``"memory"`` keeps none on disk.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    models: list[str] = Field(default_factory=list)
    skills: dict[str, list[str]] = Field(default_factory=dict)
    fraction: float = Field(default=1.0, ge=0.0, le=1.0)
    log: str | None = None

    @property
    def table(self) -> dict[str, list[str]]:
        """Skill or plugin name (``"*"``: every skill) → shadow models."""
        table = dict(self.skills)
        if self.models:
            table["*"] = list(self.models)
        return table
