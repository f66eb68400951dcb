"""``build_package``: the Microsoft 365 app package of an orchestrator's skills, and its report.

The zip holds ``manifest.json``, ``declarativeAgent.json``, ``ai-plugin.json``,
``openapi.json`` and the two icons. Each skill becomes one plugin function whose
name is the HTTP host's operation id. What Copilot cannot send is flattened where
that keeps the request the host expects, and otherwise left out; with an MCP URL,
the skills that would lose arguments are offered whole through the MCP host instead.
Every such decision is in the report, written next to the zip.
"""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dualtrack import Orchestrator, Skill, atomic_write

from .._shared import FUNCTION_NAME, function_name
from . import _cards as cards
from . import _manifests as manifests
from ._icons import color_icon, outline_icon
from ._openapi import CopilotOperation, copilot_openapi, host_document, skill_operations
from ._options import AgentPackageError, PackageOptions, PluginAuth

__all__ = ["FUNCTION_NAME", "LeftOut", "PackageReport", "build_package", "package_files"]

OPENAPI_FILE = "openapi.json"


@dataclass(frozen=True, kw_only=True)
class LeftOut:
    """A skill, or one of its parameters, that Copilot's API plugin cannot send.

    Attributes:
        skill: The skill's full name.
        parameter: The parameter left out, or ``None`` when the whole skill is.
        reason: Why, for people.
        via_mcp: Whether the skill is offered whole through the MCP runtime instead.
    """

    skill: str
    parameter: str | None
    reason: str
    via_mcp: bool = False


@dataclass(frozen=True, kw_only=True)
class PackageReport:
    """What went into the package and what did not.

    Attributes:
        path: The zip written (``None`` until written).
        report_path: The report written next to it.
        files: The files in the zip.
        functions: Plugin functions on the OpenAPI runtime (the host's operation ids).
        mcp_functions: Plugin functions on the MCP runtime (the MCP host's tool names).
        consequential: Functions Copilot confirms before each call (the writes).
        cards: Functions whose results get an Adaptive Card.
        flattened: Skill → parameter → what was simplified.
        left_out: What Copilot cannot send, with the reason.
        warnings: Things to know before installing the package.
    """

    path: Path | None = None
    report_path: Path | None = None
    files: list[str] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)
    mcp_functions: list[str] = field(default_factory=list)
    consequential: list[str] = field(default_factory=list)
    cards: list[str] = field(default_factory=list)
    flattened: dict[str, dict[str, str]] = field(default_factory=dict)
    left_out: list[LeftOut] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def render(self) -> str:
        """The report as Markdown text (what the command prints)."""
        lines = ["# Microsoft 365 Copilot agent package", ""]
        if self.path is not None:
            lines += [f"Package: {self.path.name} ({', '.join(self.files)})", ""]
        lines.append(f"Functions through the HTTP host (OpenAPI): {len(self.functions)}")
        lines += [
            f"- {f}{' (consequential: confirmed in a card)' if f in self.consequential else ''}"
            f"{' (result card)' if f in self.cards else ''}"
            for f in self.functions
        ]
        if self.mcp_functions:
            lines.append(f"\nFunctions through the MCP host: {len(self.mcp_functions)}")
            lines += [
                f"- {f}{' (consequential: confirmed in a card)' if f in self.consequential else ''}"
                for f in self.mcp_functions
            ]
        if self.flattened:
            lines.append("\nFlattened for Copilot (the host receives the same request):")
            for skill, params in sorted(self.flattened.items()):
                by_note: dict[str, list[str]] = {}
                for name, what in sorted(params.items()):
                    by_note.setdefault(what, []).append(name)
                lines += [f"- {skill}: {', '.join(names)}: {what}" for what, names in by_note.items()]
        lines.append("\nLeft out (Copilot cannot send them):" if self.left_out else "\nLeft out: nothing")
        for item in self.left_out:
            what = f"{item.skill}.{item.parameter}" if item.parameter else f"{item.skill} (whole skill)"
            extra = " -> offered whole through the MCP host" if item.via_mcp else ""
            lines.append(f"- {what}: {item.reason}{extra}")
        if self.warnings:
            lines.append("\nWarnings:")
            lines += [f"- {w}" for w in self.warnings]
        return "\n".join(lines) + "\n"


