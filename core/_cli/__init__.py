"""The ``dualtrack`` command line (rich output)."""

from ._main import main

__all__ = ["main"]
