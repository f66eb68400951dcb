"""Workload files for ``dualtrack eval``: the skill calls to run, with their files and arguments.

TOML (``[[calls]]`` tables, optional defaults at the top)::

    reference = "gpt-4o"              # optional: the model the others are compared with
    models = ["smollm2", "gpt-4o-mini"]   # optional: the models to run (``--models`` wins)
    sensitivity = "general"           # optional: the level of calls that set none

    [[calls]]
    id = "q2-summary"                 # optional; default: the skill and the row number
    skill = "document.summarize"
    args = { path = "docs/q2_report.docx", style = "bullets" }
    sensitivity = "confidential"      # optional
    models = ["smollm2"]              # optional: only these models for this call

or JSONL, one such call object per line (``#`` lines and blank lines are skipped).
File arguments are relative to the workload file. A call that cannot run — an
unknown skill, bad arguments, a missing file, a line that does not parse — is
kept as a :class:`RowProblem` and reported; the other calls still run.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._app._paths import PathRole, path_parameters
from .._errors import ConfigError, DualtrackError
from .._model._sensitivity import Sensitivity

if TYPE_CHECKING:
    from .._app._orchestrator import Orchestrator

__all__ = ["RowProblem", "Workload", "WorkloadRow", "load_workload"]

_ROW_KEYS = {"id", "skill", "args", "sensitivity", "models"}


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkloadRow:
    """One skill call of a workload.

    Attributes:
        id: A name for the row in reports.
        skill: The full skill name.
        args: Its arguments (file arguments resolved against the workload's folder
            once :meth:`Workload.check` has run).
        sensitivity: The level of the call (``None``: the workload's default).
        models: Only these models run it (``None``: every model of the run).
        paths: File argument name → whether the skill reads or writes it (filled by the check).
    """

    id: str
    skill: str
    args: dict[str, Any] = field(default_factory=dict)
    sensitivity: str | None = None
    models: tuple[str, ...] | None = None
    paths: dict[str, PathRole] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class RowProblem:
    """A row that was skipped, and why.

    Attributes:
        row: The row's id (or ``line N`` for one that did not parse).
        skill: Its skill name, when it has one.
        model: The model it was skipped for (``None``: for every model).
        reason: What is wrong, and what to do.
    """

    row: str
    skill: str | None
    reason: str
    model: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {"row": self.row, "skill": self.skill, "model": self.model, "reason": self.reason}


@dataclass(slots=True, kw_only=True)
class Workload:
    """A parsed workload.

    Attributes:
        path: The file it came from (``None`` when built in code).
        rows: The calls.
        reference: The reference model, if the file names one.
        models: The models to run, if the file names them.
        sensitivity: The default level of its calls.
        problems: Rows that could not be read.
    """

    rows: list[WorkloadRow]
    path: Path | None = None
    reference: str | None = None
    models: list[str] | None = None
    sensitivity: str | None = None
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def base(self) -> Path:
        """The folder relative file arguments are taken from."""
        return self.path.parent if self.path is not None else Path.cwd()

    def check(self, orc: Orchestrator) -> tuple[list[WorkloadRow], list[RowProblem]]:
        """Resolve every row against ``orc``'s skills: the runnable rows, and the skipped ones.

        A row is skipped when its skill is unknown (the message suggests names), its
        arguments do not validate, or a file it reads does not exist.
        """
        ready: list[WorkloadRow] = []
        problems = list(self.problems)
        for row in self.rows:
            try:
                skill = orc.skill(row.skill)
                skill.bind_arguments(dict(row.args))
            except DualtrackError as exc:
                problems.append(RowProblem(row=row.id, skill=row.skill, reason=_one_line(exc)))
                continue
            args = dict(row.args)
            paths: dict[str, PathRole] = {}
            missing = []
            for name, role in path_parameters(skill).items():
                raw = args.get(name)
                if not isinstance(raw, str) or not raw:
                    continue
                path = Path(raw).expanduser()
                path = path if path.is_absolute() else self.base / path
                if role is PathRole.INPUT and not path.exists():
                    missing.append(f"{name}={raw!r} ({path.name} not found)")
                paths[name] = role
                args[name] = str(path)
            if missing:
                reason = f"missing file(s): {', '.join(missing)}; fix the path in the workload"
                problems.append(RowProblem(row=row.id, skill=row.skill, reason=reason))
                continue
            if row.sensitivity is not None:
                try:
                    Sensitivity.parse(row.sensitivity)
                except (ValueError, DualtrackError) as exc:
                    problems.append(RowProblem(row=row.id, skill=row.skill, reason=_one_line(exc)))
                    continue
            ready.append(
                WorkloadRow(
                    id=row.id,
                    skill=skill.full_name,
                    args=args,
                    sensitivity=row.sensitivity or self.sensitivity,
                    models=row.models,
                    paths=paths,
                )
            )
        return ready, problems


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:400]


def _row(raw: Any, where: str, index: int) -> WorkloadRow | RowProblem:
    if not isinstance(raw, dict):
        return RowProblem(row=where, skill=None, reason="a call must be a table/object with a 'skill'")
    skill = raw.get("skill")
    rid = str(raw.get("id") or f"{skill or 'row'}#{index}")
    unknown = sorted(set(raw) - _ROW_KEYS)
    if not isinstance(skill, str) or not skill:
        return RowProblem(row=rid, skill=None, reason=f"{where}: no 'skill' given")
    if unknown:
        return RowProblem(row=rid, skill=skill, reason=f"{where}: unknown key(s) {', '.join(unknown)}")
    args = raw.get("args", {})
    models = raw.get("models")
    if not isinstance(args, dict):
        return RowProblem(row=rid, skill=skill, reason=f"{where}: 'args' must be a table/object")
    if models is not None and not (isinstance(models, list) and all(isinstance(m, str) for m in models)):
        return RowProblem(row=rid, skill=skill, reason=f"{where}: 'models' must be a list of names")
    level = raw.get("sensitivity")
    return WorkloadRow(
        id=rid,
        skill=skill,
        args=dict(args),
        sensitivity=str(level) if level is not None else None,
        models=tuple(models) if models is not None else None,
    )


def load_workload(path: str | Path) -> Workload:
    """Read a TOML or JSONL workload (see the module docstring).

    Args:
        path: The file (``.toml``, or ``.jsonl``/``.json`` for one call per line).

    Returns:
        The workload; rows that do not parse are in ``problems``.

    Raises:
        ConfigError: The file is missing, or is not valid TOML.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot read the workload ({exc.strerror}); pass an existing file", path=str(file)
        ) from None
    rows: list[WorkloadRow] = []
    problems: list[RowProblem] = []
    top: dict[str, Any] = {}
    if file.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        for i, line in enumerate(text.splitlines(), 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            try:
                raw = json.loads(line)
            except ValueError as exc:
                problems.append(RowProblem(row=f"line {i}", skill=None, reason=f"line {i}: not JSON ({exc})"))
                continue
            parsed = _row(raw, f"line {i}", i)
            (problems if isinstance(parsed, RowProblem) else rows).append(parsed)  # type: ignore[arg-type]
    else:
        try:
            top = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"invalid TOML: {exc}", path=str(file)) from None
        calls = top.get("calls", [])
        if not isinstance(calls, list):
            raise ConfigError("must be an array of tables ([[calls]])", path=str(file), field="calls")
        for i, raw in enumerate(calls, 1):
            parsed = _row(raw, f"calls[{i}]", i)
            (problems if isinstance(parsed, RowProblem) else rows).append(parsed)  # type: ignore[arg-type]
    models = top.get("models")
    return Workload(
        rows=rows,
        path=file.resolve(),
        reference=str(top["reference"]) if top.get("reference") else None,
        models=[str(m) for m in models] if isinstance(models, list) else None,
        sensitivity=str(top["sensitivity"]) if top.get("sensitivity") else None,
        problems=problems,
    )
