"""A fake Microsoft Entra ID authority, served to msal through its ``http_client`` hook.

msal runs for real (discovery, client credentials with a secret or a signed
certificate assertion, device-code polling, refresh tokens, its token cache);
only the wire is replaced. Unknown URLs fail the test loudly.
"""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@dataclass
class FakeResponse:
    status_code: int
    text: str
    headers: dict[str, str] = field(default_factory=lambda: {"content-type": "application/json"})

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise RuntimeError(f"HTTP {self.status_code}")


def _b64(obj: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


class FakeAuthority:
    """Implements msal's ``http_client`` (``get``/``post``) for one tenant.

    Args:
        client_secret: The secret client-credential requests must carry.
        public_key: Verifies certificate client assertions (when given).
        expires_in: Lifetime of issued access tokens.
        on_token: Called with every access token issued (the API server accepts them).
        pending_polls: Device-code polls answered ``authorization_pending`` first.
    """

    host = "login.example.test"
    tenant = "contoso-tenant"

    def __init__(
        self,
        *,
        client_secret: str | None = None,
        public_key: Any = None,
        expires_in: int = 3600,
        on_token: Callable[[str], None] | None = None,
        pending_polls: int = 1,
    ) -> None:
        self.client_secret = client_secret
        self.public_key = public_key
        self.expires_in = expires_in
        self.on_token = on_token
        self.pending_polls = pending_polls
        self.token_requests: list[dict[str, Any]] = []
        self.device_code_requests = 0
        self.issued: list[str] = []
        self.refresh_tokens: set[str] = set()
        self._ids = itertools.count(1)

    @property
    def authority(self) -> str:
        return f"https://{self.host}/{self.tenant}"

    @property
    def token_endpoint(self) -> str:
        return f"{self.authority}/oauth2/v2.0/token"

    @property
    def grants(self) -> list[str]:
        return [r.get("grant_type", "") for r in self.token_requests]

    # -- msal's http_client interface -----------------------------------------------------

    def get(self, url: str, params: Any = None, headers: Any = None, **kw: Any) -> FakeResponse:
        if url.split("?")[0] == f"{self.authority}/v2.0/.well-known/openid-configuration":
            return self._json(
                {
                    "authorization_endpoint": f"{self.authority}/oauth2/v2.0/authorize",
                    "token_endpoint": self.token_endpoint,
                    "device_authorization_endpoint": f"{self.authority}/oauth2/v2.0/devicecode",
                    "issuer": f"https://{self.host}/{self.tenant}/v2.0",
                }
            )
        raise AssertionError(f"msal asked the fake authority for an unexpected URL: GET {url}")

    def post(
        self, url: str, params: Any = None, data: Any = None, headers: Any = None, **kw: Any
    ) -> FakeResponse:
        form = dict(data or {})
        if url == f"{self.authority}/oauth2/v2.0/devicecode":
            self.device_code_requests += 1
            code = "WXYZ-1234"
            return self._json(
                {
                    "device_code": "device-code-secret-value",
                    "user_code": code,
                    "verification_uri": "https://microsoft.com/devicelogin",
                    "expires_in": 900,
                    "interval": 0,
                    "message": f"To sign in, open https://microsoft.com/devicelogin and enter the code {code}.",
                }
            )
        if url != self.token_endpoint:
            raise AssertionError(f"msal posted to an unexpected URL: {url}")
        self.token_requests.append(form)
        grant = form.get("grant_type")
        if grant == "client_credentials":
            return self._client_credentials(form)
        if grant == DEVICE_GRANT:
            if self.pending_polls > 0:
                self.pending_polls -= 1
                return self._json({"error": "authorization_pending", "error_description": "pending"}, 400)
            return self._issue(user=True)
        if grant == "refresh_token":
            if form.get("refresh_token") not in self.refresh_tokens:
                return self._json({"error": "invalid_grant", "error_description": "AADSTS70000: bad RT"}, 400)
            return self._issue(user=True)
        return self._json({"error": "unsupported_grant_type"}, 400)

    # -- internals ----------------------------------------------------------------------

    def _client_credentials(self, form: dict[str, Any]) -> FakeResponse:
        if "client_assertion" in form:
            try:
                jwt.decode(
                    form["client_assertion"],
                    self.public_key,
                    algorithms=["PS256", "RS256"],
                    audience=self.token_endpoint,
                )
            except (jwt.PyJWTError, TypeError, ValueError) as exc:
                return self._json(
                    {"error": "invalid_client", "error_description": f"AADSTS700027: {exc}"}, 401
                )
        elif form.get("client_secret") != self.client_secret:
            return self._json(
                {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided.",
                },
                401,
            )
        return self._issue(user=False)

    def _issue(self, *, user: bool) -> FakeResponse:
        n = next(self._ids)
        token = f"eyJ0eXAi-fake-entra-access-token-{n}-Qx7v"
        self.issued.append(token)
        if self.on_token is not None:
            self.on_token(token)
        body: dict[str, Any] = {
            "token_type": "Bearer",
            "access_token": token,
            "expires_in": self.expires_in,
            "scope": "https://cognitiveservices.azure.com/.default",
        }
        if user:
            refresh = f"fake-refresh-token-{n}-Lm3p"
            self.refresh_tokens.add(refresh)
            body["refresh_token"] = refresh
            claims = {
                "iss": f"https://{self.host}/{self.tenant}/v2.0",
                "aud": "client",
                "oid": "user-oid",
                "tid": self.tenant,
                "preferred_username": "ada@example.test",
                "sub": "user-sub",
            }
            body["id_token"] = f"{_b64({'alg': 'none'})}.{_b64(claims)}.sig"
            body["client_info"] = _b64({"uid": "user-oid", "utid": self.tenant})
        return self._json(body)

    @staticmethod
    def _json(obj: Any, status: int = 200) -> FakeResponse:
        return FakeResponse(status, json.dumps(obj))
