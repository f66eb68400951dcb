"""``orc.ask`` with a Confidential source file, and model-chosen paths of every shape.

The source file declares its level in a header comment (``# Sensitivity: Confidential``).
A partner cleared for ``general`` drives the loop and picks a code skill; the
in-house model answers every skill call with a reply quoting the code. The partner
never receives any text of it, whatever error path the call hits, and the level of
the conversation rises exactly when the tool read the file. Credential-like files,
files outside the roots and links leading out of them are refused for every skill,
``code.fix files=`` included.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dualtrack import Completion, NoRouteError, Orchestrator, Policy, Sensitivity, ToolCall
from dualtrack.plugins.code import CodePlugin
from dualtrack.plugins.code._access import header_level
from dualtrack.testing import FunctionConnector, ScriptedConnector, model_card
from tests.plugins._boundary import assert_boundary_held, quoting_in_house, seen_by

from .conftest import make_project

QUOTE = "the in-house model quotes the code: "
SOURCE = '''# Sensitivity: Confidential
"""Pricing rules of Project Bluefin."""

SECRET_MARGIN = 0.4137  # negotiated with Harrowgate Logistics


def quote_price(base):
    """Apply the Quillfeather discount."""
    return base * (1 - SECRET_MARGIN)
'''
SECRETS = ["Project Bluefin", "Harrowgate Logistics", "0.4137", "Quillfeather discount"]
AWS = "[default]\naws_secret_access_key = wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY\n"
PASSWD = "root:x:0:0:root-of-the-fake-machine:/root:/bin/bash\n"
LEAKS = [*SECRETS, "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY", "root-of-the-fake-machine"]

SKILLS: dict[str, dict[str, Any]] = {
    "explain": {},
    "review": {},
    "tests": {"timeout_s": 20},
    "docstrings": {"apply": True},
}
WRITES = {"tests", "docstrings", "fix"}
BAD: dict[str, dict[str, Any]] = {
    "explain": {"line_start": "the first one"},
    "review": {"use_model": "perhaps"},
    "tests": {"timeout_s": "a while"},
    "docstrings": {"symbols": {"name": 1}},
}


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "credentials").write_text(AWS)
    monkeypatch.setenv("HOME", str(home))
    etc = tmp_path.parent / f"etc-{tmp_path.name}"
    etc.mkdir()
    (etc / "passwd").write_text(PASSWD)
    work = tmp_path / "work"
    work.mkdir()
    (work / "pricing.py").write_text(SOURCE)
    (work / "binary.py").write_bytes(b"# Sensitivity: Confidential\n\xff\xfe" + SOURCE.encode())
    (work / "link.py").symlink_to(etc / "passwd")
    (work / "id_rsa.py").write_text(SOURCE)
    return {
        "doc": work / "pricing.py",
        "hostile": work / "binary.py",
        "outside": etc / "passwd",
        "link": work / "link.py",
        "secret": home / ".aws" / "credentials",
        "secret-in-root": work / "id_rsa.py",
        "missing": work / "missing.py",
    }


def in_house() -> FunctionConnector:
    return quoting_in_house(QUOTE + " | ".join(SECRETS))


def orchestrator(
    tmp_path: Path, tool: str, raw: str, *, local: bool = True, confirm: bool = True
) -> tuple[Orchestrator, ScriptedConnector, FunctionConnector]:
    partner = ScriptedConnector([Completion("", tool_calls=(ToolCall("1", tool, raw),)), "partner answer"])
    inhouse = in_house()
    cards = [model_card(partner, name="gpt", track="partner", clearance="general", quality=1.0)]
    if local:
        cards.append(model_card(inhouse, name="local", clearance="confidential", quality=0.0))
    orc = Orchestrator(
        models=cards,
        policy=Policy(objective="quality"),
        plugins=[CodePlugin],
        roots=[tmp_path],
        confirm=(lambda s, a: True) if confirm else None,
    )
    return orc, partner, inhouse


def assert_no_data(text: str) -> None:
    assert QUOTE not in text
    assert not [s for s in LEAKS if s in text]


PATHS = {
    "missing file": "missing",
    "hostile file": "hostile",
    "outside the roots": "outside",
    "link out of the roots": "link",
    "credentials under home": "secret",
    "secret-looking file": "secret-in-root",
}
CASES = [
    "unknown skill",
    "bad json",
    "argument validation",
    *PATHS,
    "refused write",
    "model reply",
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("skill", list(SKILLS))
async def test_no_error_path_sends_source_text_to_the_partner(
    tmp_path: Path, files: dict[str, Path], skill: str, case: str
) -> None:
    if case == "refused write" and skill not in WRITES:
        pytest.skip("a read skill needs no confirmation")
    tool = f"code-{skill}" + ("-all" if case == "unknown skill" else "")
    args: dict[str, Any] = {"path": str(files[PATHS.get(case, "doc")]), **SKILLS[skill]}
    if case == "argument validation":
        args.update(BAD[skill])
    raw = json.dumps(args)[:-2] if case == "bad json" else json.dumps(args)
    orc, partner, local = orchestrator(tmp_path, tool, raw, confirm=case != "refused write")
    result = await orc.ask("What does my pricing module do?")
    # nothing is read on an error path (a file not UTF-8 cannot be read at all)
    tool_msgs = assert_boundary_held(
        result,
        partner,
        local,
        case=case,
        read=case == "model reply",
        tmp_path=tmp_path,
        assert_no_data=assert_no_data,
    )
    if case in (
        "outside the roots",
        "link out of the roots",
        "credentials under home",
        "secret-looking file",
    ):
        assert "FileAccessError" in tool_msgs[0]


async def test_no_route_ends_the_loop_with_the_level_and_calls_it_reached(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    orc, partner, _ = orchestrator(
        tmp_path, "code-explain", json.dumps({"path": str(files["doc"])}), local=False
    )
    with pytest.raises(NoRouteError) as info:
        await orc.ask("Explain my pricing module")
    assert len(partner.calls) == 1 and info.value.sensitivity == Sensitivity.CONFIDENTIAL
    # the loop's turn, the tool's refused call and the refused next turn, each with its decision
    assert [c.model for c in info.value.calls] == ["gpt", None, None]
    assert [c.decision.requirements.skill for c in info.value.calls][1] == "code.explain"
    assert_no_data(seen_by(partner))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_project(tmp_path / "proj")
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "credentials").write_text(AWS)
    monkeypatch.setenv("HOME", str(home))
    (root / "notes.py").symlink_to(home / ".aws" / "credentials")
    (root / ".env").write_text("TOKEN=wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY\n")
    return root


@pytest.mark.slow
@pytest.mark.parametrize(
    ("project_arg", "extra"),
    [
        ("{root}", ["../home/.aws/credentials"]),
        ("{root}", [".env"]),
        ("{root}", ["notes.py"]),
        ("{home}", [".aws/credentials"]),
    ],
)
async def test_fix_files_obey_the_file_rules(
    tmp_path: Path, project: Path, project_arg: str, extra: list[str]
) -> None:
    args = {
        "command": ["python", "-m", "pytest", "-q", "tests"],
        "project": project_arg.format(root=project, home=tmp_path / "home"),
        "files": extra,
        "timeout_s": 60,
    }
    orc, partner, local = orchestrator(tmp_path, "code-fix", json.dumps(args))
    await orc.ask("Fix my failing tests")
    assert_no_data(seen_by(partner) + seen_by(local))
    tool_msgs = [m.content for m in partner.calls[-1].messages if m.role == "tool"]
    assert tool_msgs and tool_msgs[0].startswith("error: FileAccessError"), tool_msgs


def test_header_labels() -> None:
    assert header_level(SOURCE) is Sensitivity.CONFIDENTIAL
    assert header_level("// Classification: Highly Confidential\nint x;") is Sensitivity.HIGHLY_CONFIDENTIAL
    assert header_level("/* sensitivity = general */") is Sensitivity.GENERAL
    assert header_level("# Sensitivity: Acme Eyes Only") is Sensitivity.CONFIDENTIAL  # unknown: fail closed
    assert header_level("x = 1\n" * 40 + "# Sensitivity: Confidential") is None
