"""The ``openai`` connector: OpenAI's Chat Completions API and OpenAI-compatible servers.

Use it for the partner track (``base_url`` left at OpenAI) and for in-house
servers that speak the same API (vLLM, llama.cpp, Ollama, LM Studio ...)::

    [[models]]
    name = "gpt-4o-mini"
    track = "partner"
    connector = "openai"
    settings = { api_key = "${OPENAI_API_KEY}" }

    [[models]]
    name = "local-llama"
    track = "in-house"
    connector = "openai"
    settings = { base_url = "http://127.0.0.1:8080/v1", model = "llama" }
"""

from ._connector import DEFAULT_BASE_URL, AuthHeaders, OpenAIConnector

__all__ = ["DEFAULT_BASE_URL", "AuthHeaders", "OpenAIConnector"]
