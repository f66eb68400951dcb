"""Secret redaction for everything that leaves a model call: logs, spans, ledger rows, errors.

One :class:`Redactor`, held by whoever owns the secrets: the orchestrator holds one
for its catalog, a connector built outside an orchestrator holds its own. Nothing is
process-global and nothing happens at import time. Two layers work together:

* **Known values.** :meth:`Redactor.add` and :meth:`Redactor.add_settings` (values of
  keys such as ``api_key``, ``token``, ``secret``, ``password``, and any
  ``Authorization`` header). Those exact strings are replaced wherever they appear.
* **Shapes.** Text that looks like a credential is scrubbed even when nobody
  registered it: ``Bearer <token>``, ``api_key=...``/``"token": "..."`` pairs,
  OpenAI-style ``sk-...`` keys and credentials embedded in URLs.

Logs are scrubbed once a redactor is installed on a logger (:meth:`Redactor.install`);
the orchestrator installs its own on the ``dualtrack`` logger, a host may install one
on any logger it owns.
"""

from __future__ import annotations

import logging
import re
import threading
import weakref
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["REDACTED", "RedactingFilter", "Redactor", "is_secret_key", "redact_shapes"]

REDACTED = "[REDACTED]"
_MIN_SECRET = 4  # shorter values would scrub ordinary words
_MAX_SECRETS = 256  # rotating tokens: keep the most recent ones

_SECRET_KEY = re.compile(
    r"(api[_-]?key|apikey|token(?!s)|secret|passw(or)?d|passwd|credential|authorization|auth[_-]?header"
    r"|private[_-]?key|client[_-]?secret|access[_-]?key|session[_-]?key|signature|sas)",
    re.I,
)
_SECRET_HEADERS = frozenset(
    {"authorization", "api-key", "x-api-key", "proxy-authorization", "cookie", "ocp-apim-subscription-key"}
)
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Authorization: Bearer abc / Basic abc
    (re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{6,}", re.I), rf"\1 {REDACTED}"),
    # key=value, key: value, "key": "value" for secret-looking keys
    (
        re.compile(
            r"""(?P<k>["']?[\w.-]*(?:api[_-]?key|apikey|token(?!s)|secret|passw(?:or)?d|passwd|credential"""
            r"""|client[_-]?secret|access[_-]?key|private[_-]?key)[\w.-]*["']?\s*[:=]\s*)"""
            r"""(?P<q>["']?)(?P<v>[^\s"',;&}]{4,})(?P=q)""",
            re.I,
        ),
        rf"\g<k>\g<q>{REDACTED}\g<q>",
    ),
    # OpenAI / Anthropic style keys
    (re.compile(r"\bsk-[A-Za-z0-9_-]{12,}"), REDACTED),
    # user:password@ in URLs
    (re.compile(r"(?P<s>[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^/\s@]+@", re.I), rf"\g<s>{REDACTED}@"),
)


def is_secret_key(key: str) -> bool:
    """Whether a settings key names a credential (``api_key``, ``token``, ``password`` ...)."""
    return bool(_SECRET_KEY.search(key))


def redact_shapes(text: str) -> str:
    """``text`` with credential-shaped substrings replaced (no known values: use a :class:`Redactor`)."""
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


class Redactor:
    """Masks known secret values and credential-shaped text.

    Args:
        secrets: Values to mask from the start (``None`` and values under 4
            characters are ignored).

    Example::

        redactor = Redactor([api_key])
        redactor.add_settings(card.settings)
        safe = redactor.text(str(error))
    """

    __slots__ = ("__weakref__", "_lock", "_pattern", "_secrets")

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: dict[str, None] = {}
        self._pattern: re.Pattern[str] | None = None
        for s in secrets:
            self.add(s)

    def add(self, secret: str | None) -> None:
        """Mask ``secret`` from now on (safe to call from any thread, e.g. when a token rotates)."""
        if not secret:
            return
        secret = secret.strip()
        if len(secret) < _MIN_SECRET or secret in self._secrets:
            return
        with self._lock:
            self._secrets[secret] = None
            while len(self._secrets) > _MAX_SECRETS:
                del self._secrets[next(iter(self._secrets))]
            alts = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(s) for s in alts))

    def add_settings(self, settings: Mapping[str, Any]) -> None:
        """Mask the values of every secret-looking key in ``settings`` (nested tables too).

        Args:
            settings: A card's connector settings, for example.
        """
        for key, value in settings.items():
            if isinstance(value, Mapping):
                self.add_settings(value)
            elif isinstance(value, str) and is_secret_key(str(key)):
                self.add(value)
                bearer = re.match(r"(?i)\s*(bearer|basic)\s+(\S+)", value)
                if bearer:
                    self.add(bearer.group(2))

    def text(self, value: str) -> str:
        """``value`` with every known secret and credential-shaped substring replaced.

        Args:
            value: Any text bound for a log, span, ledger row or error message.

        Returns:
            The scrubbed text.
        """
        if not value:
            return value
        pattern = self._pattern
        if pattern is not None:
            value = pattern.sub(REDACTED, value)
        return redact_shapes(value)

    __call__ = text

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """A copy of ``headers`` safe to log (credential headers masked)."""
        return {k: REDACTED if k.lower() in _SECRET_HEADERS else self.text(v) for k, v in headers.items()}

    def install(self, logger: logging.Logger | str = "dualtrack") -> None:
        """Scrub every record logged on ``logger`` while this redactor lives.

        Installing twice on the same logger does nothing; the filter removes itself
        when the redactor is garbage collected. Records logged on child loggers
        reach the parent's handlers unfiltered: install on each logger you log to.

        Args:
            logger: A logger or its name (default: the ``dualtrack`` logger).
        """
        log = logging.getLogger(logger) if isinstance(logger, str) else logger
        if any(isinstance(f, RedactingFilter) and f.redactor is self for f in log.filters):
            return
        flt = RedactingFilter(self)
        log.addFilter(flt)
        weakref.finalize(self, log.removeFilter, flt)

    def uninstall(self, logger: logging.Logger | str = "dualtrack") -> None:
        """Stop scrubbing ``logger``'s records with this redactor."""
        log = logging.getLogger(logger) if isinstance(logger, str) else logger
        for f in list(log.filters):
            if isinstance(f, RedactingFilter) and f.redactor is self:
                log.removeFilter(f)

    def __contains__(self, secret: str) -> bool:
        return secret in self._secrets

    def __repr__(self) -> str:
        return f"Redactor({len(self._secrets)} secret(s))"


class RedactingFilter(logging.Filter):
    """A logging filter that scrubs records with one :class:`Redactor` (held weakly).

    Args:
        redactor: The redactor; once it is garbage collected the filter only applies shapes.
    """

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self._ref = weakref.ref(redactor)

    @property
    def redactor(self) -> Redactor | None:
        """The redactor, while it lives."""
        return self._ref()

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact ``record`` in place; never drops a record."""
        redactor = self._ref()
        scrub = redactor.text if redactor is not None else redact_shapes
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string must not hide the record
            message = str(record.msg)
        record.msg = scrub(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = scrub(record.exc_text or logging.Formatter().formatException(record.exc_info))
        return True
