"""The catalog entry of the bundled embedded model (SmolLM2-135M-Instruct, Q4_1).

The numbers are deliberately modest. A 135M-parameter model follows short
instructions, rewrites and condenses short passages and, with a grammar, always
emits JSON of the requested shape; it does not reason over several steps, write
reliable code or call tools, so it gets none of those tags. Its GGUF was trained
for 8192 tokens of context; the card loads 2048 because prompt evaluation runs
at roughly one to a few hundred tokens per second on one ordinary CPU core, so a
full 8192-token prompt would keep a caller waiting for a minute or more. Raise ``context_window`` (and with it
the loaded ``n_ctx``) up to 8192 in ``dualtrack.toml`` if you want that trade.
"""

from __future__ import annotations

from typing import Any

from dualtrack import ModelCard, PromptProfile, Sensitivity, Track, tags

__all__ = ["DEFAULT_CAPABILITIES", "DEFAULT_CONTEXT_WINDOW", "DEFAULT_MODEL_NAME", "default_card"]

DEFAULT_MODEL_NAME = "smollm2-135m"
DEFAULT_CONTEXT_WINDOW = 2048
DEFAULT_CAPABILITIES = frozenset({tags.CHAT, tags.JSON, tags.SUMMARIZE, tags.REWRITE, tags.EXTRACT})
# Measured on one shared x86 core: ~0.2 s to load, then a 40-token prompt and a
# 48-token reply in about 2-3 s. A hint for the router's latency objective only.
DEFAULT_LATENCY_MS = 2500.0
DEFAULT_QUALITY = 0.15


def default_card(**overrides: Any) -> ModelCard:
    """The model card of the SmolLM2-135M model bundled with the ``local`` extra.

    Track ``in-house`` and clearance ``highly-confidential`` (the data never leaves
    the process), cost 0, one call at a time, prompt profile ``small`` (skills send
    it one short instruction per call and parse plain-text replies).

    Args:
        **overrides: Card fields to replace (``enabled``, ``disabled_reason``,
            ``context_window``, ``settings`` ...).

    Returns:
        The card; its connector is ``llama-cpp`` with the bundled model file.
    """
    fields: dict[str, Any] = {
        "name": DEFAULT_MODEL_NAME,
        "track": Track.IN_HOUSE,
        "capabilities": DEFAULT_CAPABILITIES,
        "context_window": DEFAULT_CONTEXT_WINDOW,
        "cost_input": 0.0,
        "cost_output": 0.0,
        "latency_ms": DEFAULT_LATENCY_MS,
        "quality": DEFAULT_QUALITY,
        "clearance": Sensitivity.HIGHLY_CONFIDENTIAL,
        "connector": "llama-cpp",
        "settings": {},
        "max_concurrency": 1,
        "prompt_profile": PromptProfile.SMALL,
    }
    fields.update(overrides)
    return ModelCard(**fields)
