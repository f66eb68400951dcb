"""What an agent package is built from: names, the service's URLs, how Copilot signs in."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from dualtrack import UserError

__all__ = ["AgentPackageError", "PackageOptions", "PluginAuth"]

_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_SEMVER = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_APP_NAMESPACE = uuid.UUID("6f1c3c1e-3f0b-5d7a-9a8e-2d1f0a6b7c41")


class AgentPackageError(UserError):
    """The agent package cannot be built as asked; the message names the option to fix."""


class PluginAuth(StrEnum):
    """How Copilot authenticates its calls to the service (the plugin runtime's ``auth.type``)."""

    NONE = "None"
    API_KEY = "ApiKeyPluginVault"


def _https(option: str, url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc:
        raise AgentPackageError(
            f"{option} must be an absolute https:// URL that Microsoft 365 can reach, got {url!r}; "
            "Copilot calls services over HTTPS only (for a local server, use a tunnel such as "
            "dev tunnels and pass its https URL)"
        )
    if parts.query or parts.fragment:
        raise AgentPackageError(f"{option} must not carry a query or fragment, got {url!r}")
    return url.rstrip("/")


@dataclass(frozen=True, kw_only=True)
class PackageOptions:
    """The settings of one agent package.

    Attributes:
        name: The agent's and app's name (at most 30 characters: Teams' short name).
        base_url: The HTTP host's public https URL (``dualtrack serve`` behind it).
        mcp_url: The MCP host's public https URL (``.../mcp``): skills Copilot's API
            plugins cannot call with all their arguments are offered through it.
        description: What the agent does (default: from the plugins).
        app_id: The app's GUID (default: derived from the name and base URL, so a
            rebuilt package updates the same app).
        version: The app's version (``MAJOR.MINOR.PATCH``).
        developer: The developer's name (at most 32 characters).
        website_url: The developer's website (default: the base URL).
        privacy_url: The privacy statement (default: the base URL).
        terms_url: The terms of use (default: the base URL).
        accent_color: The icon's background colour (``#rrggbb``).
        api_key_registration: The id of the API key registered for the service in
            the Teams developer portal; without one, Copilot calls without credentials.
    """

    name: str
    base_url: str
    mcp_url: str | None = None
    description: str | None = None
    app_id: str | None = None
    version: str = "1.0.0"
    developer: str = "dualtrack"
    website_url: str | None = None
    privacy_url: str | None = None
    terms_url: str | None = None
    accent_color: str = "#2B6CB0"
    api_key_registration: str | None = None

    def checked(self) -> PackageOptions:
        """These options with URLs normalised and every limit checked.

        Raises:
            AgentPackageError: Naming the option and the limit it breaks.
        """
        name = " ".join(self.name.split())
        if not name or len(name) > 30 or "[[" in name or "]]" in name:
            raise AgentPackageError(
                f"--name must be 1 to 30 characters without '[[' or ']]' (Teams shows it as the app's "
                f"short name), got {self.name!r}"
            )
        base = _https("--base-url", self.base_url)
        if self.app_id is not None and not _GUID.match(self.app_id):
            raise AgentPackageError(f"--app-id must be a GUID, got {self.app_id!r}")
        if not _SEMVER.match(self.version):
            raise AgentPackageError(
                f"--version must look like 1.0.0 (MAJOR.MINOR.PATCH), got {self.version!r}"
            )
        if not 0 < len(self.developer) <= 32:
            raise AgentPackageError(f"--developer must be 1 to 32 characters, got {self.developer!r}")
        if not _COLOR.match(self.accent_color):
            raise AgentPackageError(f"--accent-color must look like #2B6CB0, got {self.accent_color!r}")
        if self.api_key_registration is not None and not self.api_key_registration.strip():
            raise AgentPackageError("--api-key-registration must be the registration id, not empty")
        return PackageOptions(
            name=name,
            base_url=base,
            mcp_url=_https("--mcp-url", self.mcp_url) if self.mcp_url else None,
            description=" ".join(self.description.split()) if self.description else None,
            app_id=self.app_id or str(uuid.uuid5(_APP_NAMESPACE, f"{name}\n{base}")),
            version=self.version,
            developer=self.developer,
            website_url=_https("--website-url", self.website_url or base),
            privacy_url=_https("--privacy-url", self.privacy_url or base),
            terms_url=_https("--terms-url", self.terms_url or base),
            accent_color=self.accent_color,
            api_key_registration=self.api_key_registration,
        )

    @property
    def auth(self) -> PluginAuth:
        """How the plugin's runtimes authenticate."""
        return PluginAuth.API_KEY if self.api_key_registration else PluginAuth.NONE
