"""Safe file handling for skills: atomic writes (:mod:`._atomic`), package checks (:mod:`._inspect`)."""

from __future__ import annotations

from ._atomic import atomic_write
from ._inspect import PackageInfo, inspect_package

__all__ = ["PackageInfo", "atomic_write", "inspect_package"]
