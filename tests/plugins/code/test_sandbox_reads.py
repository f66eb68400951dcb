"""A command run by ``code.fix`` reads only the project copy and the Python installation.

A model drives ``orc.ask`` and picks ``code.fix`` with a command that tries to print
a file: a credential under the home folder, a file outside every root, the
project's ``.env``. The host confirms the call (writes need it). The file's text
never reaches any model, the result says the sandbox refused the read, and a
fix whose tests read the project's own files still works.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dualtrack import Completion, CompletionRequest, Orchestrator, ToolCall
from dualtrack.plugins.code import CodePlugin
from dualtrack.plugins.code._isolation import PRIVATE_ROOT, detect_isolation
from dualtrack.testing import FunctionConnector, model_card

from .conftest import FIX_DIFF, fix_reply, make_project

pytestmark = pytest.mark.slow

NAMESPACES = bool(detect_isolation().prefix and detect_isolation().uses_boot)
needs_namespaces = pytest.mark.skipif(not NAMESPACES, reason="no mount namespace here")

AWS_KEY = "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY"
PASSWD_LINE = "root:x:0:0:root-of-the-fake-machine:/root:/bin/bash"
DOTENV = "TOKEN=dotenv-value-nobody-may-see"
LEAKS = [AWS_KEY, "root-of-the-fake-machine", "dotenv-value-nobody-may-see"]


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A project inside the roots, a fake home with credentials, a file outside every root."""
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "credentials").write_text(f"[default]\naws_secret_access_key = {AWS_KEY}\n")
    monkeypatch.setenv("HOME", str(home))
    outside = tmp_path.parent / f"etc-{tmp_path.name}"
    outside.mkdir()
    (outside / "passwd").write_text(PASSWD_LINE + "\n")
    work = tmp_path / "work"
    project = make_project(work / "proj")
    (project / ".env").write_text(DOTENV + "\n")
    return {
        "work": work,
        "project": project,
        "home secret": home / ".aws" / "credentials",
        "outside": outside / "passwd",
    }


def driver(tool_args: dict[str, Any]) -> FunctionConnector:
    """One model: it calls code.fix, answers the fix request with a real diff, then ends."""

    def reply(request: CompletionRequest) -> str | Completion:
        if request.tools:
            if any(m.role == "tool" for m in request.messages):
                return "done"
            return Completion("", tool_calls=(ToolCall("1", "code-fix", json.dumps(tool_args)),))
        return fix_reply(FIX_DIFF)

    return FunctionConnector(reply)


def orchestrator(conn: FunctionConnector, roots: list[Path], **kw: Any) -> Orchestrator:
    card = model_card(conn, name="partner", track="partner", capabilities={"chat", "json", "tools", "code"})
    return Orchestrator(models=[card], plugins=[CodePlugin], roots=roots, confirm=lambda s, a: True, **kw)


def everything_sent(conn: FunctionConnector) -> str:
    return "\n".join(m.content for c in conn.calls for m in c.messages)


def tool_result(conn: FunctionConnector) -> dict[str, Any]:
    """The fix result as the model received it."""
    texts = [m.content for c in conn.calls for m in c.messages if m.role == "tool"]
    assert texts, "the tool never answered"
    data: dict[str, Any] = json.loads(texts[-1])
    return data


def python_read(path: str) -> list[str]:
    return ["python", "-c", f"print(open({path!r}).read())"]


@pytest.mark.parametrize(
    ("command", "refusal"),
    [
        pytest.param(
            lambda w: python_read(str(w["home secret"])), "sandbox refused reading", id="python-home"
        ),
        pytest.param(
            lambda w: python_read(str(w["outside"])), "sandbox refused reading", id="python-outside"
        ),
        pytest.param(lambda w: python_read("/etc/passwd"), "sandbox refused reading", id="python-etc"),
        pytest.param(lambda w: python_read(".env"), "sandbox refused copying '.env'", id="python-dotenv"),
        pytest.param(
            lambda w: ["sh", "-c", f"cat {w['home secret']} {w['outside']} /etc/passwd"],
            "No such file",
            id="shell-cat",
            marks=needs_namespaces,
        ),
    ],
)
async def test_a_model_chosen_fix_command_cannot_read_outside_the_copy(
    world: dict[str, Path], command: Any, refusal: str
) -> None:
    conn = driver({"command": command(world), "project": str(world["project"]), "timeout_s": 30})
    result = await orchestrator(conn, [world["work"]]).ask("Fix the failing command in my project")
    sent = everything_sent(conn)
    assert not [leak for leak in LEAKS if leak in sent]
    assert "root:x:0:0:root:" not in sent  # the machine's own /etc/passwd
    fix = tool_result(conn)
    assert fix["status"] == "not-fixed"
    assert fix["attempts"] and all(refusal in a["detail"] for a in fix["attempts"] if a["status"] == "failed")
    assert any(a["status"] == "failed" for a in fix["attempts"])
    assert result.value == "done"
    if NAMESPACES:
        assert PRIVATE_ROOT in fix["isolation"]


async def test_an_allowed_secret_is_copied(world: dict[str, Path]) -> None:
    check = "import sys; sys.exit(0 if open('.env').read().startswith('TOKEN=') else 1)"
    args = {"command": ["python", "-c", check], "project": str(world["project"]), "timeout_s": 30}
    allowed = orchestrator(driver(args), [world["work"]], allow_secrets=[world["project"] / ".env"])
    assert (await allowed.invoke("code.fix", **args)).value.status == "already-passing"
    refused = orchestrator(driver(args), [world["work"]])
    assert (await refused.invoke("code.fix", **args)).value.status != "already-passing"


async def test_a_fix_whose_tests_read_project_files_still_works(world: dict[str, Path]) -> None:
    project = world["project"]
    (project / "tests" / "expected.json").write_text('{"clamp": 10, "mean": 2}')
    (project / "tests" / "test_data.py").write_text(
        "import json\nfrom pathlib import Path\n\nfrom calc.ops import clamp, mean\n\n\n"
        "def test_from_data():\n"
        "    data = json.loads((Path(__file__).parent / 'expected.json').read_text())\n"
        "    assert clamp(15, 0, 10) == data['clamp'] and mean([1, 2, 3]) == data['mean']\n"
    )
    args = {"command": ["python", "-m", "pytest", "-q", "tests"], "project": str(project), "timeout_s": 60}
    conn = driver(args)
    await orchestrator(conn, [world["work"]]).ask("Fix my failing tests")
    fix = tool_result(conn)
    assert fix["status"] == "fixed", fix["attempts"]
    assert fix["files"] == ["calc/ops.py"]
    assert not [leak for leak in LEAKS if leak in everything_sent(conn)]