def _auth(options: PackageOptions) -> dict[str, Any]:
    if options.auth is PluginAuth.API_KEY:
        return {"type": PluginAuth.API_KEY.value, "reference_id": options.api_key_registration}
    return {"type": PluginAuth.NONE.value}


def _function(name: str, skill: Skill, *, card: dict[str, Any] | None) -> dict[str, Any]:
    summary = manifests.summary(skill)
    effect = "Changes files (the user confirms)." if skill.effects == "write" else "Reads only."
    caps: dict[str, Any] = {"security_info": cards.security_info(skill)}
    confirm = cards.confirmation(skill, summary)
    if confirm is not None:
        caps["confirmation"] = confirm
    if card is not None:
        caps["response_semantics"] = card
    return {
        "name": name,
        "description": manifests.one_line(f"{skill.description} {effect}", 1000),
        "capabilities": caps,
    }


def _mcp_tools(orc: Orchestrator, skills: list[Skill]) -> list[dict[str, Any]]:
    """The tools as the MCP host lists them (``tools/list``), pinned in the manifest."""
    from dualtrack.hosts.mcp import tool_specs  # the MCP host's own builder (the mcp extra)

    by_skill = {spec.skill.full_name: spec.tool for spec in tool_specs(orc).values()}
    return [by_skill[s.full_name].model_dump(mode="json", by_alias=True, exclude_none=True) for s in skills]


def _check_names(ops: list[CopilotOperation], report: PackageReport) -> list[CopilotOperation]:
    seen: set[str] = set()
    kept = []
    for op in ops:
        if not FUNCTION_NAME.match(op.operation_id):
            reason = f"its operation id {op.operation_id!r} is not a valid function name ([A-Za-z0-9_])"
        elif op.operation_id in seen:
            reason = f"its operation id {op.operation_id!r} is taken by another skill"
        else:
            seen.add(op.operation_id)
            kept.append(op)
            continue
        report.left_out.append(LeftOut(skill=op.skill.full_name, parameter=None, reason=reason))
    return kept


