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
import inspect
import logging
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .._errors import (
    ConfigError,
    FileReferenceError,
    MissingDependencyError,
    UserError,
)
from ._paths import FileRoots, path_parameters

if TYPE_CHECKING:
    from .._model._redact import Redactor
    from .._office._labels import LabelPolicy
    from .._plugins._skills import Skill
    from ._source_call import SourceCall

__all__ = ["FetchedFile", "FileSource", "FileSources", "items", "reference_scheme"]

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
            for item in items(values.get(name)):
                if isinstance(item, str) and reference_scheme(item) is not None:
                    found = self.find(item) is not None or found
        return found

    def call(
        self, skill: Skill, values: Mapping[str, Any], roots: FileRoots, labels: LabelPolicy
    ) -> contextlib.AbstractAsyncContextManager[SourceCall]:
        """Fetch the referenced files of one call; the folder is removed on exit."""
        from ._source_call import source_call

        return source_call(self, skill, values, roots, labels)

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


def items(raw: Any) -> list[Any]:
    if raw is None:
        return []
    return list(raw) if isinstance(raw, list) else [raw]
