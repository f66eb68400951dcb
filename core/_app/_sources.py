"""File sources: skill arguments that name files in OneDrive, SharePoint or any other store.

A path argument of a skill may be a *reference* instead of a local path:
``scheme:rest`` (``onedrive:/Reports/q3.docx``, ``sharepoint://contoso.sharepoint.com/sites/
Finance/Documents/q3.xlsx``, a sharing URL ...). :meth:`Orchestrator.invoke` hands every
reference to the registered :class:`FileSource` that accepts it, which downloads the file
into a private folder made for that one call; the skill receives the local path and never
learns where the file lives. The call's roots include that folder.

When the call succeeds, what the skill wrote next to a fetched input (through
``ctx.output_path``) goes back through the same source, next to the input; a new file
never replaces one that exists (the source picks a free name), and the input itself is
replaced only when the skill changed it (``in_place=True``), and then only if nobody
changed it at the source meanwhile. Local paths in the result are swapped for
references; :attr:`SkillResult.outputs` lists what was written. The folder is removed
after the call, whatever happened.

A sensitivity label the source reports (or could not read: fail closed to the
``[labels]`` default) and the label inside the downloaded file both raise the call's level.

A string whose scheme no source handles (``gdrive:/x``), and which is not an existing
local file, is refused with :class:`FileReferenceError`, never read as a local path.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import logging
import os
import re
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .._errors import (
    ConfigError,
    FileReferenceError,
    FileSourceError,
    InputFileError,
    MissingDependencyError,
    UserError,
)
from .._model._sensitivity import Sensitivity
from .._office._labels import LabelPolicy, read_sensitivity_label
from ._paths import FileRoots, PathRole, path_parameters

if TYPE_CHECKING:
    from .._model._redact import Redactor
    from .._plugins._skills import Skill
    from .._runtime._result import SkillResult

__all__ = ["FetchedFile", "FileSource", "FileSources", "SourceCall", "reference_scheme"]

_log = logging.getLogger("dualtrack")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):")  # two letters at least: `C:\x` is a local path


def reference_scheme(value: str) -> str | None:
    """The scheme of a reference (``"onedrive"`` for ``onedrive:/x``), ``None`` for a path."""
    m = _SCHEME.match(value)
    return m.group(1).lower() if m else None


@dataclass(frozen=True, kw_only=True)
class FetchedFile:
    """A file a :class:`FileSource` downloaded for one skill call.

    Attributes:
        ref: The reference as the caller gave it.
        path: The local copy (inside the folder the source was given).
        name: The file's name at the source.
        source: The name of the source that fetched it.
        etag: The version read (the write-back refuses to replace any other).
        size: Its size in bytes, when known.
        label_id: The sensitivity label id the source reported, if any.
        label_name: The sensitivity label name the source reported, if any.
        label_error: Why the source could not read the label (the call then takes
            the ``[labels]`` default level: it fails closed).
        locator: What the source needs to find the file again (opaque to the core).
    """

    ref: str
    path: Path
    name: str
    source: str
    etag: str | None = None
    size: int | None = None
    label_id: str | None = None
    label_name: str | None = None
    label_error: str | None = None
    locator: Mapping[str, str] = field(default_factory=dict)


@runtime_checkable
class FileSource(Protocol):
    """Where files named by references live (OneDrive, SharePoint, an upload store ...).

    One required async method, :meth:`fetch`. Optional methods, used when present:
    ``accepts(ref) -> bool`` (finer than ``schemes``, e.g. only some ``https`` hosts),
    ``async store(fetched, local_output, *, replace) -> str`` (write-back; without it
    the source is read-only) and ``async aclose()``.

    Attributes:
        name: A short name for messages (``"m365"``).
        schemes: Reference schemes it handles (``("onedrive", "sharepoint", "https")``).
    """

    name: str
    schemes: Iterable[str]

    async def fetch(self, ref: str, dest_dir: Path) -> FetchedFile:
        """Download the file ``ref`` names into ``dest_dir`` (an empty private folder).

        Raises:
            FileSourceError: Or a subclass; for a malformed reference, :class:`FileReferenceError`.
        """
        ...


class FileSources:
    """The file sources of an orchestrator, looked up by reference.

    Args:
        sources: Sources to register.

    Attributes:
        errors: Configured sources that could not be built, by name, with why.
    """

    def __init__(self, sources: Iterable[FileSource] = ()) -> None:
        self._sources: list[FileSource] = []
        self.errors: dict[str, str] = {}
        for s in sources:
            self.add(s)

    def add(self, source: FileSource) -> FileSource:
        """Register a source (checked now).

        Raises:
            UserError: It lacks ``name``, ``schemes`` or an async ``fetch``, or its name is taken.
        """
        fetch = getattr(source, "fetch", None)
        name = getattr(source, "name", None)
        if not isinstance(name, str) or not name or fetch is None or not inspect.iscoroutinefunction(fetch):
            raise UserError(
                f"{source!r} is not a file source: it needs a `name`, `schemes` and "
                "`async def fetch(self, ref, dest_dir) -> FetchedFile`"
            )
        if isinstance(getattr(source, "schemes", None), str) or not list(getattr(source, "schemes", ())):
            raise UserError(f"file source {name!r}: `schemes` must list scheme names, e.g. ('onedrive',)")
        if any(s.name == name for s in self._sources):
            raise UserError(f"a file source named {name!r} is already registered")
        self._sources.append(source)
        return source

    def __iter__(self) -> Iterator[FileSource]:
        return iter(self._sources)

    def __len__(self) -> int:
        return len(self._sources)

    def find(self, ref: str) -> FileSource | None:
        """The source that handles ``ref``, or ``None`` for a local path.

        Raises:
            FileReferenceError: ``ref`` has a scheme no source handles and is no local file.
        """
        scheme = reference_scheme(ref)
        if scheme is None:
            return None
        for source in self._sources:
            if scheme in {str(s).lower() for s in source.schemes}:
                accepts = getattr(source, "accepts", None)
                if accepts is None or accepts(ref):
                    return source
        with contextlib.suppress(OSError, ValueError):
            if Path(ref).expanduser().exists():
                return None  # an odd local name such as `notes:v2.docx`
        known = sorted({str(s) for src in self._sources for s in src.schemes})
        hint = f"registered file sources handle: {', '.join(known)}" if known else "no file source is set up"
        broken = "".join(f"; file source {n!r} is unavailable: {why}" for n, why in self.errors.items())
        raise FileReferenceError(
            ref,
            f"no file source handles {scheme!r} references ({hint}{broken}). For Microsoft 365 add "
            "[[file_sources]] source = \"m365\" to dualtrack.toml (pip install 'dualtrack[m365]'), "
            "or pass a local path",
        )

    def wanted(self, skill: Skill, values: Mapping[str, Any]) -> bool:
        """Whether any path argument of the call is a reference a source handles (nothing is fetched).

        Raises:
            FileReferenceError: A reference no source handles.
        """
        found = False
        for name in path_parameters(skill):
            for item in _items(values.get(name)):
                if isinstance(item, str) and reference_scheme(item) is not None:
                    found = self.find(item) is not None or found
        return found

    def call(
        self, skill: Skill, values: Mapping[str, Any], roots: FileRoots, labels: LabelPolicy
    ) -> contextlib.AbstractAsyncContextManager[SourceCall]:
        """Fetch the referenced files of one call; the folder is removed on exit."""
        return _source_call(self, skill, values, roots, labels)

    def configure(
        self,
        entries: Iterable[Mapping[str, Any]],
        path: str | None,
        *,
        redactor: Redactor | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        """Build the sources ``[[file_sources]]`` declares, through their entry points.

        Each table names its kind with ``source = "m365"`` (an entry point of the
        ``dualtrack.file_sources`` group) and optionally ``name``; the other keys are the
        factory's settings, ``${NAME}`` expanded now. A source that cannot be built
        (a variable not set, its extra not installed) is left out and recorded in
        :attr:`errors`, so references to it fail with the reason.

        Raises:
            ConfigError: A table without ``source``, or with an unknown one.
        """
        from .._model._discovery import load_file_source
        from ._config import _interpolate

        environ = dict(os.environ if env is None else env)
        base_dir = Path(path).parent if path else None
        for i, raw in enumerate(entries):
            field = f"file_sources[{i}]"
            kind = raw.get("source") if isinstance(raw, Mapping) else None
            if not isinstance(kind, str) or not kind:
                raise ConfigError('needs source = "<kind>" (e.g. "m365")', path=path, field=field)
            settings = {k: v for k, v in raw.items() if k != "source"}
            name = str(settings.get("name") or kind)
            missing: list[str] = []
            settings = _interpolate(settings, environ, path or "", field, missing)
            if missing:
                self._unavailable(name, f"{', '.join(sorted(set(missing)))} not set")
                continue
            try:
                factory = load_file_source(kind)
            except MissingDependencyError as exc:
                self._unavailable(name, str(exc))
                continue
            except UserError as exc:
                raise ConfigError(str(exc), path=path, field=f"{field}.source") from None
            try:
                self.add(factory(settings, base_dir=base_dir, redactor=redactor))
            except (TypeError, ValueError) as exc:
                raise ConfigError(str(exc), path=path, field=field) from None
            except MissingDependencyError as exc:
                self._unavailable(name, str(exc))

    def _unavailable(self, name: str, why: str) -> None:
        self.errors[name] = why
        _log.warning("file source %r is unavailable: %s", name, why)

    async def aclose(self) -> None:
        """Close every source that holds resources (``aclose``)."""
        for source in self._sources:
            closer = getattr(source, "aclose", None)
            if closer is not None and inspect.iscoroutinefunction(closer):
                try:
                    await closer()
                except Exception:  # noqa: BLE001 - one source failing to close must not keep others open
                    _log.warning("file source %r failed to close", source.name, exc_info=True)


@contextlib.asynccontextmanager
async def _source_call(
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
            for item in _items(raw):
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


def _items(raw: Any) -> list[Any]:
    if raw is None:
        return []
    return list(raw) if isinstance(raw, list) else [raw]


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
