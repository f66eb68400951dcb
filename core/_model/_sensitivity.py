"""Sensitivity labels, ordered from ``public`` to ``highly-confidential``."""

from __future__ import annotations

import enum
from typing import Any

__all__ = ["Sensitivity"]


class Sensitivity(enum.StrEnum):
    """How sensitive a piece of data is; a hard routing constraint.

    Members compare by rank, so ``Sensitivity.PUBLIC < Sensitivity.CONFIDENTIAL``.
    A model receives data only when ``data_sensitivity <= card.clearance``.
    """

    PUBLIC = "public"
    GENERAL = "general"
    CONFIDENTIAL = "confidential"
    HIGHLY_CONFIDENTIAL = "highly-confidential"

    rank: int
    """The position of the label, 0 for ``public`` (set below, read on hot paths)."""

    @classmethod
    def parse(cls, value: str | Sensitivity) -> Sensitivity:
        """Parse a label leniently (case, spaces and underscores ignored).

        Args:
            value: A label such as ``"Highly Confidential"`` or ``"general"``.

        Returns:
            The matching member.

        Raises:
            ValueError: If the label is not one of the four levels.
        """
        if isinstance(value, Sensitivity):
            return value
        key = value.strip().lower().replace("_", "-").replace(" ", "-")
        try:
            return cls(key)
        except ValueError:
            names = ", ".join(m.value for m in cls)
            raise ValueError(f"unknown sensitivity {value!r}; use one of: {names}") from None

    def __lt__(self, other: Any) -> bool:
        if not isinstance(other, Sensitivity):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: Any) -> bool:
        if not isinstance(other, Sensitivity):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: Any) -> bool:
        if not isinstance(other, Sensitivity):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: Any) -> bool:
        if not isinstance(other, Sensitivity):
            return NotImplemented
        return self.rank >= other.rank

    def __hash__(self) -> int:
        return str.__hash__(self)


for _i, _member in enumerate(Sensitivity):
    _member.rank = _i
del _i, _member
