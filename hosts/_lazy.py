"""Names of a host package imported on first use, with the extra to install when the framework is missing."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

from dualtrack import MissingDependencyError

__all__ = ["lazy_getattr"]


def lazy_getattr(
    namespace: dict[str, Any], table: Mapping[str, str], *, host: str, framework: str, extra: str
) -> Callable[[str], Any]:
    """The module ``__getattr__`` of a host package whose names import a framework on first use.

    Args:
        namespace: The package's ``globals()`` (a name found is kept there).
        table: Public name → the private module that defines it (``"._chat"``).
        host: The host as messages name it (``"the Semantic Kernel host"``).
        framework: The framework's top-level import name (``"semantic_kernel"``).
        extra: The extra that installs it (``"sk"``).

    Returns:
        The function to assign to the package's ``__getattr__``; it raises
        :class:`~dualtrack.MissingDependencyError` naming ``extra`` when the framework is missing.
    """
    package = str(namespace["__name__"])

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        try:
            value = getattr(importlib.import_module(module, package), name)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.partition(".")[0] == framework:
                raise MissingDependencyError(host, framework, f"pip install 'dualtrack[{extra}]'") from exc
            raise
        namespace[name] = value
        return value

    return __getattr__
