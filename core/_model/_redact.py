"""Secret redaction for everything that leaves a model call: logs, spans, ledger rows, errors.

Two layers work together:

* **Known values.** Every orchestrator registers the values of its cards' secret
  settings (keys such as ``api_key``, ``token``, ``secret``, ``password``, and any
  ``Authorization`` header). Those exact strings are replaced wherever they appear.
* **Shapes.** Text that looks like a credential is scrubbed even when nobody
  registered it: ``Bearer <token>``, ``api_key=...``/``"token": "..."`` pairs,
  OpenAI-style ``sk-...`` keys and credentials embedded in URLs.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "REDACTED",
    "RedactingFilter",
    "is_secret_key",
    "redact",
    "register_secret",
    "register_settings",
]

REDACTED = "[REDACTED]"
_MIN_SECRET = 6  # shorter values would scrub ordinary words

_SECRET_KEY = re.compile(
    r"(api[_-]?key|apikey|token(?!s)|secret|passw(or)?d|passwd|credential|authorization|auth[_-]?header"
    r"|private[_-]?key|client[_-]?secret|access[_-]?key|session[_-]?key|signature|sas)",
    re.I,
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

_lock = threading.Lock()
_secrets: frozenset[str] = frozenset()


def is_secret_key(key: str) -> bool:
    """Whether a settings key names a credential (``api_key``, ``token``, ``password`` ...)."""
    return bool(_SECRET_KEY.search(key))


def register_secret(value: str) -> None:
    """Redact ``value`` wherever it appears from now on (values under 6 characters are ignored)."""
    global _secrets
    value = value.strip()
    if len(value) < _MIN_SECRET:
        return
    with _lock:
        if value not in _secrets:
            _secrets = _secrets | {value}


def register_settings(settings: Mapping[str, Any]) -> None:
    """Register the values of every secret-looking key in ``settings`` (nested tables too).

    Args:
        settings: A card's connector settings, for example.
    """
    for key, value in settings.items():
        if isinstance(value, Mapping):
            register_settings(value)
        elif isinstance(value, str) and is_secret_key(str(key)):
            register_secret(value)
            bearer = re.match(r"(?i)\s*(bearer|basic)\s+(\S+)", value)
            if bearer:
                register_secret(bearer.group(2))


def redact(text: str, extra: Iterable[str] = ()) -> str:
    """Return ``text`` with known secrets and credential-shaped substrings replaced.

    Args:
        text: Any text bound for a log, span, ledger row or error message.
        extra: More secret values to scrub for this call only.

    Returns:
        The scrubbed text (the same object when nothing matched).
    """
    if not text:
        return text
    known = _secrets
    for value in (*known, *extra):
        if len(value) >= _MIN_SECRET and value in text:
            text = text.replace(value, REDACTED)
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that scrubs secrets from messages and arguments before they are emitted."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact ``record`` in place; never drops a record."""
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string must not hide the record
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


def _install() -> None:
    logger = logging.getLogger("dualtrack")
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())


_install()
