"""One call's fetched files: the private folder, the labels, the write-back.

See :mod:`._sources` for the rules; :class:`SourceCall` applies them to one skill call.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import shutil
import tempfile
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import FileReferenceError, FileSourceError, InputFileError
from .._model._sensitivity import Sensitivity
from .._office._labels import LabelPolicy, read_sensitivity_label
from ._paths import FileRoots, PathRole, path_parameters
from ._sources import items

if TYPE_CHECKING:
    from .._plugins._skills import Skill
    from .._runtime._result import SkillResult
    from ._sources import FetchedFile, FileSource, FileSources

__all__ = ["SourceCall", "source_call"]

_log = logging.getLogger("dualtrack")


@contextlib.asynccontextmanager
async def source_call(
    sources: FileSources, skill: Skill, values: Mapping[str, Any], roots: FileRoots, labels: LabelPolicy
) -> AsyncIterator[SourceCall]:
    folder = Path(tempfile.mkdtemp(prefix="dualtrack-files-"))  # 0700, private to this call
    try:
        call = SourceCall(sources, folder, roots, labels)
        await call.fetch_arguments(skill, values)
        yield call
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@dataclass(kw_only=True)
class _Fetched:
    file: FetchedFile
    source: FileSource
    digest: str


class SourceCall:
    """The fetched files of one skill call, and their write-back.

    Attributes:
        values: The call's arguments with each reference replaced by its local copy.
        roots: The call's roots plus the private folder.
        sensitivity: The highest level the sources' labels imply (``None``: no label).
    """

    def __init__(self, sources: FileSources, folder: Path, roots: FileRoots, labels: LabelPolicy) -> None:
        self._sources = sources
        self._folder = folder.resolve()
        self._labels = labels
        self._fetched: list[_Fetched] = []
        self.values: dict[str, Any] = {}
        self.roots = FileRoots(
            [*roots.roots, self._folder], allow_secrets=[str(a) for a in roots.allow_secrets]
        )
        self.sensitivity: Sensitivity | None = None

    async def fetch_arguments(self, skill: Skill, values: Mapping[str, Any]) -> None:
        """Download every referenced file and put its local path in :attr:`values`."""
        self.values = dict(values)
        for name, role in path_parameters(skill).items():
            raw = values.get(name)
            fixed = []
            for item in items(raw):
                if isinstance(item, str) and (source := self._sources.find(item)) is not None:
                    if role is PathRole.OUTPUT:
                        raise FileReferenceError(
                            item,
                            "outputs are written back next to the input they derive from; leave "
                            f"`{name}` out (or give a local path)",
                            source=source.name,
                        )
                    item = str(await self._fetch(source, item))
                fixed.append(item)
            if raw is not None:
                self.values[name] = fixed if isinstance(raw, list) else fixed[0]

    async def _fetch(self, source: FileSource, ref: str) -> Path:
        dest = self._folder / str(len(self._fetched))
        dest.mkdir(mode=0o700)
        got = await source.fetch(ref, dest)
        local = Path(got.path)
        try:
            real = local.resolve(strict=True)
        except (OSError, RuntimeError):
            raise FileSourceError(
                ref, "the source reported a file it did not write", source=source.name
            ) from None
        if local.is_symlink() or not real.is_file() or real.parent != dest.resolve():
            raise FileSourceError(
                ref, "the source wrote its file outside the folder it was given", source=source.name
            )
        self._fetched.append(_Fetched(file=got, source=source, digest=_digest(real)))
        self._raise(self._level(got, real))
        return real

    def _level(self, got: FetchedFile, local: Path) -> Sensitivity | None:
        level: Sensitivity | None = None
        if got.label_error is not None:
            _log.warning(
                "label of %s unreadable (%s): treated as %s", got.name, got.label_error, self._labels.default
            )
            level = self._labels.default
        elif got.label_id or got.label_name:
            level = self._labels.level(got.label_id, got.label_name)
        try:
            own = read_sensitivity_label(local, self._labels)
        except InputFileError:
            own = self._labels.default  # a broken package fails closed; the skill reports the damage
        return max((x for x in (level, own) if x is not None), default=None)

    def _raise(self, level: Sensitivity | None) -> None:
        if level is not None and (self.sensitivity is None or level > self.sensitivity):
            self.sensitivity = level

    async def finish(self, result: SkillResult) -> SkillResult:
        """Write what the skill produced back through the sources; swap local paths for references.

        Raises:
            FileSourceError: A write-back failed (:class:`FileChangedError` when the input
                changed at its source meanwhile); files written before it are named.
        """
        swaps: dict[str, str] = {str(f.file.path.resolve()): f.file.ref for f in self._fetched}
        written: dict[str, str] = {}
        try:
            for f in self._fetched:
                for local, replace in self._produced(f):
                    store = getattr(f.source, "store", None)
                    if store is None:
                        raise FileSourceError(
                            f.file.ref,
                            f"the skill wrote {local.name!r}; source {f.source.name!r} cannot store files: "
                            "pass `output` with a local path to keep the result",
                            source=f.source.name,
                            reason="read-only",
                        )
                    ref = await store(f.file, local, replace=replace)
                    written[ref] = f.file.ref
                    swaps[str(local)] = ref
        except FileSourceError as exc:
            exc.sensitivity = result.sensitivity or exc.sensitivity
            exc.calls = result.calls
            if written:
                exc.args = (f"{exc.args[0]} (already written: {', '.join(written)})",)
            raise
        result.value = _swap(result.value, swaps)
        result.outputs = {**result.outputs, **written}
        return result

    def _produced(self, f: _Fetched) -> list[tuple[Path, bool]]:
        """Files the skill wrote next to ``f`` (new ones, then the input if it changed)."""
        own = f.file.path.resolve()
        new: list[tuple[Path, bool]] = []
        for p in sorted(own.parent.iterdir()):
            if p.name.startswith(".") or p.is_symlink() or not p.is_file():
                continue  # temporaries of atomic_write, links: never uploaded
            if p != own:
                new.append((p, False))
        changed = own.is_file() and not own.is_symlink() and _digest(own) != f.digest
        return [*new, (own, True)] if changed else new


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _swap(value: Any, swaps: Mapping[str, str]) -> Any:
    """``value`` with every local path of the call replaced by its reference."""
    if isinstance(value, str):
        for local, ref in sorted(swaps.items(), key=lambda kv: -len(kv[0])):
            value = value.replace(local, ref)
        return value
    if isinstance(value, Path):
        s = _swap(str(value), swaps)
        return s if s != str(value) else value
    if isinstance(value, list):
        return [_swap(v, swaps) for v in value]
    if isinstance(value, tuple):
        return tuple(_swap(v, swaps) for v in value)
    if isinstance(value, dict):
        return {k: _swap(v, swaps) for k, v in value.items()}
    from pydantic import BaseModel

    if isinstance(value, BaseModel):
        fields = type(value).model_fields
        changed = {k: _swap(getattr(value, k), swaps) for k in fields}
        return value.model_copy(update=changed)
    return value
