"""Every file the code plugin reads or writes, through the orchestrator's file rules.

A path reaches the disk only after :meth:`~dualtrack.SkillContext.input_file` (reads)
or :meth:`~dualtrack.SkillContext.output_path` (writes) accepted it, so the host's
file roots, the secret-file rule and symbolic links resolved out of the roots hold
for every file: the one a skill was given, the extra ``files=`` of ``code.fix``,
files named in a traceback or imported by a failing test, and every file a diff
touches.

Source files have no Office sensitivity label, so the plugin reads one from a
comment at the top of the file (the first 30 lines), in any comment style::

    # Sensitivity: Confidential
    // Classification: Highly Confidential
    /* sensitivity = general */

The value maps like a Microsoft label name (``Internal`` is general, ``Secret`` is
highly-confidential); a value nobody mapped counts as confidential. A label only
ever raises the call's sensitivity.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from pathlib import Path

from dualtrack import FileAccessError, InputFileError, LabelPolicy, Sensitivity, SkillContext

from ._patch import PatchError, read_text, safe_path

__all__ = ["copy_rule", "header_level", "patch_target", "project_file", "project_level", "read_source"]

_HEADER_LINES = 30
_LABEL = re.compile(
    r"^\s*(?:#+|//+|/\*+|\*+|--|;+|%+|rem\b|<!--)\s*(?:sensitivity|classification)(?:[ _-]?label)?"
    r"\s*[:=]\s*[\"']?([^\"'*\n]+?)[\"']?\s*(?:\*/|-->)?\s*$",
    re.I,
)
_POLICY = LabelPolicy()
_SKIP_DIRS = {".git", ".hg", ".svn", "__pycache__", ".venv", "venv", "node_modules", ".tox", ".nox"}
_MAX_SCANNED = 20_000


def header_level(source: str) -> Sensitivity | None:
    """The highest sensitivity a header comment of ``source`` declares, or ``None``."""
    found: list[Sensitivity] = []
    for line in source.splitlines()[:_HEADER_LINES]:
        m = _LABEL.match(line)
        if m:
            found.append(_POLICY.level(None, m.group(1).strip()))
    return max(found) if found else None


def read_source(ctx: SkillContext, path: str | Path) -> tuple[Path, str]:
    """Check a source file with ``ctx.input_file``, read it, and apply its header label.

    Raises:
        FileAccessError: Outside the roots (unless its caller approved it), or secret-looking.
        InputFileError: Missing, not a file, or not UTF-8 text.
    """
    file = ctx.input_file(path)
    return file, _read_checked(ctx, file)


def _read_checked(ctx: SkillContext, file: Path) -> str:
    """The text of a file ``ctx.input_file`` accepted, its header label applied."""
    try:
        text = read_text(file)
    except UnicodeDecodeError:
        raise InputFileError(str(file), "is not UTF-8 text; convert it or pick a source file") from None
    level = header_level(text)
    if level is not None:
        ctx.raise_sensitivity(level)
    return text


def project_file(
    ctx: SkillContext, root: Path, rel: str | Path, *, strict: bool = False
) -> tuple[str, str] | None:
    """A project file for the model's context: ``(relative path, text)``, or ``None`` if it is not one.

    ``rel`` is relative to ``root`` (or absolute); it must resolve inside the project.

    Args:
        ctx: The skill context.
        root: The resolved project root.
        rel: The file.
        strict: Raise when the file rules refuse it (a file the caller named);
            otherwise skip it (a file found in a traceback or an import).

    Raises:
        FileAccessError: With ``strict``, when the rules refuse it (outside the roots,
            secret-looking).
    """
    path = Path(rel)
    try:
        full = path.resolve() if path.is_absolute() else (root / path).resolve()
    except (OSError, RuntimeError, ValueError):
        return None
    try:
        # a file the caller named is checked first: a refusal is an error, not a skip
        checked = ctx.input_file(full) if strict else None
        if not full.is_relative_to(root) or not _small_file(full):
            return None
        file = checked or ctx.input_file(full)
        text = _read_checked(ctx, file)
    except InputFileError as exc:
        if strict and type(exc) is not InputFileError:  # refused by a rule, not merely unreadable
            raise
        return None
    return file.relative_to(root).as_posix(), text


def _small_file(path: Path) -> bool:
    try:
        st = path.stat()
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and st.st_size <= 100_000


def patch_target(ctx: SkillContext, root: Path, rel: str) -> Path:
    """The file a diff changes, checked for writing (and for reading, when it exists).

    Raises:
        PatchError: When it escapes the project or the file rules refuse it; the
            message names only the path, so it can go back to the model.
    """
    target = safe_path(root, rel)
    try:
        ctx.output_path(target, "", in_place=True)
        if target.exists():
            read_source(ctx, target)
    except InputFileError:
        raise PatchError(f"refusing path {rel!r}: this call may not read or change it") from None
    return target


def copy_rule(ctx: SkillContext) -> Callable[[Path], bool]:
    """Which files of a project stay out of its sandbox copy: those the file rules refuse.

    The copy's files can be printed by the command that runs on it, so each one
    passes :meth:`~dualtrack.SkillContext.input_file`: secret-looking files
    (``.env``, ``*.pem``, ``id_rsa`` ...) are left out unless the host listed them
    in ``allow_secrets``. Answers are remembered for the call (a fix copies the
    project several times).
    """
    seen: dict[Path, bool] = {}

    def skip(path: Path) -> bool:
        if path not in seen:
            try:
                ctx.input_file(path)
                seen[path] = False
            except FileAccessError:
                seen[path] = True
            except InputFileError:  # unreadable, not refused: the command meets it as it is
                seen[path] = False
        return seen[path]

    return skip


def project_level(root: Path) -> Sensitivity | None:
    """The highest header label of any file below ``root`` (a folder or one file).

    A command run on a copy of the project can print any of its files, so whatever
    goes back to a model from that run carries the highest label among them.
    """
    if root.is_file():
        return _head_level(root)
    found: list[Sensitivity] = []
    seen = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in _SKIP_DIRS]
        for name in filenames:
            seen += 1
            if seen > _MAX_SCANNED:
                return max(found, default=None)
            level = _head_level(Path(dirpath) / name)
            if level is not None:
                found.append(level)
    return max(found, default=None)


def _head_level(path: Path) -> Sensitivity | None:
    if path.is_symlink() or not path.is_file():
        return None
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return None
    return header_level(head.decode("utf-8", errors="replace"))
