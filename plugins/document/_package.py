"""Opening user documents safely and writing results atomically.

Every input goes through :meth:`SkillContext.input_file` (existence, suffix and
sensitivity label) and :func:`dualtrack.inspect_package` (zip sanity, bombs,
encryption, content types, a DTD in any XML part) before python-docx parses a
byte of it. Strict Open XML documents are read through a Transitional copy. A
file that fails any check raises :class:`dualtrack.InputFileError` and nothing
is written.
"""

from __future__ import annotations

import asyncio
import weakref
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import docx
from docx.document import Document

from dualtrack import InputFileError, SkillContext, atomic_write, inspect_package

from ._models import DocumentResult
from ._reader import DocView, read_document
from ._strict import STRICT_NOTE, transitional_copy

__all__ = [
    "WORD_MAIN",
    "Loaded",
    "load",
    "notes_of",
    "open_document",
    "resolve_output",
    "save_document",
    "with_notes",
]

WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
"""Content type of the main part of a .docx (not .docm, .dotx or .dotm)."""


def open_document(ctx: SkillContext, path: str) -> tuple[Path, Document]:
    """Check a user's .docx and open it with python-docx.

    A Strict Open XML document is read through a Transitional copy made in
    memory (see :mod:`._strict`); :func:`notes_of` then says so.

    Args:
        ctx: The running skill's context (raises its sensitivity to the file's label).
        path: The file.

    Returns:
        The resolved path and the opened document.

    Raises:
        InputFileError: When the file is missing, not a plain .docx, or hostile.
    """
    p = ctx.input_file(path, suffixes=(".docx",))
    inspect_package(p, main_types=[WORD_MAIN])
    try:
        copy = transitional_copy(p)
        if copy is not None:
            _note(ctx, f"{p.name}: {STRICT_NOTE}")
        return p, docx.Document(copy if copy is not None else str(p))
    except InputFileError:
        raise
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputFileError(str(p), f"cannot be read as a zip package ({exc})") from exc
    except Exception as exc:  # python-docx and lxml raise many kinds on broken parts
        raise InputFileError(
            str(p),
            f"is not a readable Word document ({type(exc).__name__}: {exc}); open and re-save it in Word",
        ) from exc


_NOTES: weakref.WeakKeyDictionary[SkillContext, list[str]] = weakref.WeakKeyDictionary()


def _note(ctx: SkillContext, message: str) -> None:
    notes = _NOTES.setdefault(ctx, [])
    if message not in notes:
        notes.append(message)


def notes_of(ctx: SkillContext) -> list[str]:
    """What this skill call's inputs needed to be read (e.g. a Strict document converted on load)."""
    return list(_NOTES.get(ctx, ()))


R = TypeVar("R", bound=DocumentResult)


def with_notes(ctx: SkillContext, result: R) -> R:
    """``result`` with the notes of this skill call's inputs added (see :func:`notes_of`)."""
    extra = [n for n in notes_of(ctx) if n not in result.notes]
    if extra:
        result.notes = [*result.notes, *extra]
    return result


@dataclass(slots=True)
class Loaded:
    """An opened input: its resolved path, the python-docx document and its view."""

    path: Path
    document: Document
    view: DocView


async def load(ctx: SkillContext, path: str) -> Loaded:
    """Check, open and read a user's .docx in a worker thread (see :func:`open_document`)."""
    return await asyncio.to_thread(_load, ctx, path)


def _load(ctx: SkillContext, path: str) -> Loaded:
    p, document = open_document(ctx, path)
    try:
        view = read_document(document)
    except Exception as exc:  # malformed structures python-docx accepted but cannot walk
        raise InputFileError(
            str(p), f"has a structure that cannot be read ({type(exc).__name__}: {exc})"
        ) from exc
    return Loaded(p, document, view)


def resolve_output(
    ctx: SkillContext, source: Path, output: str | None, tag: str, *, in_place: bool = False
) -> Path:
    """Where a skill writes its result: :meth:`SkillContext.output_path`, for .docx files.

    Args:
        ctx: The running skill's context (holds the allowed roots).
        source: The input file.
        output: The caller's output path, if any.
        tag: The default suffix tag (``edited``, ``summary`` ...): ``report.<tag>.docx``.
        in_place: Overwrite the input (only when the caller asked for it).

    Returns:
        The resolved target path.

    Raises:
        OutputPathError: When ``output`` names the input without ``in_place``, or is a link.
        InputFileError: When ``output`` is not a .docx path.
    """
    target = ctx.output_path(source, tag, output, in_place)
    if target.suffix.lower() != ".docx":
        raise InputFileError(str(target), "the output must be a .docx path")
    return target


async def save_document(document: Document, target: Path) -> str:
    """Save a python-docx document atomically (in a worker thread) and return its path."""

    def save() -> str:
        with atomic_write(target, "wb") as fh:
            document.save(fh)
        return str(target)

    return await asyncio.to_thread(save)
