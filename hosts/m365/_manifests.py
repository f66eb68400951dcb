"""The three manifests of the package: the app, the declarative agent, the API plugin.

Versions: app manifest 1.27 (``copilotAgents``), declarative agent v1.8, plugin
manifest v2.4. Strings are cut to Microsoft's limits and kept free of ``[[...]]``
(the syntax of localisation keys); the agent's name, description and conversation
starters are single lines, as the declarative agent schema requires.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from dualtrack import Orchestrator, Skill

from ._options import PackageOptions

__all__ = [
    "APP_MANIFEST_VERSION",
    "AGENT_FILE",
    "AGENT_VERSION",
    "PLUGIN_FILE",
    "PLUGIN_VERSION",
    "app_manifest",
    "conversation_starters",
    "declarative_agent",
    "instructions",
    "one_line",
    "plugin_manifest",
]

APP_MANIFEST_VERSION = "1.27"
AGENT_VERSION = "v1.8"
PLUGIN_VERSION = "v2.4"
AGENT_FILE = "declarativeAgent.json"
PLUGIN_FILE = "ai-plugin.json"
_SCHEMAS = "https://developer.microsoft.com/json-schemas"
_MAX_INSTRUCTIONS = 8000


def one_line(text: str, limit: int) -> str:
    """``text`` on one line, without ``[[``/``]]``, cut at a word to at most ``limit`` characters."""
    flat = " ".join(text.replace("[[", "[ [").replace("]]", "] ]").split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"


def summary(skill: Skill) -> str:
    """The first sentence of a skill's description."""
    first = skill.description.strip().split("\n\n")[0]
    return re.split(r"(?<=[.!?])\s", " ".join(first.split()), maxsplit=1)[0]


def instructions(name: str, orc: Orchestrator, functions: dict[str, str]) -> tuple[str, bool]:
    """The agent's instructions derived from the plugins, and whether they had to be shortened.

    Args:
        name: The agent's name.
        orc: The orchestrator whose plugins are described.
        functions: Skill full name → the plugin function that calls it (skills left out
            are not mentioned).
    """
    rules = [
        "How to work:",
        "- Call a function only for what the user asked. Never invent a file name: when none "
        "was given, ask which file.",
        "- File arguments take what the service accepts: a file name of the user's workspace, "
        "upload:<id> of an uploaded file, or a Microsoft 365 reference such as "
        "onedrive:/Reports/q3.docx or a sharing link when the service reads OneDrive and SharePoint.",
        "- Functions marked 'changes files' write a new file next to the input and never replace "
        "one unless the user asked; the user confirms each of them. Say which file will be written.",
        "- Every result carries its sensitivity. When it is confidential or highly-confidential, "
        "say so and do not copy its content anywhere the user did not ask for.",
        "- When a call fails, tell the user the error's detail and what it says to do next; "
        "do not retry with guessed arguments.",
    ]

    def render(detail: bool) -> str:
        lines = [
            f"You are {name}. You work on the user's documents, spreadsheets and code through the "
            "functions below, each of which runs one skill of the service and reports which model "
            "did the work.",
            "",
        ]
        for plugin in orc.registry:
            skills = [s for s in plugin.skills.values() if s.full_name in functions]
            if not skills:
                continue
            lines.append(f"## {plugin.name}: {one_line(plugin.description, 200)}")
            for skill in sorted(skills, key=lambda s: s.name):
                effect = "changes files" if skill.effects == "write" else "reads only"
                text = f": {one_line(summary(skill), 160)}" if detail else ""
                lines.append(f"- {functions[skill.full_name]} ({effect}){text}")
            lines.append("")
        return "\n".join([*lines, *rules])

    text = render(detail=True)
    if len(text) <= _MAX_INSTRUCTIONS:
        return text, False
    text = render(detail=False)
    return (text if len(text) <= _MAX_INSTRUCTIONS else text[: _MAX_INSTRUCTIONS - 1] + "…"), True


def conversation_starters(skills: Sequence[Skill], limit: int = 12) -> list[dict[str, str]]:
    """Up to ``limit`` starters, taking each plugin's skills in turn (reads first)."""
    by_plugin: dict[str, list[Skill]] = {}
    for skill in sorted(skills, key=lambda s: (s.effects == "write", s.full_name)):
        by_plugin.setdefault(skill.plugin, []).append(skill)
    order: list[Skill] = []
    while any(by_plugin.values()) and len(order) < limit:
        for queue in by_plugin.values():
            if queue and len(order) < limit:
                order.append(queue.pop(0))
    return [
        {
            "title": one_line(f"{s.plugin.capitalize()}: {s.name.replace('_', ' ')}", 50),
            "text": one_line(summary(s).rstrip("."), 200),
        }
        for s in order
    ]


def app_manifest(options: PackageOptions, *, short: str, full: str) -> dict[str, Any]:
    """``manifest.json``: the app, its icons and its one declarative agent."""
    assert options.app_id and options.website_url and options.privacy_url and options.terms_url
    return {
        "$schema": f"{_SCHEMAS}/teams/v{APP_MANIFEST_VERSION}/MicrosoftTeams.schema.json",
        "manifestVersion": APP_MANIFEST_VERSION,
        "version": options.version,
        "id": options.app_id,
        "developer": {
            "name": options.developer,
            "websiteUrl": options.website_url,
            "privacyUrl": options.privacy_url,
            "termsOfUseUrl": options.terms_url,
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "name": {"short": options.name, "full": one_line(options.name, 100)},
        "description": {"short": one_line(short, 80), "full": one_line(full, 4000)},
        "accentColor": options.accent_color,
        "copilotAgents": {"declarativeAgents": [{"id": "declarativeAgent", "file": AGENT_FILE}]},
    }


def declarative_agent(
    options: PackageOptions, *, description: str, text: str, starters: list[dict[str, str]]
) -> dict[str, Any]:
    """``declarativeAgent.json``: name, description, instructions, starters, the plugin."""
    agent: dict[str, Any] = {
        "$schema": f"{_SCHEMAS}/copilot/declarative-agent/{AGENT_VERSION}/schema.json",
        "version": AGENT_VERSION,
        "name": options.name,
        "description": one_line(description, 1000),
        "instructions": text,
        "actions": [{"id": "dualtrackPlugin", "file": PLUGIN_FILE}],
    }
    if starters:
        agent["conversation_starters"] = starters
    return agent


def plugin_manifest(
    options: PackageOptions,
    *,
    description: str,
    functions: list[dict[str, Any]],
    runtimes: Iterable[dict[str, Any]],
    starters: list[dict[str, str]],
) -> dict[str, Any]:
    """``ai-plugin.json``: the functions and the runtimes that call them."""
    namespace = re.sub(r"[^A-Za-z0-9]", "", options.name) or "dualtrack"
    manifest: dict[str, Any] = {
        "$schema": f"{_SCHEMAS}/copilot/plugin/{PLUGIN_VERSION}/schema.json",
        "schema_version": PLUGIN_VERSION,
        "name_for_human": one_line(options.name, 20),
        "namespace": namespace,
        "description_for_human": one_line(description, 100),
        "description_for_model": one_line(description, 2048),
        "functions": functions,
        "runtimes": list(runtimes),
    }
    if starters:
        manifest["capabilities"] = {"conversation_starters": starters}
    return manifest
