"""Opening user documents safely and writing results atomically.

Every input goes through :meth:`SkillContext.input_file` (existence, suffix and
sensitivity label) and :func:`dualtrack.inspect_package` (zip sanity, bombs,
encryption, content types, DTDs) before python-docx parses a byte of it. A
file that fails any check raises :class:`dualtrack.InputFileError` and nothing
is written.
"""

from __future__ import annotations

import asyncio
import zipfile
from dataclasses import dataclass
from pathlib import Path

import docx
from docx.document import Document

from dualtrack import InputFileError, SkillContext, atomic_write, inspect_package

from ._reader import DocView, read_document

__all__ = ["WORD_MAIN", "Loaded", "load", "open_document", "output_path", "resolve_output", "save_document"]

WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
"""Content type of the main part of a .docx (not .docm, .dotx or .dotm)."""

_ENTITY_MARKERS = (b"<!DOCTYPE", b"<!ENTITY")
_SCAN_LIMIT = 64 << 20


def _scan_for_entities(path: Path) -> None:
    """Refuse DTDs or entity declarations anywhere in an XML part, not only its head."""
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            if not info.filename.lower().endswith((".xml", ".rels")) or info.file_size > _SCAN_LIMIT:
                continue
            tail = b""
            with zf.open(info) as part:
                while chunk := part.read(1 << 16):
                    window = (tail + chunk).upper()
                    if any(m in window for m in _ENTITY_MARKERS):
                        raise InputFileError(
                            str(path),
                            f"part {info.filename} declares a DTD or entities; refusing XML entity tricks",
                        )
                    tail = chunk[-16:]


def open_document(ctx: SkillContext, path: str) -> tuple[Path, Document]:
    """Check a user's .docx and open it with python-docx.

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
        _scan_for_entities(p)
        return p, docx.Document(str(p))
    except InputFileError:
        raise
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputFileError(str(p), f"cannot be read as a zip package ({exc})") from exc
    except Exception as exc:  # python-docx and lxml raise many kinds on broken parts
        raise InputFileError(
            str(p),
            f"is not a readable Word document ({type(exc).__name__}: {exc}); open and re-save it in Word",
        ) from exc


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


def output_path(source: Path, tag: str) -> Path:
    """The default output next to ``source``: ``report.docx`` → ``report.<tag>.docx``."""
    return source.with_name(f"{source.stem}.{tag}.docx")


def resolve_output(source: Path, output: str | None, tag: str, *, in_place: bool = False) -> Path:
    """Where a skill writes its result.

    Args:
        source: The input file.
        output: The caller's output path, if any.
        tag: The default suffix tag (``edited``, ``summary`` ...).
        in_place: Overwrite the input (only when the caller asked for it).

    Returns:
        The target path.

    Raises:
        InputFileError: When ``output`` is not a .docx path, or names the input without ``in_place``.
    """
    if in_place:
        if output is not None and Path(output).expanduser().resolve() != source:
            raise InputFileError(output, "give either output or in_place=True, not both")
        return source
    target = Path(output).expanduser().resolve() if output else output_path(source, tag)
    if target.suffix.lower() != ".docx":
        raise InputFileError(str(target), "the output must be a .docx path")
    if target == source:
        raise InputFileError(
            str(target), "the output would overwrite the input; pass in_place=True to allow it"
        )
    return target


async def save_document(document: Document, target: Path) -> str:
    """Save a python-docx document atomically (in a worker thread) and return its path."""

    def save() -> str:
        with atomic_write(target, "wb") as fh:
            document.save(fh)
        return str(target)

    return await asyncio.to_thread(save)
