"""The ``azure-openai`` connector: Azure OpenAI deployments, by API key or Entra ID (msal).

Both URL shapes are supported::

    [[models]]
    name = "gpt-4o"
    track = "partner"
    connector = "azure-openai"
    settings = { endpoint = "https://contoso.openai.azure.com", deployment = "gpt-4o",
                 api_key = "${AZURE_OPENAI_API_KEY}" }

    # v1 shape, signed in as a service with Entra ID
    settings = { endpoint = "https://contoso.openai.azure.com", deployment = "gpt-4o", api_shape = "v1",
                 tenant_id = "...", client_id = "...", client_secret = "${AZURE_CLIENT_SECRET}" }

People at a terminal sign in with ``auth = "device-code"`` (and ``client_id``, ``tenant_id``).
"""

from ._connector import DEFAULT_API_VERSION, ApiShape, AzureOpenAIConnector
from ._entra import DEFAULT_SCOPE, EntraTokenProvider

__all__ = ["DEFAULT_API_VERSION", "DEFAULT_SCOPE", "ApiShape", "AzureOpenAIConnector", "EntraTokenProvider"]
