"""Where a skill's output goes: the one output rule, checked against the call's file access."""

from __future__ import annotations

import os
from pathlib import Path

from .._errors import OutputPathError
from ._paths import FileAccess, resolve_input, resolve_output

__all__ = ["output_target"]


def output_target(
    files: FileAccess, input: str | Path | None, suffix: str, output: str | Path | None, in_place: bool
) -> Path:
    """The path :meth:`SkillContext.output_path` returns (see it for the rule).

    Raises:
        OutputPathError: When the output is the input without ``in_place``, both
            are given and differ, it is a folder, or it is a symbolic link; or a new
            file (no input) has no output path.
        FileAccessError: When it lies outside the allowed roots.
    """
    if input is None:  # a new file: only the caller's path says where
        if in_place or output is None or str(output) == "":
            raise OutputPathError(str(output or ""), "a new file needs an output path (there is no input)")
        target = resolve_output(output)
        _refuse_link_or_folder(target)
        return files.check(target, verb="write")
    src = resolve_input(input)
    if in_place:
        if output is not None and resolve_output(output) != src:
            raise OutputPathError(str(output), "give either output or in_place=True, not both")
        return files.check(src, verb="write")
    if output is not None and str(output) != "":
        target = resolve_output(output)
    else:
        tag = suffix.strip(".")
        target = src.with_name(f"{src.stem}.{tag}{src.suffix}" if tag else f"{src.name}.out")
    _refuse_link_or_folder(target)
    if target == src or (target.exists() and src.exists() and os.path.samefile(target, src)):
        raise OutputPathError(
            str(target), "the output would overwrite the input; pass in_place=True to allow it"
        )
    if output is None and files.allowed(src) and not files.roots.is_secret(target):
        return target  # next to an input this call may use
    return files.check(target, verb="write")


def _refuse_link_or_folder(target: Path) -> None:
    if target.is_symlink():
        raise OutputPathError(
            str(target),
            "is a symbolic link; outputs are never written through links: remove it or pick a new name",
        )
    if target.is_dir():
        raise OutputPathError(str(target), "is a folder; give a file path for the output")
