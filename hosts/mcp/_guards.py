"""What an MCP tool call may touch: file roots and the server's sensitivity ceiling.

A call arriving over MCP is treated like a call a model chose: a path outside the
orchestrator's roots is refused outright (never asked of anyone), and a secret-looking
file is refused. Input files are checked for sensitivity labels before the skill
runs, so a document labelled above the server's ceiling is refused without being
opened by the skill or sent to any model.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin

from dualtrack import FileAccessError, Orchestrator, PathRole, Sensitivity, Skill, read_sensitivity_label

__all__ = ["CeilingError", "check_paths", "path_roles"]

# The naming convention dualtrack's InputPath/OutputPath documentation gives for
# ``str`` parameters that name files.
_INPUT_NAMES = frozenset({"path", "paths", "file", "filename", "input_path", "source_path"})
_OUTPUT_NAMES = frozenset({"output", "output_path", "out", "dest", "destination", "write_to", "save_to"})


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


def _role(annotation: Any, metadata: tuple[Any, ...] = ()) -> PathRole | None:
    for meta in metadata:
        if isinstance(meta, PathRole):
            return meta
    if annotation is Path:
        return PathRole.INPUT
    if get_origin(annotation) is Annotated:
        base, *extra = get_args(annotation)
        return _role(base, tuple(extra))
    for arg in get_args(annotation):
        found = _role(arg)
        if found is not None:
            return found
    return None


def _is_text(annotation: Any) -> bool:
    return annotation is str or any(_is_text(a) for a in get_args(annotation))


def path_roles(skill: Skill) -> dict[str, PathRole]:
    """The parameters of ``skill`` that name files, with whether each is read or written."""
    roles: dict[str, PathRole] = {}
    for name, info in skill.params.model_fields.items():
        role = _role(info.annotation, tuple(info.metadata))
        if role is None and _is_text(info.annotation):
            if name in _OUTPUT_NAMES:
                role = PathRole.OUTPUT
            elif name in _INPUT_NAMES or name.endswith(("_path", "_file", "_dir")):
                role = PathRole.INPUT
        if role is not None:
            roles[name] = role
    return roles


def _resolve(raw: str | os.PathLike[str], role: PathRole) -> Path:
    p = Path(raw).expanduser().absolute()
    if role is PathRole.OUTPUT and p.name not in ("", ".", ".."):
        return p.parent.resolve() / p.name  # a link at the last component is refused by the output rule
    return p.resolve()


def check_paths(
    orc: Orchestrator, skill: Skill, values: dict[str, Any], ceiling: Sensitivity | None
) -> dict[str, Any]:
    """Refuse path arguments outside the roots, secret-looking or labelled above the ceiling.

    Args:
        orc: The orchestrator (its ``files`` are the roots).
        skill: The skill about to run.
        values: Its validated arguments.
        ceiling: The server's sensitivity ceiling, if any.

    Returns:
        The arguments with every path resolved.

    Raises:
        FileAccessError: For a path outside the roots or a secret-looking one.
        CeilingError: For an input file labelled above the ceiling.
    """
    access = orc.files.access(model_chosen=True)
    out = dict(values)
    for name, role in path_roles(skill).items():
        raw = values.get(name)
        if raw is None:
            continue
        items = raw if isinstance(raw, list) else [raw]
        fixed: list[Any] = []
        for item in items:
            if not isinstance(item, str | os.PathLike) or str(item) == "":
                fixed.append(item)
                continue
            verb = "write" if role is PathRole.OUTPUT else "read"
            p = access.check(_resolve(item, role), verb=verb)
            if role is PathRole.INPUT and ceiling is not None and p.is_file():
                level = read_sensitivity_label(p, orc.labels)
                if level is not None and level > ceiling:
                    raise CeilingError(str(p), level, ceiling)
            fixed.append(p if isinstance(item, Path) else str(p))
        out[name] = fixed if isinstance(raw, list) else fixed[0]
    return out
