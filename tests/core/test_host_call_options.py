"""What a host sets per call: ``ask(tools=, roots=, confirm=, on_text=)``, ``invoke(on_text=, confirm=)``,
and host sections (``[http]``) in ``dualtrack.toml``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dualtrack import (
    Completion,
    ConfigError,
    FileRoots,
    InputPath,
    Orchestrator,
    OutputPath,
    SkillContext,
    ToolCall,
    atomic_write,
    load_config,
    plugin,
    skill,
)
from dualtrack.testing import FunctionConnector, model_card


@plugin("files", description="Reads and copies files.")
class FilesPlugin:
    def __init__(self) -> None:
        self.read_paths: list[str] = []

    @skill(requires=["chat"])
    async def read(self, ctx: SkillContext, path: InputPath) -> str:
        """Read a text file and have a model retell it.

        Args:
            path: The file.
        """
        p = ctx.input_file(path)
        self.read_paths.append(str(p))
        done = await ctx.generate(f"Retell: {p.read_text()}")
        quiet = await ctx.generate("no stream here", on_text=lambda _chunk: None)
        return done.text + quiet.text

    @skill(effects="write")
    def copy(self, path: InputPath, output: OutputPath) -> str:
        """Copy a file.

        Args:
            path: The file.
            output: The copy.
        """
        with atomic_write(output) as fh:
            fh.write(Path(path).read_bytes())
        return output


@plugin("other", description="A plugin the caller may not use.")
class OtherPlugin:
    def __init__(self) -> None:
        self.ran = False

    @skill()
    def secret(self) -> str:
        """Return something the caller may not see."""
        self.ran = True
        return "hidden"


def _tool(name: str, args: dict[str, object], call_id: str = "t1") -> Completion:
    return Completion("", tool_calls=[ToolCall(id=call_id, name=name, arguments=json.dumps(args))])


def _orc(script: list[object], seen: list[object]) -> tuple[Orchestrator, FilesPlugin, OtherPlugin]:
    def reply(request):
        seen.append(request)
        return script.pop(0) if script else "ok"

    files, other = FilesPlugin(), OtherPlugin()

    def never(_skill, _args):
        raise AssertionError("the orchestrator's own confirm must not be asked")

    orc = Orchestrator(models=[model_card(FunctionConnector(reply))], plugins=[files, other], confirm=never)
    return orc, files, other


async def test_ask_offers_only_the_named_tools_and_refuses_others(tmp_path):
    seen: list[object] = []
    orc, _files, other = _orc([_tool("other-secret", {}), "done"], seen)
    result = await orc.ask("tell me", tools=["files"], roots=FileRoots([tmp_path]))
    offered = {t["function"]["name"] for t in seen[0].tools}
    assert offered == {"files-read", "files-copy"}
    assert not other.ran
    tool_reply = seen[1].messages[-1].content
    assert tool_reply.startswith("error: UnknownSkillError") and "hidden" not in tool_reply
    assert result.value == "done"


async def test_ask_roots_take_relative_names_and_refuse_paths_outside(tmp_path):
    (tmp_path / "u1").mkdir()
    (tmp_path / "u1" / "notes.txt").write_text("alpha")
    outside = tmp_path.parent / f"{tmp_path.name}-outside.txt"
    outside.write_text("beta")
    seen: list[object] = []
    script: list[object] = [
        _tool("files-read", {"path": "u1/notes.txt"}),
        "retold",
        "quiet",
        _tool("files-read", {"path": str(outside)}, "t2"),
        "done",
    ]
    orc, files, _ = _orc(script, seen)
    result = await orc.ask("read", roots=FileRoots([tmp_path]))
    assert files.read_paths == [str(tmp_path / "u1" / "notes.txt")]
    assert json.loads(seen[3].messages[-1].content) == "retoldquiet"
    assert seen[4].messages[-1].content.startswith("error: FileAccessError")
    assert result.value == "done"


async def test_ask_asks_its_own_async_confirm_for_writes(tmp_path):
    (tmp_path / "a.txt").write_text("data")
    asked: list[tuple[str, dict[str, object]]] = []

    async def confirm(s, arguments):
        asked.append((s.full_name, arguments))
        return len(asked) == 1  # yes to the first write, no to the second

    seen: list[object] = []
    script: list[object] = [
        _tool("files-copy", {"path": "a.txt", "output": "b.txt"}),
        _tool("files-copy", {"path": "a.txt", "output": "c.txt"}, "t2"),
        "done",
    ]
    orc, _, _ = _orc(script, seen)
    await orc.ask("copy twice", roots=FileRoots([tmp_path]), confirm=confirm)
    assert [name for name, _ in asked] == ["files.copy", "files.copy"]
    assert asked[0][1]["output"] == str(tmp_path / "b.txt")  # resolved before the question
    assert (tmp_path / "b.txt").read_text() == "data" and not (tmp_path / "c.txt").exists()
    assert seen[2].messages[-1].content.startswith("error: NotConfirmedError")


async def test_invoke_on_text_streams_every_model_call_without_its_own(tmp_path):
    (tmp_path / "a.txt").write_text("alpha")
    seen: list[object] = []
    orc, _, _ = _orc(["streamed reply", "quiet reply"], seen)
    chunks: list[str] = []
    orc.files = FileRoots([tmp_path])
    result = await orc.invoke("files.read", {"path": str(tmp_path / "a.txt")}, on_text=chunks.append)
    assert "".join(chunks) == "streamed reply"  # the second call passed its own on_text
    assert result.value == "streamed replyquiet reply"


def test_host_sections_in_dualtrack_toml(tmp_path):
    cfg_file = tmp_path / "dualtrack.toml"
    cfg_file.write_text(
        'models = []\n[http]\nmax_upload_mb = 5\ndata_dir = "${DATA:-data}"\n[[http.api_keys]]\nname = "a"\n'
        'hash = "sha256:' + "0" * 64 + '"\n'
    )
    cfg = load_config(cfg_file)
    http = cfg.section("http")
    assert http["max_upload_mb"] == 5 and http["data_dir"] == "${DATA:-data}"  # the host expands it
    assert cfg.section("nothing") is None
    assert Orchestrator.from_config(cfg_file).plugin_errors == {}

    cfg_file.write_text("models = []\n[htttp]\nmax_upload_mb = 5\n")
    with pytest.raises(ConfigError) as err:
        load_config(cfg_file)
    assert err.value.field == "htttp" and "http" in str(err.value)


def test_a_misspelt_key_of_a_host_section_fails_when_loaded(tmp_path):
    pytest.importorskip("starlette")
    cfg_file = tmp_path / "dualtrack.toml"
    cfg_file.write_text("models = []\n[http]\nmax_uplod_mb = 5\n")
    with pytest.raises(ConfigError) as err:
        Orchestrator.from_config(cfg_file)
    assert err.value.field == "http.max_uplod_mb"


async def test_ask_on_text_streams_the_answer_not_the_tools_calls(tmp_path):
    (tmp_path / "a.txt").write_text("alpha")
    seen: list[object] = []
    script: list[object] = [_tool("files-read", {"path": "a.txt"}), "tool text", "quiet", "The answer."]
    orc, _, _ = _orc(script, seen)
    chunks: list[str] = []
    result = await orc.ask("read a.txt", roots=FileRoots([tmp_path]), on_text=chunks.append)
    assert result.value == "The answer." and "".join(chunks) == "The answer."
