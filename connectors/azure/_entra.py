"""Microsoft Entra ID bearer tokens for Azure OpenAI, obtained with msal.

Three ways to sign in: a client secret or a client certificate (services), or
the device-code flow (a person at a terminal opens a URL and types a code).
Tokens are cached in memory and in an msal token-cache file created with mode
0600, so the next run reuses them; a token is refreshed ``refresh_margin_s``
before it expires (msal itself refreshes tokens within 5 minutes of expiry).

msal is synchronous and may do network I/O, so it always runs in a worker
thread (``asyncio.to_thread``), one acquisition at a time per cache file.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from dualtrack import AuthenticationError, MissingDependencyError, ServerError

from .._http import Redactor

__all__ = ["DEFAULT_SCOPE", "EntraTokenProvider", "default_cache_path", "write_private"]

DEFAULT_SCOPE = "https://cognitiveservices.azure.com/.default"
AuthMode = Literal["client-secret", "client-certificate", "device-code"]

_log = logging.getLogger("dualtrack.connectors.azure")
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _msal() -> Any:
    """Import msal, the ``azure`` extra (only Entra ID sign-in needs it; API keys do not)."""
    try:
        import msal
    except ModuleNotFoundError as exc:
        raise MissingDependencyError(
            "Entra ID sign-in to Azure OpenAI", "msal", "pip install 'dualtrack[azure]'"
        ) from exc
    return msal


def _print_to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def default_cache_path(client_id: str, authority: str) -> Path:
    """Where tokens of one app and authority are cached between runs."""
    import platformdirs

    key = hashlib.sha256(f"{client_id}|{authority}".encode()).hexdigest()[:16]
    return Path(platformdirs.user_cache_dir("dualtrack")) / f"entra-{key}.json"


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, readable by the owner only (0600)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _certificate(path: str | Path, password: str | None) -> dict[str, Any]:
    p = Path(path).expanduser()
    if p.suffix.lower() in (".pfx", ".p12"):
        cred: dict[str, Any] = {"private_key_pfx_path": str(p)}
    else:
        try:
            pem = p.read_text()
        except OSError as exc:
            raise ValueError(f"cannot read client_certificate_path {str(p)!r}: {exc.strerror}") from None
        key = re.search(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.+?-----END [A-Z ]*PRIVATE KEY-----", pem, re.S)
        cert = re.search(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", pem, re.S)
        if not key or not cert:
            raise ValueError(
                f"client_certificate_path {str(p)!r} must be a PEM file holding the private key "
                "and its certificate (or a .pfx file)"
            )
        cred = {"private_key": key.group(0), "public_certificate": cert.group(0)}
    if password:
        cred["passphrase"] = password
    return cred


class EntraTokenProvider:
    """Gets and refreshes Entra ID access tokens for one app registration.

    Args:
        client_id: The application (client) id.
        tenant_id: The directory (tenant) id; builds the default authority.
        authority: The full authority URL (default ``https://login.microsoftonline.com/{tenant_id}``).
        client_secret: Sign in as a service with this secret.
        certificate_path: Sign in as a service with this PEM (key + certificate) or .pfx file.
        certificate_password: Passphrase of the certificate's private key.
        device_code: Sign a person in with the device-code flow.
        scope: The token scope.
        cache_path: The token-cache file; ``None`` picks one in the user cache
            directory, ``False`` keeps tokens in memory only.
        refresh_margin_s: Refresh tokens this many seconds before they expire.
        on_device_code: Receives the device-code instructions (default: printed to stderr).
        http_client: An msal ``http_client`` (tests serve a fake authority with it).
        validate_authority: Let msal validate the authority host.
        instance_discovery: msal's instance discovery (``False`` for private clouds and tests).
        redactor: Every token obtained is added to it, so it is masked everywhere.
    """

    def __init__(
        self,
        *,
        client_id: str,
        tenant_id: str | None = None,
        authority: str | None = None,
        client_secret: str | None = None,
        certificate_path: str | Path | None = None,
        certificate_password: str | None = None,
        device_code: bool = False,
        scope: str = DEFAULT_SCOPE,
        cache_path: str | Path | Literal[False] | None = None,
        refresh_margin_s: float = 300.0,
        on_device_code: Callable[[str], None] | None = None,
        http_client: Any = None,
        validate_authority: bool = True,
        instance_discovery: bool | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        modes = [bool(client_secret), certificate_path is not None, device_code]
        if sum(modes) != 1:
            raise ValueError(
                "Entra ID sign-in needs exactly one of client_secret, client_certificate_path "
                "or device_code = true"
            )
        if not client_id:
            raise ValueError("Entra ID sign-in needs client_id (the app registration's id)")
        if authority is None:
            if not tenant_id:
                raise ValueError("Entra ID sign-in needs tenant_id (or a full authority URL)")
            authority = f"https://login.microsoftonline.com/{tenant_id}"
        self.client_id = client_id
        self.authority = authority.rstrip("/")
        self.scope = scope
        self.mode: AuthMode = (
            "client-secret" if client_secret else "client-certificate" if certificate_path else "device-code"
        )
        self._credential: Any = (
            client_secret
            if client_secret
            else _certificate(certificate_path, certificate_password)
            if certificate_path is not None
            else None
        )
        self.redactor = redactor if redactor is not None else Redactor()
        self.redactor.add(client_secret)
        self.redactor.add(certificate_password)
        if cache_path is None:
            cache_path = default_cache_path(client_id, self.authority)
        self.cache_path: Path | None = Path(cache_path).expanduser() if cache_path is not False else None
        self.refresh_margin_s = refresh_margin_s
        self._on_device_code = on_device_code or _print_to_stderr
        self._http_client = http_client
        self._validate_authority = validate_authority
        self._instance_discovery = instance_discovery
        self._app: Any = None
        self._cache: Any = None
        self._cache_stamp: int | None = None
        self._token: str | None = None
        self._expires_at = 0.0
        self._force = False  # the next acquisition bypasses msal's cache (after a 401)
        key = str(self.cache_path) if self.cache_path else f"memory:{id(self)}"
        with _LOCKS_GUARD:
            self._lock = _LOCKS.setdefault(key, threading.Lock())

    async def headers(self) -> dict[str, str]:
        """``{"Authorization": "Bearer <token>"}`` with a fresh token."""
        return {"Authorization": f"Bearer {await self.token()}"}

    async def token(self) -> str:
        """A valid access token (from memory when fresh, else via msal in a thread)."""
        token = self._token
        if token is not None and time.time() < self._expires_at - self.refresh_margin_s:
            return token
        return await asyncio.to_thread(self._acquire)

    async def refresh(self) -> str:
        """A new token, bypassing every cache: for an API that rejected the current one (401)."""
        self._token = None
        self._force = True
        return await asyncio.to_thread(self._acquire)

    def __repr__(self) -> str:
        return (
            f"EntraTokenProvider(authority={self.authority!r}, client_id={self.client_id!r}, "
            f"mode={self.mode!r})"
        )

    # -- in the worker thread -------------------------------------------------------

    def _acquire(self) -> str:
        with self._lock:
            if self._token is not None and time.time() < self._expires_at - self.refresh_margin_s:
                return self._token  # another thread refreshed it while we waited
            self._load_cache()
            try:
                result = self._ask_msal()
            except (AuthenticationError, ServerError):
                raise
            except ValueError as exc:  # msal: bad authority, unusable certificate ...
                raise AuthenticationError(
                    f"Entra ID sign-in at {self.authority} failed: {self.redactor.text(str(exc))[:300]} "
                    "- check tenant_id/authority and the credential"
                ) from exc
            except Exception as exc:  # the authority could not be reached (requests, sockets ...)
                raise ServerError(
                    f"could not reach the Entra ID authority {self.authority}: {type(exc).__name__}: "
                    f"{self.redactor.text(str(exc))[:300]}"
                ) from exc
            finally:
                self._save_cache()
            if not isinstance(result, dict) or "access_token" not in result:
                raise self._refused(result)
            token = str(result["access_token"])
            self._force = False
            self.redactor.add(token)
            self.redactor.add(result.get("refresh_token"))
            self._token = token
            self._expires_at = time.time() + float(result.get("expires_in") or 0)
            _log.debug("Entra ID token for %s from %s", self.client_id, result.get("token_source", "msal"))
            return token

    def _refused(self, result: Any) -> AuthenticationError:
        result = result if isinstance(result, dict) else {}
        error = result.get("error") or "no token"
        desc = self.redactor.text(str(result.get("error_description") or ""))
        desc = desc.splitlines()[0][:300] if desc else ""
        return AuthenticationError(
            f"Entra ID refused the sign-in ({error}: {desc}) - check client_id, tenant and the "
            f"credential, and that the app may request {self.scope}"
        )

    def _build_app(self) -> Any:
        msal = _msal()

        common: dict[str, Any] = {
            "authority": self.authority,
            "token_cache": self._cache,
            "validate_authority": self._validate_authority,
        }
        if self._instance_discovery is not None:
            common["instance_discovery"] = self._instance_discovery
        if self._http_client is not None:
            common["http_client"] = self._http_client
        if self.mode == "device-code":
            return msal.PublicClientApplication(self.client_id, **common)
        return msal.ConfidentialClientApplication(
            self.client_id, client_credential=self._credential, **common
        )

    def _stale(self, result: Any) -> bool:
        """A cached token msal still serves, but which expires inside our margin."""
        return (
            isinstance(result, dict)
            and result.get("token_source") == "cache"
            and float(result.get("expires_in") or 0) <= self.refresh_margin_s
        )

    def _ask_msal(self) -> Any:
        if self._app is None:
            self._app = self._build_app()
        app, scopes = self._app, [self.scope]
        if self.mode != "device-code":
            if self._force:
                app.remove_tokens_for_client()
            result = app.acquire_token_for_client(scopes=scopes)
            if self._stale(result):
                app.remove_tokens_for_client()
                result = app.acquire_token_for_client(scopes=scopes)
            return result
        accounts = app.get_accounts()
        if accounts:
            result = app.acquire_token_silent(scopes, account=accounts[0], force_refresh=self._force)
            if self._stale(result):
                result = app.acquire_token_silent(scopes, account=accounts[0], force_refresh=True)
            if result and "access_token" in result:
                return result
        flow = app.initiate_device_flow(scopes=scopes)
        if "user_code" not in flow:
            raise self._refused(flow)
        self._on_device_code(str(flow.get("message") or f"Enter the code {flow['user_code']}"))
        return app.acquire_token_by_device_flow(flow)

    def _load_cache(self) -> None:
        msal = _msal()

        if self._cache is None:
            self._cache = msal.SerializableTokenCache()
        path = self.cache_path
        if path is None:
            return
        try:
            st = path.stat()
        except FileNotFoundError:
            return
        if st.st_mtime_ns == self._cache_stamp:
            return
        if st.st_mode & 0o077:
            _log.warning("token cache %s was readable by others; restricting it to its owner", path)
            os.chmod(path, 0o600)
        try:
            self._cache.deserialize(path.read_text())
        except (OSError, ValueError) as exc:
            _log.warning("token cache %s is unreadable (%s); starting a new one", path, type(exc).__name__)
        self._cache_stamp = st.st_mtime_ns

    def _save_cache(self) -> None:
        path = self.cache_path
        if path is None or self._cache is None or not self._cache.has_state_changed:
            return
        try:
            write_private(path, self._cache.serialize())
            self._cache_stamp = path.stat().st_mtime_ns
        except OSError as exc:
            _log.warning("could not save the token cache %s: %s", path, exc.strerror)
        self._cache.has_state_changed = False
