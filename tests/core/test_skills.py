"""Skills: schemas from signatures and docstrings, validation at registration."""

import enum
import json
import os
from pathlib import Path
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, Field

from dualtrack import ArgumentError, Orchestrator, PluginError, SkillContext, UserError, plugin, skill

SNAPSHOTS = Path(__file__).parent / "snapshots"


class Priority(enum.Enum):
    LOW = "low"
    HIGH = "high"


class Address(BaseModel):
    street: str
    city: str = Field(description="City name")


class Person(BaseModel):
    name: str
    tags: list[str] = []
    address: Address | None = None


@plugin("crm", description="Contacts and tasks.")
class Crm:
    @skill(requires=["extract"], prefers=["json"], effects="write")
    async def add_contact(
        self,
        ctx: SkillContext,
        person: Person,
        priority: Priority = Priority.LOW,
        channel: Literal["email", "phone"] = "email",
        note: str | None = None,
        score: Annotated[int, Field(ge=0, le=10, description="Lead score")] = 5,
    ) -> str:
        """Add a contact to the CRM.

        Longer description that spans
        two lines.

        Args:
            person: The person to add, with an optional address.
            priority: Follow-up priority.
            channel: Preferred channel.
            note: Free text note,
                continued on a second line.

        Returns:
            The new contact id.
        """
        return person.name

    @skill
    def count(self, items: list[int]) -> int:
        """Count items.

        Args:
            items: The items.
        """
        return len(items)


def _snapshot(name: str, data: dict, directory: Path = SNAPSHOTS) -> None:
    """Compare with the committed snapshot; a missing one is written, and fails under CI."""
    path = directory / f"{name}.json"
    text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") or not path.exists():
        missing = not path.exists()
        path.write_text(text)
        if missing and os.environ.get("CI"):
            pytest.fail(f"snapshot {path.name} was missing; it has been written, commit it ({path})")
    assert json.loads(path.read_text()) == json.loads(text), (
        f"schema changed; UPDATE_SNAPSHOTS=1 to accept ({path})"
    )


def test_a_missing_snapshot_is_written_and_fails_under_ci(tmp_path, monkeypatch):
    monkeypatch.delenv("UPDATE_SNAPSHOTS", raising=False)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="was missing; it has been written, commit it"):
        _snapshot("new", {"a": 1}, tmp_path)
    assert json.loads((tmp_path / "new.json").read_text()) == {"a": 1}
    _snapshot("new", {"a": 1}, tmp_path)  # committed now: passes
    monkeypatch.delenv("CI")
    _snapshot("other", {"b": 2}, tmp_path)  # outside CI a missing snapshot is written and passes
    assert (tmp_path / "other.json").exists()


def test_schema_snapshot_nested_models_enums_literal_optional_defaults():
    orc = Orchestrator(plugins=[Crm])
    _snapshot("crm_add_contact", orc.skill("crm.add_contact").parameters_schema())
    _snapshot("crm_tools", {"tools": orc.tools()})


def test_schema_details():
    s = Orchestrator(plugins=[Crm]).skill("crm.add_contact")
    schema = s.parameters_schema()
    props = schema["properties"]
    assert "ctx" not in props
    assert schema["required"] == ["person"]
    assert props["channel"]["enum"] == ["email", "phone"]
    assert props["note"]["description"] == "Free text note, continued on a second line."
    assert props["score"]["description"] == "Lead score" and props["score"]["maximum"] == 10
    assert "Address" in schema["$defs"] and "Priority" in schema["$defs"]
    assert schema["additionalProperties"] is False
    assert s.description.startswith("Add a contact to the CRM.")
    assert s.requires == {"extract"} and s.prefers == {"json"} and s.effects == "write"
    assert s.ctx_param == "ctx"


def test_manifest_is_plain_data():
    manifest = Orchestrator(plugins=[Crm]).manifest()
    json.dumps(manifest)
    (crm,) = manifest["plugins"]
    names = [s["name"] for s in crm["skills"]]
    assert names == ["crm.add_contact", "crm.count"]
    count = crm["skills"][1]
    assert count["needs_model"] is False and count["effects"] == "read"


def test_tool_names_are_openai_safe_and_resolve_back():
    orc = Orchestrator(plugins=[Crm])
    names = [t["function"]["name"] for t in orc.tools()]
    assert names == ["crm-add_contact", "crm-count"]
    assert orc.skill("crm-count").full_name == "crm.count"


async def test_arguments_validated_with_field_names():
    orc = Orchestrator(plugins=[Crm])
    with pytest.raises(ArgumentError) as err:
        await orc.invoke("crm.add_contact", person={"tags": "x"}, channel="fax", bogus=1)
    fields = {f for f, _ in err.value.errors}
    assert {"person.name", "channel", "bogus"} <= fields
    assert "crm.add_contact" in str(err.value)


async def test_sync_skill_and_model_coercion():
    orc = Orchestrator(plugins=[Crm])
    assert (await orc.invoke("crm.count", items=[1, 2, 3])).value == 3
    res = await orc.invoke("crm.add_contact", person={"name": "Ada"})
    assert res.value == "Ada" and res.calls == []


def test_registration_lists_every_problem():
    class NotJson:
        pass

    @plugin("broken")
    class Broken:
        """A broken plugin."""

        @skill(effects="delete")  # type: ignore[arg-type]
        def one(self, x: int) -> None:
            """Do one.

            Args:
                x: A number.
            """

        @skill
        def two(self, thing: NotJson, y, *rest: int) -> None:
            """Do two."""

        @skill
        def three(self, z: int) -> None:
            pass

        @skill(name="one")
        def four(self) -> None:
            """Duplicate name."""

    with pytest.raises(PluginError) as err:
        Orchestrator(plugins=[Broken])
    text = str(err.value)
    assert err.value.plugin == "broken"
    assert "unknown effects 'delete'" in text
    assert "'thing' has unsupported type" in text
    assert "'y' has no type annotation" in text
    assert "*rest is not supported" in text
    assert "broken.three: missing description" in text
    assert "'z' has no description" in text
    assert "defined twice" in text
    assert len(err.value.problems) >= 7


def test_not_a_plugin_and_duplicates():
    class Plain:
        pass

    with pytest.raises(UserError, match="@plugin"):
        Orchestrator(plugins=[Plain])
    with pytest.raises(PluginError, match="already registered"):
        Orchestrator(plugins=[Crm, Crm()])


def test_plugin_name_and_description_checked():
    @plugin("Bad-Name")
    class NoDoc:
        @skill
        def a(self) -> None:
            """A."""

    with pytest.raises(PluginError) as err:
        Orchestrator(plugins=[NoDoc])
    assert "snake_case" in str(err.value) and "missing description" in str(err.value)
