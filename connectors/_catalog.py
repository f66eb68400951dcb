"""The built-in default catalog: the models dualtrack offers when there is no configuration.

Registered as the ``builtin`` entry point of the ``dualtrack.catalog`` group and
called with the environment. Every model is listed, enabled or disabled with the
reason, so route explanations say what would enable it:

* ``smollm2-135m``: the embedded in-house model (llama.cpp in this process),
  enabled when the ``local`` extra is installed. Clearance ``highly-confidential``:
  nothing leaves the process.
* ``gpt-4o-mini`` and ``gpt-4o``: OpenAI, enabled when ``OPENAI_API_KEY`` is set
  (``OPENAI_BASE_URL`` is honoured). Clearance ``general``: a public API service.
* ``azure-<deployment>``: Azure OpenAI, enabled when ``AZURE_OPENAI_ENDPOINT``,
  ``AZURE_OPENAI_DEPLOYMENT`` and credentials are set: ``AZURE_OPENAI_API_KEY``, or
  Microsoft Entra client credentials (``AZURE_TENANT_ID``, ``AZURE_CLIENT_ID``,
  ``AZURE_CLIENT_SECRET``). Optional: ``AZURE_OPENAI_API_VERSION`` (or
  ``OPENAI_API_VERSION``), ``AZURE_OPENAI_API_SHAPE`` and ``AZURE_OPENAI_MODEL`` (the
  model behind the deployment, for its tags and prices). Clearance ``confidential``:
  an organisation's own Azure tenant, under its data-processing terms (prompts are
  not used for training and stay in the chosen region), is the usual home for
  internal business data, but it is still a third party's service, so documents
  labelled highly confidential stay in-house. Override it in ``dualtrack.toml``.
* ``inhouse-<model>``: a self-hosted OpenAI-compatible server (vLLM, Ollama, a
  llama.cpp server), when ``DUALTRACK_INHOUSE_BASE_URL`` and ``DUALTRACK_INHOUSE_MODEL``
  are set. Optional: ``DUALTRACK_INHOUSE_API_KEY``, ``DUALTRACK_INHOUSE_CAPABILITIES``
  (comma-separated tags), ``DUALTRACK_INHOUSE_CONTEXT_WINDOW``. Clearance ``confidential``.

This module imports nothing heavy: the embedded model's presence is checked
with :func:`importlib.util.find_spec`, which does not import it.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dualtrack import ModelCard, Sensitivity, Track, tags
from dualtrack.connectors.llama_cpp import default_card as embedded_card
from dualtrack.connectors.llama_cpp import missing_runtime

__all__ = ["default_cards"]

_GENERAL = frozenset(
    {tags.CHAT, tags.JSON, tags.TOOLS, tags.SUMMARIZE, tags.REWRITE, tags.EXTRACT, tags.TRANSLATE}
)


@dataclass(frozen=True, slots=True)
class _Profile:
    """What a hosted model can do and costs (USD per 1M tokens, list prices)."""

    model: str
    capabilities: frozenset[str]
    context_window: int
    cost_input: float
    cost_output: float
    latency_ms: float
    quality: float

    def fields(self) -> dict[str, Any]:
        return {
            "capabilities": self.capabilities,
            "context_window": self.context_window,
            "cost_input": self.cost_input,
            "cost_output": self.cost_output,
            "latency_ms": self.latency_ms,
            "quality": self.quality,
        }


_GPT_4O_MINI = _Profile(
    "gpt-4o-mini",
    _GENERAL | {tags.CODE, tags.VISION, tags.LONG_CONTEXT},
    128_000,
    0.15,
    0.60,
    900.0,
    0.70,
)
_GPT_4O = _Profile(
    "gpt-4o",
    _GENERAL | {tags.CODE, tags.VISION, tags.LONG_CONTEXT, tags.REASONING},
    128_000,
    2.50,
    10.00,
    1500.0,
    0.85,
)
_OPENAI_MODELS = (_GPT_4O_MINI, _GPT_4O)
# An Azure deployment of a model we do not recognise: assume a GPT-4o-class chat model
# at GPT-4o prices (so cost-minded policies do not favour it by mistake).
_UNKNOWN_AZURE = _Profile("unknown", _GENERAL | {tags.LONG_CONTEXT}, 128_000, 2.50, 10.00, 1500.0, 0.70)
_INHOUSE_DEFAULT_TAGS = frozenset({tags.CHAT, tags.JSON, tags.SUMMARIZE, tags.REWRITE, tags.EXTRACT})


def default_cards(env: Mapping[str, str]) -> list[ModelCard]:
    """The default catalog for an environment.

    Args:
        env: Environment variables (``os.environ`` or a test's dict).

    Returns:
        The embedded model, the OpenAI models, an Azure OpenAI deployment and, when
        configured, an in-house server; each enabled or disabled with the reason.
    """
    cards = [_embedded(), *_openai(env), _azure(env)]
    inhouse = _inhouse(env)
    if inhouse is not None:
        cards.append(inhouse)
    return cards


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _disabled(reasons: list[str]) -> dict[str, Any]:
    if not reasons:
        return {"enabled": True}
    return {"enabled": False, "disabled_reason": "; ".join(reasons)}


def _embedded() -> ModelCard:
    missing = missing_runtime()
    if not missing:
        return embedded_card()
    return embedded_card(
        enabled=False,
        disabled_reason=f"{', '.join(missing)} not installed: pip install 'dualtrack[local]'",
    )


def _openai(env: Mapping[str, str]) -> list[ModelCard]:
    key = _get(env, "OPENAI_API_KEY")
    base_url = _get(env, "OPENAI_BASE_URL")
    cards = []
    for profile in _OPENAI_MODELS:
        settings: dict[str, Any] = {"model": profile.model}
        if key:
            settings["api_key"] = key
        if base_url:
            settings["base_url"] = base_url
        cards.append(
            ModelCard(
                name=profile.model,
                track=Track.PARTNER,
                clearance=Sensitivity.GENERAL,
                connector="openai",
                settings=settings,
                **profile.fields(),
                **_disabled([] if key else ["OPENAI_API_KEY not set"]),
            )
        )
    return cards


def _azure_profile(deployment: str | None, model: str | None) -> _Profile:
    for hint in (model, deployment):
        if not hint:
            continue
        hint = hint.lower()
        # Longest name first, so "gpt-4o-mini" is not taken for "gpt-4o".
        for profile in sorted(_OPENAI_MODELS, key=lambda p: -len(p.model)):
            if profile.model in hint:
                return profile
    return _UNKNOWN_AZURE


def _azure(env: Mapping[str, str]) -> ModelCard:
    endpoint = _get(env, "AZURE_OPENAI_ENDPOINT")
    deployment = _get(env, "AZURE_OPENAI_DEPLOYMENT")
    key = _get(env, "AZURE_OPENAI_API_KEY")
    entra = {name: _get(env, f"AZURE_{name.upper()}") for name in ("tenant_id", "client_id", "client_secret")}
    reasons: list[str] = []  # the variables that are missing
    missing: str | None = None  # the optional dependency that is missing
    if not endpoint:
        reasons.append("AZURE_OPENAI_ENDPOINT")
    if not deployment:
        reasons.append("AZURE_OPENAI_DEPLOYMENT")
    settings: dict[str, Any] = {}
    if endpoint:
        settings["endpoint"] = endpoint
    if deployment:
        settings["deployment"] = deployment
    if key:  # an API key wins when both kinds of credentials are present
        settings["api_key"] = key
    elif all(entra.values()):
        settings.update(entra)
        if importlib.util.find_spec("msal") is None:
            missing = "msal not installed (Entra ID sign-in): pip install 'dualtrack[azure]'"
    else:
        reasons.append("AZURE_OPENAI_API_KEY (or AZURE_TENANT_ID + AZURE_CLIENT_ID + AZURE_CLIENT_SECRET)")
    version = _get(env, "AZURE_OPENAI_API_VERSION") or _get(env, "OPENAI_API_VERSION")
    if version:
        settings["api_version"] = version
    shape = _get(env, "AZURE_OPENAI_API_SHAPE")
    if shape:
        settings["api_shape"] = shape
    profile = _azure_profile(deployment, _get(env, "AZURE_OPENAI_MODEL"))
    return ModelCard(
        name=f"azure-{_slug(deployment)}" if deployment else "azure-openai",
        track=Track.PARTNER,
        clearance=Sensitivity.CONFIDENTIAL,
        connector="azure-openai",
        settings=settings,
        **profile.fields(),
        **_disabled(([f"{', '.join(reasons)} not set"] if reasons else []) + ([missing] if missing else [])),
    )


def _inhouse(env: Mapping[str, str]) -> ModelCard | None:
    base_url = _get(env, "DUALTRACK_INHOUSE_BASE_URL")
    if not base_url:
        return None
    model = _get(env, "DUALTRACK_INHOUSE_MODEL")
    settings: dict[str, Any] = {"base_url": base_url}
    if model:
        settings["model"] = model
    key = _get(env, "DUALTRACK_INHOUSE_API_KEY")
    if key:
        settings["api_key"] = key
    raw_tags = _get(env, "DUALTRACK_INHOUSE_CAPABILITIES")
    caps = frozenset(t.strip() for t in raw_tags.split(",") if t.strip()) if raw_tags else None
    window = _get(env, "DUALTRACK_INHOUSE_CONTEXT_WINDOW")
    reasons = [] if model else ["DUALTRACK_INHOUSE_MODEL not set"]
    if window is not None and not (window.isdigit() and int(window) > 0):
        reasons.append(f"DUALTRACK_INHOUSE_CONTEXT_WINDOW is not a positive integer: {window!r}")
        window = None
    return ModelCard(
        name=f"inhouse-{_slug(model)}" if model else "inhouse-server",
        track=Track.IN_HOUSE,
        capabilities=caps or _INHOUSE_DEFAULT_TAGS,
        context_window=int(window) if window else 8192,
        latency_ms=1500.0,
        quality=0.5,
        clearance=Sensitivity.CONFIDENTIAL,
        connector="openai",
        settings=settings,
        **_disabled(reasons),
    )


def _slug(value: str) -> str:
    """A card-name-friendly form: ``meta-llama/Llama-3.1-8B`` -> ``llama-3.1-8b``."""
    tail = value.rsplit("/", 1)[-1].lower()
    return re.sub(r"[^a-z0-9._-]+", "-", tail).strip("-") or "model"
