"""Finding plugins, connectors and default catalog entries by entry point.

The core never imports ``dualtrack.plugins`` or ``dualtrack.connectors``: it
looks names up in the entry-point groups below and imports the target only
when it is first used.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from .._errors import ConfigError, UserError
from ._cards import Connector, ModelCard

__all__ = [
    "CATALOG_GROUP",
    "CONNECTOR_GROUP",
    "PLUGIN_GROUP",
    "available_connectors",
    "available_plugins",
    "create_connector",
    "load_plugin",
]

PLUGIN_GROUP = "dualtrack.plugins"
CONNECTOR_GROUP = "dualtrack.connectors"
CATALOG_GROUP = "dualtrack.catalog"


@cache
def _group(group: str) -> dict[str, EntryPoint]:
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


def _load(group: str, name: str, what: str) -> Any:
    eps = _group(group)
    ep = eps.get(name)
    if ep is None:
        close = difflib.get_close_matches(name, list(eps), n=3)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise UserError(
            f"no {what} named {name!r} is installed.{hint} Installed: "
            f"{', '.join(sorted(eps)) or 'none'}; third parties register under "
            f"the {group!r} entry-point group."
        )
    try:
        return ep.load()
    except ImportError as exc:
        raise UserError(f"{what} {name!r} could not be imported: {exc}") from exc


def load_plugin(name: str) -> object:
    """Import an installed plugin class by entry-point name."""
    return _load(PLUGIN_GROUP, name, "plugin")


def create_connector(card: ModelCard) -> Connector:
    """Build the connector a card names (or return the instance it holds).

    Args:
        card: The model card.

    Returns:
        A connector ready to ``complete`` requests.

    Raises:
        UserError: The connector is not installed or cannot be imported.
        ConfigError: Its settings were rejected.
    """
    if not isinstance(card.connector, str):
        return card.connector  # type: ignore[no-any-return]
    factory: Callable[[ModelCard], Connector] = _load(CONNECTOR_GROUP, card.connector, "connector")
    try:
        return factory(card)
    except (TypeError, ValueError) as exc:
        raise ConfigError(str(exc), field=f"models.{card.name}.settings") from exc


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
