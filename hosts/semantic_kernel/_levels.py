"""The sensitivity a Semantic Kernel chat history carries (no framework imports).

Tool results of dualtrack skills, and replies of the dualtrack-routed chat service,
carry the level of what they hold in their metadata under :data:`SENSITIVITY_KEY`.
The next routed call of the conversation is made at least at the highest level found,
so a model not cleared for it never receives it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dualtrack import Sensitivity

from .._shared import SENSITIVITY_KEY, highest_label

__all__ = ["SENSITIVITY_KEY", "history_sensitivity"]


def history_sensitivity(messages: Iterable[Any], floor: Sensitivity = Sensitivity.PUBLIC) -> Sensitivity:
    """The highest level recorded on any message of a chat history, or on any of its items."""
    holders = (h for message in messages for h in (message, *getattr(message, "items", ())))
    return highest_label((getattr(h, "metadata", None) for h in holders), floor)