def package_files(orc: Orchestrator, options: PackageOptions) -> tuple[dict[str, bytes], PackageReport]:
    """The files of the package (name → bytes) and its report, without writing anything.

    Raises:
        AgentPackageError: An option breaks a limit, or no skill can be offered.
    """
    options = options.checked()
    report = PackageReport()
    doc = host_document(orc, base_url=options.base_url, auth=options.auth is not PluginAuth.NONE)
    ops = _check_names(skill_operations(orc, doc), report)
    openapi_ops: list[CopilotOperation] = []
    mcp_skills: list[Skill] = []
    for op in ops:
        args, name = op.arguments, op.skill.full_name
        lost = [(p, r) for p, r in args.blocked.items()] + [(p, r) for p, r in args.dropped.items()]
        via_mcp = bool(lost) and options.mcp_url is not None
        for param, reason in lost:
            skill_gone = param in args.blocked
            report.left_out.append(
                LeftOut(
                    skill=name,
                    parameter=None if skill_gone and not via_mcp else param,
                    reason=f"required parameter {param!r} {reason}" if skill_gone else f"it {reason}",
                    via_mcp=via_mcp,
                )
            )
        if via_mcp:
            mcp_skills.append(op.skill)
            continue
        if args.blocked:
            continue
        openapi_ops.append(op)
        if args.flattened:
            report.flattened[name] = dict(args.flattened)
    if not openapi_ops and not mcp_skills:
        raise AgentPackageError(
            "no skill can be offered to Copilot (see the reasons above); register plugins whose skills "
            "take plain arguments, or pass --mcp-url to offer them through the MCP host"
        )
    description = options.description or one_sentence_about(orc, options.name)
    functions: list[dict[str, Any]] = []
    by_skill: dict[str, str] = {}
    for op in openapi_ops:
        card = cards.response_semantics(op.skill)
        functions.append(_function(op.operation_id, op.skill, card=card))
        report.functions.append(op.operation_id)
        by_skill[op.skill.full_name] = op.operation_id
        if card is not None:
            report.cards.append(op.operation_id)
    for skill in mcp_skills:  # named as the MCP host names its tools: the operation id
        name = function_name(skill)
        functions.append(_function(name, skill, card=None))
        report.mcp_functions.append(name)
        by_skill[skill.full_name] = name
    report.consequential.extend(f["name"] for f in functions if "confirmation" in f["capabilities"])
    runtimes: list[dict[str, Any]] = []
    if openapi_ops:
        runtimes.append(
            {
                "type": "OpenApi",
                "auth": _auth(options),
                "spec": {"url": OPENAPI_FILE, "progress_style": "ShowUsageWithInputAndOutput"},
                "run_for_functions": list(report.functions),
            }
        )
    if mcp_skills:
        assert options.mcp_url is not None
        runtimes.append(
            {
                "type": "RemoteMCPServer",
                "auth": _auth(options),
                "spec": {
                    "url": options.mcp_url,
                    "mcp_tool_description": {"tools": _mcp_tools(orc, mcp_skills)},
                },
                "run_for_functions": list(report.mcp_functions),
            }
        )
    elif options.mcp_url:
        report.warnings.append("--mcp-url not used: every skill fits the OpenAPI runtime whole")
    if options.auth is PluginAuth.NONE:
        report.warnings.append(
            "Copilot calls the service without credentials: register an API key for it in the Teams "
            "developer portal and pass --api-key-registration, or keep the service closed to the internet"
        )
    text, shortened = manifests.instructions(options.name, orc, by_skill)
    if shortened:
        report.warnings.append("the instructions were shortened to Copilot's 8,000 characters")
    skills = [op.skill for op in openapi_ops] + mcp_skills
    starters = manifests.conversation_starters(skills)
    openapi = copilot_openapi(
        doc,
        openapi_ops,
        title=options.name,
        description=description,
        bearer=options.auth is not PluginAuth.NONE,
    )
    files = {
        "manifest.json": _json(
            manifests.app_manifest(options, short=description, full=_full(orc, description))
        ),
        manifests.AGENT_FILE: _json(
            manifests.declarative_agent(options, description=description, text=text, starters=starters)
        ),
        manifests.PLUGIN_FILE: _json(
            manifests.plugin_manifest(
                options,
                description=description,
                functions=functions,
                runtimes=runtimes,
                starters=starters[:6],
            )
        ),
        OPENAPI_FILE: _json(openapi),
        "color.png": color_icon(options.accent_color),
        "outline.png": outline_icon(),
    }
    return files, dataclasses.replace(report, files=list(files))


def one_sentence_about(orc: Orchestrator, name: str) -> str:
    """A one-line description of the agent from its plugins' names."""
    plugins = [p.name for p in orc.registry]
    listed = ", ".join(plugins[:-1]) + (f" and {plugins[-1]}" if len(plugins) > 1 else "".join(plugins))
    return f"{name} runs {listed} skills on your files, each routed to a partner or in-house model."


def _full(orc: Orchestrator, description: str) -> str:
    parts = [description] + [f"{p.name}: {p.description}" for p in orc.registry]
    return " ".join(parts)


def _json(data: Any) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def build_package(orc: Orchestrator, out: str | Path, options: PackageOptions) -> PackageReport:
    """Write the app package to ``out`` (a .zip) and its report next to it, atomically.

    Args:
        orc: The orchestrator whose skills the HTTP host serves.
        out: The zip to write (replaced if it exists).
        options: Names, URLs and sign-in of the package.

    Returns:
        The report, also written as ``<out>.report.md``.

    Raises:
        AgentPackageError: An option breaks a limit, ``out`` is not a .zip, or no
            skill can be offered.
    """
    target = Path(out)
    if target.suffix.lower() != ".zip":
        raise AgentPackageError(f"--out must name a .zip file, got {str(out)!r}")
    if target.is_dir():
        raise AgentPackageError(f"--out {str(out)!r} is a folder; name the .zip file to write")
    files, report = package_files(orc, options)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))  # the same input, the same bytes
            info.external_attr = 0o644 << 16
            archive.writestr(info, data, zipfile.ZIP_DEFLATED)
    report_path = target.with_name(target.stem + ".report.md")
    done = dataclasses.replace(report, path=target, report_path=report_path)
    with atomic_write(target) as fh:
        fh.write(buffer.getvalue())
    with atomic_write(report_path, "w") as fh:
        fh.write(done.render())
    return done
