"""The ``m365`` file source: files in OneDrive and SharePoint, through Microsoft Graph (msal + httpx).

Skills then take references where they take paths::

    await orc.invoke("document.summarize", path="onedrive:/Reports/q3.docx")
    await orc.invoke("document.suggest_edits", path="sharepoint://contoso.sharepoint.com/sites/Finance/"
                     "Documents/q3.docx", instruction="plain language")

Configured in ``dualtrack.toml`` (secrets and ids from the environment)::

    [[file_sources]]
    source = "m365"
    tenant_id = "${M365_TENANT_ID}"
    client_id = "${M365_CLIENT_ID}"
    client_secret = "${M365_CLIENT_SECRET}"    # a service (app-only: Sites.ReadWrite.All)
    # client_certificate_path = "app.pem"      # ... or a certificate
    # auth = "device-code"                     # a person at a terminal (delegated: Files.ReadWrite)
    # onedrive_user = "ada@contoso.com"        # whose OneDrive `onedrive:` means, app-only
    # max_download_mb = 200
    # access_token = "${GRAPH_TOKEN}"          # or a token obtained elsewhere

Tokens are cached in a file only its owner can read (0600) and never logged.
"""

from ._client import Credential, StaticToken
from ._refs import DriveRef, RefKind, parse_ref
from ._source import APP_SCOPE, DELEGATED_SCOPE, GRAPH_URL, GraphFileSource
from ._transfer import CHUNK_UNIT, MAX_CHUNK

__all__ = [
    "APP_SCOPE",
    "CHUNK_UNIT",
    "DELEGATED_SCOPE",
    "GRAPH_URL",
    "MAX_CHUNK",
    "Credential",
    "DriveRef",
    "GraphFileSource",
    "RefKind",
    "StaticToken",
    "parse_ref",
]
