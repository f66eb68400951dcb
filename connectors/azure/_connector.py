"""``AzureOpenAIConnector``: Azure OpenAI deployments, by API key or Entra ID.

The wire format, streaming and error mapping are the ``openai`` connector's: this
class only builds the Azure URL and the credentials, and delegates to an
:class:`~dualtrack.connectors.openai.OpenAIConnector`.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import httpx

from dualtrack import Completion, CompletionRequest, ModelCard

from .._http import Redactor, safe_url
from ..openai import OpenAIConnector
from ..openai._settings import HTTP_SETTINGS, check_base_url, check_keys, http_options
from ._entra import DEFAULT_SCOPE, EntraTokenProvider

__all__ = ["DEFAULT_API_VERSION", "ApiShape", "AzureOpenAIConnector"]

DEFAULT_API_VERSION = "2024-10-21"
"""The GA ``api-version`` used with the deployments URL shape unless set."""
ApiShape = Literal["deployments", "v1"]
_AUTH_MODES = ("api-key", "client-secret", "client-certificate", "device-code")
_SETTINGS = {
    "endpoint": "the resource endpoint, https://<resource>.openai.azure.com",
    "deployment": "the deployment name (default: settings.model, then the card's name)",
    "model": "alias of deployment",
    "api_shape": '"deployments" (/openai/deployments/{deployment}/...) or "v1" (/openai/v1/...)',
    "api_version": f"the api-version query parameter (deployments default {DEFAULT_API_VERSION})",
    "api_key": "the resource key, sent as the api-key header",
    "auth": f"one of {', '.join(_AUTH_MODES)} (inferred from the other settings)",
    "tenant_id": "Entra ID directory (tenant) id",
    "client_id": "Entra ID application (client) id",
    "client_secret": "Entra ID client secret (services)",
    "client_certificate_path": "PEM (key + certificate) or .pfx file (services)",
    "client_certificate_password": "passphrase of the certificate's key",
    "authority": "Entra ID authority URL (default https://login.microsoftonline.com/<tenant_id>)",
    "scope": f"token scope (default {DEFAULT_SCOPE})",
    "token_cache_path": "token cache file (default in the user cache dir; false: memory only)",
    "refresh_margin_s": "refresh tokens this many seconds before expiry (default 300)",
    "validate_authority": "let msal validate the authority host (default true)",
    "instance_discovery": "msal instance discovery (set false for private clouds)",
    **HTTP_SETTINGS,
}


def _normalise_endpoint(endpoint: str) -> str:
    url = check_base_url(endpoint, "endpoint")
    for suffix in ("/openai/v1", "/openai"):
        if url.endswith(suffix):
            return url[: -len(suffix)]
    return url


class AzureOpenAIConnector:
    """Chat completions from an Azure OpenAI deployment.

    Args:
        endpoint: ``https://<resource>.openai.azure.com``.
        deployment: The deployment name.
        api_shape: ``deployments``: ``{endpoint}/openai/deployments/{deployment}/chat/completions``
            with ``?api-version=``; ``v1``: ``{endpoint}/openai/v1/chat/completions`` with the
            deployment as ``model``.
        api_version: The ``api-version`` (deployments default :data:`DEFAULT_API_VERSION`;
            v1 sends none unless given, e.g. ``preview``).
        api_key: Authenticate with the resource key (``api-key`` header).
        credential: Authenticate with Entra ID bearer tokens instead.
        client: An ``httpx.AsyncClient`` to use instead of the default pooled session.
        **options: HTTP and wire options of :class:`~dualtrack.connectors.openai.OpenAIConnector`
            (``timeout``, ``connect_timeout``, ``max_connections``, ``extra_headers`` ...).
    """

    def __init__(
        self,
        endpoint: str,
        deployment: str,
        *,
        api_shape: ApiShape = "deployments",
        api_version: str | None = None,
        api_key: str | None = None,
        credential: EntraTokenProvider | None = None,
        client: httpx.AsyncClient | None = None,
        **options: Any,
    ) -> None:
        if (api_key is None) == (credential is None):
            raise ValueError(
                "Azure OpenAI needs exactly one way to sign in: api_key, or Entra ID "
                "(client_id and tenant_id plus client_secret, client_certificate_path or device_code)"
            )
        if api_shape not in ("deployments", "v1"):
            raise ValueError(f'api_shape must be "deployments" or "v1", got {api_shape!r}')
        if not deployment:
            raise ValueError("Azure OpenAI needs the deployment name")
        self.endpoint = _normalise_endpoint(endpoint)
        self.deployment = deployment
        self.api_shape = api_shape
        self.credential = credential
        self.auth = "api-key" if credential is None else f"entra-{credential.mode}"
        given: Redactor | None = options.pop("redactor", None)
        redactor = credential.redactor if credential is not None else given or Redactor()
        redactor.add(api_key)
        headers = dict(options.pop("extra_headers", None) or {})
        if api_key is not None:
            headers["api-key"] = api_key
        query: dict[str, str] | None
        model: str | None
        if api_shape == "deployments":
            base = f"{self.endpoint}/openai/deployments/{quote(deployment, safe='')}"
            query = {"api-version": api_version or DEFAULT_API_VERSION}
            model = None
        else:
            base = f"{self.endpoint}/openai/v1"
            query = {"api-version": api_version} if api_version else None
            model = deployment
        self._inner = OpenAIConnector(
            model,
            base_url=base,
            client=client,
            extra_headers=headers,
            query=query,
            auth=credential.headers if credential is not None else None,
            redactor=redactor,
            **options,
        )

    @classmethod
    def from_card(
        cls,
        card: ModelCard,
        *,
        client: httpx.AsyncClient | None = None,
        msal_http_client: Any = None,
        on_device_code: Callable[[str], None] | None = None,
        redactor: Redactor | None = None,
    ) -> AzureOpenAIConnector:
        """Build from a card's settings (the ``azure-openai`` entry point).

        Args:
            card: The model card.
            client: Optional ``httpx.AsyncClient`` for the model calls.
            msal_http_client: Optional msal ``http_client`` for the Entra ID authority.
            on_device_code: Receives device-code sign-in instructions (default: stderr).
            redactor: The orchestrator's secret masker; keys and every token obtained are added.

        Returns:
            The connector.

        Raises:
            ValueError: A setting is unknown, missing or invalid.
        """
        s = card.settings
        check_keys(s, _SETTINGS, "azure-openai")
        endpoint = s.get("endpoint") or os.environ.get("AZURE_OPENAI_ENDPOINT")
        if not endpoint:
            raise ValueError(
                f"model {card.name!r} needs settings.endpoint (https://<resource>.openai.azure.com)"
            )
        api_key = s.get("api_key")
        auth = s.get("auth") or (
            "api-key"
            if api_key
            else "client-secret"
            if s.get("client_secret")
            else "client-certificate"
            if s.get("client_certificate_path")
            else "device-code"
            if s.get("client_id")
            else None
        )
        if auth is None and os.environ.get("AZURE_OPENAI_API_KEY"):
            auth, api_key = "api-key", os.environ["AZURE_OPENAI_API_KEY"]
        if auth not in _AUTH_MODES:
            raise ValueError(
                f"model {card.name!r} has no usable sign-in: set api_key, or client_id + tenant_id with "
                f'client_secret, client_certificate_path or auth = "device-code" (auth={auth!r})'
            )
        credential = None
        if auth != "api-key":
            cache = s.get("token_cache_path")
            credential = EntraTokenProvider(
                client_id=s.get("client_id", ""),
                tenant_id=s.get("tenant_id"),
                authority=s.get("authority"),
                client_secret=s.get("client_secret") if auth == "client-secret" else None,
                certificate_path=s.get("client_certificate_path") if auth == "client-certificate" else None,
                certificate_password=s.get("client_certificate_password"),
                device_code=auth == "device-code",
                scope=s.get("scope", DEFAULT_SCOPE),
                cache_path=False if cache is False else (Path(cache) if cache else None),
                refresh_margin_s=float(s.get("refresh_margin_s", 300.0)),
                on_device_code=on_device_code,
                http_client=msal_http_client,
                validate_authority=bool(s.get("validate_authority", True)),
                instance_discovery=s.get("instance_discovery"),
                redactor=redactor,
            )
        elif not api_key:
            raise ValueError(f'model {card.name!r} uses auth = "api-key" but settings.api_key is empty')
        return cls(
            endpoint,
            str(s.get("deployment") or s.get("model") or card.name),
            api_shape=s.get("api_shape", "deployments"),
            api_version=s.get("api_version"),
            api_key=api_key if auth == "api-key" else None,
            credential=credential,
            client=client,
            redactor=redactor,
            **http_options(s),
        )

    async def complete(self, request: CompletionRequest) -> Completion:
        """Complete one request (see :meth:`OpenAIConnector.complete`)."""
        return await self._inner.complete(request)

    async def stream(self, request: CompletionRequest) -> AsyncIterator[str]:
        """Yield text increments (see :meth:`OpenAIConnector.stream`)."""
        async for text in self._inner.stream(request):
            yield text

    async def sign_in(self) -> None:
        """Get a token now (runs the device-code flow up front, before any model call)."""
        if self.credential is not None:
            await self.credential.token()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._inner.aclose()

    @property
    def url(self) -> str:
        """The chat completions URL (without the query string)."""
        return self._inner.url

    def __repr__(self) -> str:
        return (
            f"AzureOpenAIConnector(endpoint={safe_url(self.endpoint)!r}, deployment={self.deployment!r}, "
            f"api_shape={self.api_shape!r}, auth={self.auth!r})"
        )
