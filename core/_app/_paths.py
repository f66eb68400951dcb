"""Where skills may read and write: file roots, secret-looking files, path arguments.

The orchestrator holds :class:`FileRoots` (the working directory unless the host
says otherwise). Every path is resolved (``~`` expanded, symbolic links and
``..`` resolved) before it is compared with the roots, so a link or a ``..``
cannot lead out of them. The policy, by who chose the path:

============================  ==========================  ===========================================
who chose it                  inside the roots            outside the roots
============================  ==========================  ===========================================
a model (``orc.ask``)         used (writes: ``confirm``)  refused (:class:`FileAccessError`)
a person or host (``invoke``) used                        asked of ``confirm`` when the host gave one
                                                          (refused if it declines); without one the
                                                          caller's own choice of path is used
============================  ==========================  ===========================================

Secret-looking files (dot-files and dot-folders directly in the home folder such as
``~/.aws`` or ``~/.ssh``, ``*.pem``, ``*.key``, ``id_rsa*``, ``.env`` ...) are refused
either way unless the host listed them in ``allow_secrets``.
"""

from __future__ import annotations

import enum
import fnmatch
import os
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, get_args, get_origin

from .._errors import FileAccessError, InputFileError

if TYPE_CHECKING:
    from .._plugins._skills import Skill

__all__ = [
    "FileAccess",
    "FileRoots",
    "InputPath",
    "OutputPath",
    "PathRole",
    "path_parameters",
    "resolve_input",
    "resolve_output",
]


class PathRole(enum.Enum):
    """What a skill does with a path parameter."""

    INPUT = "input"
    OUTPUT = "output"


InputPath = Annotated[str, PathRole.INPUT]
"""A skill parameter naming a file or folder the skill reads (schema: a string)."""
OutputPath = Annotated[str, PathRole.OUTPUT]
"""A skill parameter naming a file the skill writes (schema: a string)."""

_INPUT_NAMES = frozenset({"path", "paths", "file", "filename", "input_path", "source_path"})
_OUTPUT_NAMES = frozenset({"output", "output_path", "out", "dest", "destination", "write_to", "save_to"})
_SECRET_NAMES = (
    ".env",
    ".env.*",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    ".netrc",
    ".pgpass",
    ".git-credentials",
    ".npmrc",
    ".pypirc",
    "credentials",
)


def resolve_input(raw: str | os.PathLike[str]) -> Path:
    """``~`` expanded, made absolute, every link and ``..`` resolved.

    Raises:
        InputFileError: For a path no file can have (a NUL character, a loop of links).
    """
    try:
        return Path(raw).expanduser().resolve()
    except (ValueError, RuntimeError, OSError) as exc:
        raise _unusable(raw, exc) from None


def resolve_output(raw: str | os.PathLike[str]) -> Path:
    """Like :func:`resolve_input`, but a link at the last component is not followed."""
    try:
        p = Path(raw).expanduser().absolute()
        if p.name in ("", ".", ".."):
            return p.resolve()
        return p.parent.resolve() / p.name
    except (ValueError, RuntimeError, OSError) as exc:
        raise _unusable(raw, exc) from None


def _unusable(raw: str | os.PathLike[str], exc: Exception) -> InputFileError:
    what = "contains a NUL character" if "\x00" in str(raw) else f"cannot be resolved ({type(exc).__name__})"
    return InputFileError(repr(str(raw))[:300], f"{what}; pass the path of a real file")


class FileRoots:
    """The folders skills may use, and the secret-looking files they may read anyway.

    Args:
        roots: Folders; ``None`` means the current working directory.
        allow_secrets: Secret-looking files or folders the host explicitly allows.
    """

    def __init__(
        self, roots: Iterable[str | os.PathLike[str]] | None = None, *, allow_secrets: Iterable[str] = ()
    ) -> None:
        given = [Path.cwd()] if roots is None else list(roots)
        self.roots: tuple[Path, ...] = tuple(resolve_input(r) for r in given)
        self.allow_secrets: tuple[Path, ...] = tuple(resolve_input(s) for s in allow_secrets)
        # what most calls get (nothing granted beyond the roots): immutable, so built once
        self._plain = (FileAccess(roots=self), FileAccess(roots=self, model_chosen=True))

    def contains(self, path: Path) -> bool:
        """Whether the resolved ``path`` lies inside one of the roots."""
        return any(path == r or path.is_relative_to(r) for r in self.roots)

    def is_secret(self, path: Path) -> bool:
        """Whether ``path`` looks like a credential and the host did not allow it."""
        if any(path == a or path.is_relative_to(a) for a in self.allow_secrets):
            return False
        home = Path.home().resolve()
        if path.is_relative_to(home) and path != home:
            if path.relative_to(home).parts[0].startswith("."):
                return True
        name = path.name.lower()
        return any(fnmatch.fnmatchcase(name, pat) for pat in _SECRET_NAMES)

    def access(self, *, model_chosen: bool = False, granted: Iterable[Path] = ()) -> FileAccess:
        """The file access of one skill call."""
        if not granted:
            return self._plain[1 if model_chosen else 0]
        return FileAccess(roots=self, model_chosen=model_chosen, granted=frozenset(granted))

    def __repr__(self) -> str:
        return f"FileRoots({[str(r) for r in self.roots]})"


