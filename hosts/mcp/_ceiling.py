"""The sensitivity ceiling of an MCP server: the highest level it may hand to its client.

Where files may lie, which are secret-looking and whether a write was confirmed is the
orchestrator's rule for model-chosen calls (``orc.invoke(..., chosen_by="model")``); this
module adds only what an MCP server promises on top: an input file labelled above the
server's ceiling is refused before the skill runs, so it is neither opened by the skill
nor sent to any model, and a result that became more sensitive than the ceiling is
refused after it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dualtrack import (
    FileAccessError,
    Orchestrator,
    PathRole,
    Sensitivity,
    Skill,
    path_parameters,
    read_sensitivity_label,
)

__all__ = ["CeilingError", "check_input_labels"]


class CeilingError(FileAccessError):
    """A file or result is labelled above the sensitivity this MCP server may hand out.

    Attributes:
        level: The level found.
        ceiling: The server's ceiling.
    """

    model_summary = "the data is labelled above what this tool server may return"

    def __init__(self, path: str, level: Sensitivity, ceiling: Sensitivity) -> None:
        self.level = level
        self.ceiling = ceiling
        super().__init__(
            path,
            f"is labelled {level.value}, above this server's ceiling {ceiling.value}; "
            "nothing was read. Start the server with a higher --max-sensitivity to allow it",
            reason="above-ceiling",
        )


def check_input_labels(
    orc: Orchestrator, skill: Skill, values: Mapping[str, Any], ceiling: Sensitivity
) -> None:
    """Refuse an input file of the call labelled above ``ceiling``.

    Only files inside the orchestrator's roots that do not look like secrets are opened
    to read their label; the orchestrator refuses every other path when the skill is
    invoked.

    Args:
        orc: The orchestrator (its roots and label policy).
        skill: The skill about to run.
        values: Its validated arguments.
        ceiling: The server's ceiling.

    Raises:
        CeilingError: For an input file labelled above the ceiling.
    """
    for name, role in path_parameters(skill).items():
        raw = values.get(name)
        if role is not PathRole.INPUT or raw is None:
            continue
        for item in raw if isinstance(raw, list) else [raw]:
            if not isinstance(item, str | os.PathLike) or str(item) == "":
                continue
            try:
                p = Path(item).expanduser().resolve()
            except (ValueError, RuntimeError, OSError):
                continue  # a path no file can have: the orchestrator says so
            if not orc.files.contains(p) or orc.files.is_secret(p) or not p.is_file():
                continue
            level = read_sensitivity_label(p, orc.labels)
            if level is not None and level > ceiling:
                raise CeilingError(str(p), level, ceiling)
