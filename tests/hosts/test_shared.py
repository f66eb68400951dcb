"""What the agent hosts share: a model-chosen call through the core rule, and the public helpers they use."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from dualtrack import (
    FileAccessError,
    InputFileError,
    NotConfirmedError,
    Orchestrator,
    PathRole,
    SkillContext,
    host_skill,
    path_parameters,
    plugin,
    skill,
)
from dualtrack.hosts._shared import run_model_chosen
from dualtrack.testing import FunctionConnector, model_card


class Note(BaseModel):
    """A note."""

    title: str
    words: int


class Pair(TypedDict):
    left: str
    right: int


@dataclass
class Point:
    x: int
    y: int


@plugin("files", description="Reads and writes notes.")
class Files:
    @skill
    def read(self, ctx: SkillContext, path: str) -> Note:
        """Read a note.

        Args:
            path: The note.
        """
        p = ctx.input_file(path)
        return Note(title=p.name, words=len(p.read_text(encoding="utf-8").split()))

    @skill(effects="write")
    def write(self, path: str, text: str) -> str:
        """Write a note.

        Args:
            path: The note.
            text: Its text.
        """
        Path(path).write_text(text, encoding="utf-8")
        return "written"

    @skill(requires=["chat"])
    async def think_then_fail(self, ctx: SkillContext, topic: str) -> None:
        """Ask a model, read a labelled note, then fail.

        Args:
            topic: What to think about.
        """
        await ctx.generate(f"think about {topic}")
        ctx.raise_sensitivity("confidential")
        raise InputFileError("notes.txt", "gone")

    @skill
    def pair(self, left: str) -> Pair:
        """A typed dict.

        Args:
            left: Left.
        """
        return {"left": left, "right": 1}

    @skill
    def point(self, x: int) -> Point:
        """A dataclass.

        Args:
            x: X.
        """
        return Point(x=x, y=0)

    @skill
    def many(self, n: int) -> list[int]:
        """A list.

        Args:
            n: How many.
        """
        return list(range(n))

    @skill
    def text(self, s: str) -> str:
        """Plain text.

        Args:
            s: Text.
        """
        return s

    @skill
    def nothing(self, s: str) -> None:
        """Nothing.

        Args:
            s: Text.
        """

    @skill
    def anything(self, s: str) -> Any:
        """Anything.

        Args:
            s: Text.
        """
        return s


def _orc(root: Path, **kw: Any) -> Orchestrator:
    card = model_card(FunctionConnector(lambda r: "thought"), name="inhouse", clearance="highly-confidential")
    return Orchestrator(models=[card], plugins=[Files], roots=[root], **kw)


async def test_a_path_outside_the_roots_is_refused_by_the_core_rule(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    outside = tmp_path / "secret.txt"
    outside.write_text("do not read", encoding="utf-8")
    out = await run_model_chosen(_orc(root), "files-read", {"path": str(outside)})
    assert isinstance(out.error, FileAccessError) and not out.ok
    assert out.text.startswith("error: FileAccessError:") and str(tmp_path) not in out.text
    inside = root / "a.txt"
    inside.write_text("one two three", encoding="utf-8")
    ok = await run_model_chosen(_orc(root), "files.read", {"path": str(inside)})
    assert ok.ok and ok.skill == "files.read" and '"words":3' in ok.text


async def test_an_unconfirmed_write_is_refused_unless_confirmed(tmp_path: Path) -> None:
    target = tmp_path / "new.txt"
    refused = await run_model_chosen(_orc(tmp_path), "files.write", {"path": str(target), "text": "x"})
    assert isinstance(refused.error, NotConfirmedError) and "not confirmed by the user" in refused.text
    assert not target.exists()
    asked: list[dict[str, Any]] = []
    orc = _orc(tmp_path, confirm=lambda s, a: asked.append(a) or False)
    declined = await run_model_chosen(orc, "files.write", {"path": f"{tmp_path}/./new.txt", "text": "x"})
    assert isinstance(declined.error, NotConfirmedError) and asked[0]["path"] == str(target.resolve())
    done = await run_model_chosen(
        _orc(tmp_path), "files.write", {"path": str(target), "text": "x"}, confirmed=True
    )
    assert done.ok and target.read_text(encoding="utf-8") == "x"


async def test_a_failed_call_keeps_its_model_calls_and_level(tmp_path: Path) -> None:
    out = await run_model_chosen(
        _orc(tmp_path), "files.think_then_fail", {"topic": "May"}, sensitivity="public"
    )
    assert isinstance(out.error, InputFileError)
    assert len(out.calls) == 1 and out.calls[0].model == "inhouse"
    assert out.sensitivity.value == "confidential"


def test_output_schema_is_the_return_types_json_schema(tmp_path: Path) -> None:
    orc = _orc(tmp_path)
    note = orc.skill("files.read").output_schema()
    assert note is not None and note["type"] == "object" and set(note["properties"]) == {"title", "words"}
    pair = orc.skill("files.pair").output_schema()
    assert pair is not None and set(pair["properties"]) == {"left", "right"}
    point = orc.skill("files.point").output_schema()
    assert point is not None and set(point["properties"]) == {"x", "y"}
    assert orc.skill("files.many").output_schema() == {"items": {"type": "integer"}, "type": "array"}
    for name in ("text", "nothing", "anything", "write"):
        assert orc.skill(f"files.{name}").output_schema() is None, name
    note["properties"].clear()  # a copy: the skill's schema stays whole
    again = orc.skill("files.read").output_schema()
    assert again is not None and set(again["properties"]) == {"title", "words"}


def test_host_skill_and_path_parameters() -> None:
    chat = host_skill("sk.chat", requires=["chat", "tools"])
    assert chat.full_name == "sk.chat" and chat.requires == {"chat", "tools"} and chat.effects == "read"
    assert host_skill("ask").full_name == "host.ask" and host_skill("ask").requires == {"chat"}
    orc = Orchestrator(models=[], plugins=[Files])
    assert path_parameters(orc.skill("files.write")) == {"path": PathRole.INPUT}
    assert path_parameters(orc.skill("files.pair")) == {}