@dataclass(frozen=True, kw_only=True)
class FileAccess:
    """What one skill call may touch: the roots, plus paths its caller approved.

    Attributes:
        roots: The orchestrator's roots.
        model_chosen: Whether a model chose the call (then nothing outside the roots).
        granted: Paths outside the roots a person or host approved for this call.
    """

    roots: FileRoots
    model_chosen: bool = False
    granted: frozenset[Path] = field(default_factory=frozenset)

    def allowed(self, path: Path) -> bool:
        """Whether the resolved ``path`` is inside the roots or approved for this call."""
        return self.roots.contains(path) or any(path == g or path.is_relative_to(g) for g in self.granted)

    def check(self, path: Path, *, verb: str = "read") -> Path:
        """Refuse a resolved path outside what this call may touch, or a secret-looking one.

        Raises:
            FileAccessError: Saying which rule refused it and how to allow it.
        """
        if self.roots.is_secret(path):
            raise FileAccessError(
                str(path),
                f"looks like a credential or private configuration file; refusing to {verb} it. "
                "A host that really means it lists it in Orchestrator(allow_secrets=[...])",
                reason="secret",
            )
        if not self.allowed(path):
            roots = ", ".join(str(r) for r in self.roots.roots) or "(none)"
            raise FileAccessError(
                str(path),
                f"is outside the folders skills may {verb} ({roots}); pass a file inside them, "
                "or add its folder to Orchestrator(roots=[...]) / `roots` in dualtrack.toml",
                reason="outside-roots",
            )
        return path


def path_parameters(skill: Skill) -> dict[str, PathRole]:
    """The parameters of ``skill`` that name files, and whether each is read or written.

    A parameter names a file when it is annotated :data:`InputPath`,
    :data:`OutputPath` or :class:`pathlib.Path` (or lists/optionals of those), or when
    a ``str`` parameter has a conventional name (``path``, ``file``, ``output``,
    ``write_to``, ``*_path`` ...).
    """
    return dict(_roles(skill))


# The roles follow from a skill's parameter model alone: worked out once per model, not per call.
_ROLES: weakref.WeakKeyDictionary[type, dict[str, PathRole]] = weakref.WeakKeyDictionary()


def _roles(skill: Skill) -> dict[str, PathRole]:
    """:func:`path_parameters` of ``skill``, shared: the caller must not change it."""
    found = _ROLES.get(skill.params)
    if found is None:
        found = _ROLES[skill.params] = _find_roles(skill)
    return found


def _find_roles(skill: Skill) -> dict[str, PathRole]:
    roles: dict[str, PathRole] = {}
    for name, info in skill.params.model_fields.items():
        role = _role_of(info.annotation, info.metadata)
        if role is None and _is_text(info.annotation):
            if name in _OUTPUT_NAMES:
                role = PathRole.OUTPUT
            elif name in _INPUT_NAMES or name.endswith(("_path", "_file", "_dir")):
                role = PathRole.INPUT
        if role is not None:
            roles[name] = role
    return roles


def _role_of(annotation: Any, metadata: Iterable[Any] = ()) -> PathRole | None:
    for meta in metadata:
        if isinstance(meta, PathRole):
            return meta
    if annotation is Path:
        return PathRole.INPUT
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *extra = get_args(annotation)
        return _role_of(base, extra)
    for arg in get_args(annotation):
        role = _role_of(arg)
        if role is not None:
            return role
    return None


def _is_text(annotation: Any) -> bool:
    if annotation is str:
        return True
    return any(_is_text(a) for a in get_args(annotation))


ConfirmPaths = Callable[[Mapping[str, Any]], bool]


def bind_paths(
    skill: Skill,
    values: dict[str, Any],
    roots: FileRoots,
    *,
    model_chosen: bool,
    confirm: ConfirmPaths | None,
) -> tuple[dict[str, Any], FileAccess]:
    """Resolve every path argument of a call and decide what the call may touch.

    Args:
        skill: The skill about to run.
        values: Its validated arguments.
        roots: The orchestrator's roots.
        model_chosen: Whether a model chose the call.
        confirm: Asked (with the resolved arguments) about paths outside the roots
            of a call a person or host made; ``None`` trusts that caller.

    Returns:
        The arguments with each path resolved, and the call's file access.

    Raises:
        FileAccessError: For a secret-looking path, a model-chosen path outside the
            roots, or one the host's ``confirm`` declined.
    """
    roles = _roles(skill)
    if not roles:  # most skills take no path: nothing to resolve, the roots apply as they are
        return values, roots.access(model_chosen=model_chosen)
    resolved = dict(values)
    outside: list[Path] = []
    for name, role in roles.items():
        raw = values.get(name)
        if raw is None:
            continue
        items = raw if isinstance(raw, list) else [raw]
        fixed: list[Any] = []
        for item in items:
            if not isinstance(item, (str, os.PathLike)) or str(item) == "":
                fixed.append(item)
                continue
            p = resolve_output(item) if role is PathRole.OUTPUT else resolve_input(item)
            verb = "write" if role is PathRole.OUTPUT else "read"
            if roots.is_secret(p):
                roots.access().check(p, verb=verb)  # raises, naming the rule
            if not roots.contains(p):
                if model_chosen:
                    roots.access(model_chosen=True).check(p, verb=verb)
                outside.append(p)
            fixed.append(type(item)(p) if isinstance(item, Path) else str(p))
        resolved[name] = fixed if isinstance(raw, list) else fixed[0]
    if outside and confirm is not None and not confirm(resolved):
        raise FileAccessError(
            str(outside[0]),
            "is outside the allowed folders and the host did not confirm it; nothing was read or written",
            reason="not-confirmed",
        )
    return resolved, roots.access(model_chosen=model_chosen, granted=outside)
