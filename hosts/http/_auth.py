"""Who is calling: API keys (stored hashed) and Microsoft Entra ID bearer tokens.

An API key comes as ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``; its
sha256 is compared with every configured hash in constant time
(:func:`hmac.compare_digest`, all of them, whichever matches). A bearer token
with two dots is a JWT: its signature is checked against the keys published at
the configured JWKS URL (cached; an unknown ``kid`` downloads them again, at
most once per ``jwks_min_refresh_s``), and so are its issuer, audience and expiry.
Without any configured authentication every request is the ``local`` caller
(the service then only binds loopback addresses).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from dualtrack import Sensitivity

from ._problems import Problem
from ._settings import EntraSettings, HttpSettings, hash_key

__all__ = ["Authenticator", "Caller", "JwksCache"]


@dataclass(frozen=True, kw_only=True)
class Caller:
    """An authenticated caller.

    Attributes:
        name: Key name, or the user's name from the token.
        kind: ``"key"``, ``"entra"`` or ``"local"``.
        subject: Stable id of the caller (key name, or the token's ``oid``/``sub``).
        plugins: Plugins it may call; ``None`` for all.
        max_sensitivity: The highest level of data it may send or receive.
        concurrency: Calls it may run at once.
        rate_per_minute: Requests it may make per minute.
    """

    name: str
    kind: str
    subject: str
    plugins: frozenset[str] | None
    max_sensitivity: Sensitivity
    concurrency: int = 4
    rate_per_minute: int = 120

    @functools.cached_property
    def workspace_id(self) -> str:
        """The name of its workspace folder (a hash: no caller-chosen text reaches the disk)."""
        return hashlib.sha256(f"{self.kind}:{self.subject}".encode()).hexdigest()[:24]

    @property
    def limited(self) -> bool:
        """Whether its requests and calls are counted (all but the local user of a loopback server)."""
        return self.kind != "local"

    def may_call(self, plugin: str) -> bool:
        """Whether it may call skills of ``plugin``."""
        return self.plugins is None or plugin in self.plugins

    def check_plugin(self, plugin: str) -> None:
        """Raise 403 when it may not call ``plugin``."""
        if not self.may_call(plugin):
            raise Problem("forbidden", f"this caller may not call skills of plugin {plugin!r}")

    def check_sensitivity(self, level: Sensitivity, what: str) -> None:
        """Raise 403 when ``level`` is above what it may send or receive."""
        if level > self.max_sensitivity:
            raise Problem(
                "sensitivity-exceeded",
                f"{what} is {level.value}; this caller may send and receive at most "
                f"{self.max_sensitivity.value}. Use a key with a higher max_sensitivity",
                sensitivity=level.value,
            )


def _plugins(names: list[str]) -> frozenset[str] | None:
    return None if "*" in names else frozenset(names)


class JwksCache:
    """Signing keys from a JWKS URL, by ``kid``; downloaded again on an unknown ``kid``.

    Args:
        url: The JWKS document.
        min_refresh_s: Least time between two downloads.
        client: The HTTP client (default: a new one with a 10 s timeout).
    """

    def __init__(
        self, url: str, *, min_refresh_s: float = 30.0, client: httpx.AsyncClient | None = None
    ) -> None:
        self.url = url
        self.min_refresh_s = min_refresh_s
        self._client = client
        self._keys: dict[str, Any] = {}
        self._fetched = float("-inf")
        self._lock = asyncio.Lock()
        self.downloads = 0

    async def key(self, kid: str) -> Any:
        """The key with ``kid``, or ``None`` when the issuer does not publish it."""
        found = self._keys.get(kid)
        if found is not None:
            return found
        async with self._lock:
            if kid not in self._keys and time.monotonic() - self._fetched >= self.min_refresh_s:
                await self._download()
        return self._keys.get(kid)

    async def _download(self) -> None:
        import jwt

        client = self._client or httpx.AsyncClient(timeout=10.0)
        try:
            resp = await client.get(self.url)
            resp.raise_for_status()
            data = resp.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise Problem(
                "unavailable", f"the identity provider's signing keys cannot be read ({type(exc).__name__})"
            ) from exc
        finally:
            if self._client is None:
                await client.aclose()
        self._fetched = time.monotonic()
        self.downloads += 1
        keys: dict[str, Any] = {}
        for entry in data.get("keys", []) if isinstance(data, dict) else []:
            try:
                jwk = jwt.PyJWK.from_dict(entry)
            except (jwt.PyJWKError, jwt.InvalidKeyError, KeyError, TypeError):
                continue  # a key of a type we do not use
            if jwk.key_id:
                keys[jwk.key_id] = jwk.key
        self._keys = keys

    async def aclose(self) -> None:
        """Close the HTTP client it was given."""
        if self._client is not None:
            await self._client.aclose()


class Authenticator:
    """Turns request headers into a :class:`Caller` (or a 401 problem).

    Args:
        settings: The service settings.
        jwks_client: The HTTP client for the JWKS download (tests pass one).
    """

    def __init__(self, settings: HttpSettings, *, jwks_client: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self._keys = [(hash_key_bytes(k.hash), k) for k in settings.api_keys]
        self.entra: EntraSettings | None = settings.entra
        self.jwks: JwksCache | None = None
        self._issuer = ""
        self._local = Caller(  # the one local user of a loopback-only server: no per-caller limits
            name="local",
            kind="local",
            subject="local",
            plugins=None,
            max_sensitivity=settings.anonymous_max_sensitivity,
            concurrency=1 << 20,
            rate_per_minute=1 << 30,
        )
        if self.entra is not None:
            url, self._issuer = self.entra.resolved()
            self.jwks = JwksCache(url, min_refresh_s=self.entra.jwks_min_refresh_s, client=jwks_client)

    async def authenticate(self, headers: Mapping[str, str]) -> Caller:
        """The caller of a request with ``headers``.

        Raises:
            Problem: 401 without valid credentials.
        """
        if not self.settings.auth_configured:
            return self._local
        auth = headers.get("authorization", "")
        scheme, _, credential = auth.partition(" ")
        token = credential.strip() if scheme.lower() == "bearer" else ""
        key = headers.get("x-api-key", "").strip() or token
        if token.count(".") == 2 and self.entra is not None:
            return await self._from_token(token)
        if key and self._keys:
            caller = self._from_key(key)
            if caller is not None:
                return caller
        raise Problem(
            "unauthorized",
            "send a valid API key (Authorization: Bearer <key>, or X-API-Key) or a Microsoft Entra ID token",
            headers={"WWW-Authenticate": 'Bearer realm="dualtrack"'},
        )

    def _from_key(self, key: str) -> Caller | None:
        digest = hash_key_bytes(hash_key(key))
        match = None
        for stored, spec in self._keys:  # every comparison runs: the time does not tell which key matched
            if hmac.compare_digest(stored, digest):
                match = spec
        if match is None:
            return None
        return Caller(
            name=match.name,
            kind="key",
            subject=match.name,
            plugins=_plugins(match.plugins),
            max_sensitivity=match.max_sensitivity,
            concurrency=match.concurrency,
            rate_per_minute=match.rate_per_minute,
        )

    async def _from_token(self, token: str) -> Caller:
        import jwt

        assert self.entra is not None and self.jwks is not None
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise self._bad_token("the token is not a well-formed JWT") from None
        kid = header.get("kid")
        if not isinstance(kid, str) or header.get("alg") not in ("RS256", "RS384", "RS512", "ES256", "PS256"):
            raise self._bad_token("the token has no key id or an unsupported algorithm")
        key = await self.jwks.key(kid)
        if key is None:
            raise self._bad_token("the token was signed with a key the issuer does not publish")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[header["alg"]],
                audience=self.entra.audience,
                issuer=self._issuer,
                leeway=self.entra.leeway_s,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise self._bad_token("the token has expired; sign in again") from None
        except jwt.PyJWTError as exc:
            raise self._bad_token(f"the token was rejected ({type(exc).__name__})") from None
        subject = str(claims.get("oid") or claims.get("sub") or "")
        if not subject:
            raise self._bad_token("the token names no user (no oid or sub claim)")
        name = str(claims.get("preferred_username") or claims.get("name") or subject)[:120]
        return Caller(
            name=name,
            kind="entra",
            subject=f"{claims.get('tid', '')}:{subject}",
            plugins=_plugins(self.entra.plugins),
            max_sensitivity=self.entra.max_sensitivity,
            concurrency=self.entra.concurrency,
            rate_per_minute=self.entra.rate_per_minute,
        )

    @staticmethod
    def _bad_token(detail: str) -> Problem:
        return Problem(
            "unauthorized",
            detail,
            headers={"WWW-Authenticate": 'Bearer realm="dualtrack", error="invalid_token"'},
        )

    async def aclose(self) -> None:
        """Release the JWKS client."""
        if self.jwks is not None:
            await self.jwks.aclose()


def hash_key_bytes(stored: str) -> bytes:
    """The digest bytes of a ``sha256:<hex>`` string."""
    return bytes.fromhex(stored.partition(":")[2])
