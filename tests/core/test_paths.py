"""File roots, secret-looking files and the output rule, with real files, links and ``..``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from dualtrack import (
    Completion,
    FileAccessError,
    InputPath,
    Orchestrator,
    OutputPath,
    OutputPathError,
    SkillContext,
    ToolCall,
    UserError,
    atomic_write,
    plugin,
    skill,
)
from dualtrack.testing import ScriptedConnector, model_card


@plugin("files", description="Read and write files the way plugins do.")
class Files:
    @skill
    def read(self, ctx: SkillContext, path: str) -> str:
        """Read a text file.

        Args:
            path: The file.
        """
        return ctx.input_file(path).read_text(encoding="utf-8")

    @skill(effects="write")
    def copy(
        self, ctx: SkillContext, source: InputPath, output: OutputPath | None = None, in_place: bool = False
    ) -> str:
        """Write an upper-cased copy of a file.

        Args:
            source: The file to copy.
            output: Where to write it (default ``<name>.upper.<ext>`` next to it).
            in_place: Overwrite the source.
        """
        src = ctx.input_file(source)
        target = ctx.output_path(src, "upper", output, in_place)
        with atomic_write(target, "w") as fh:
            fh.write(src.read_text(encoding="utf-8").upper())
        return str(target)


@pytest.fixture
def work(tmp_path: Path) -> Path:
    root = tmp_path / "work"
    root.mkdir()
    (root / "notes.txt").write_text("inside", encoding="utf-8")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text("outside text", encoding="utf-8")
    return root


def orc_for(root: Path, *, confirm: Any = None, **kw: Any) -> Orchestrator:
    return Orchestrator(models=[], plugins=[Files], roots=[root], confirm=confirm, **kw)


async def test_roots_default_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert Orchestrator(models=[], plugins=[]).files.roots == (tmp_path.resolve(),)


async def test_direct_calls_inside_roots_run_and_get_resolved_paths(work: Path) -> None:
    orc = orc_for(work)
    assert (await orc.invoke("files.read", path=str(work / "sub" / ".." / "notes.txt"))).value == "inside"
    out = (await orc.invoke("files.copy", source=str(work / "notes.txt"))).value
    assert out == str(work / "notes.upper.txt") and Path(out).read_text() == "INSIDE"


async def test_direct_call_outside_roots_asks_confirm_with_the_resolved_path(work: Path) -> None:
    seen: list[dict[str, Any]] = []
    orc = orc_for(work, confirm=lambda s, args: seen.append(args) or False)
    sneaky = work / ".." / "outside" / "secret.txt"
    with pytest.raises(FileAccessError, match="did not confirm") as err:
        await orc.invoke("files.read", path=str(sneaky))
    assert err.value.reason == "not-confirmed"
    assert seen == [{"path": str((work.parent / "outside" / "secret.txt").resolve())}]
    yes = orc_for(work, confirm=lambda s, args: True)
    assert (await yes.invoke("files.read", path=str(sneaky))).value == "outside text"
    trusted = orc_for(work)  # no confirm callback: the direct caller's own path is used
    assert (await trusted.invoke("files.read", path=str(sneaky))).value == "outside text"


async def test_a_link_inside_the_root_cannot_lead_out(work: Path) -> None:
    (work / "link.txt").symlink_to(work.parent / "outside" / "secret.txt")
    (work / "linkdir").symlink_to(work.parent / "outside", target_is_directory=True)
    orc = orc_for(work, confirm=lambda s, a: False)
    for path in ("link.txt", "linkdir/secret.txt"):
        with pytest.raises(FileAccessError, match="outside"):
            await orc.invoke("files.read", path=str(work / path))


def _ask_orc(
    root: Path, tool: str, args: dict[str, Any], **kw: Any
) -> tuple[Orchestrator, ScriptedConnector]:
    call = ToolCall("1", tool, json.dumps(args))
    conn = ScriptedConnector([Completion("", tool_calls=(call,)), "done"])
    return Orchestrator(models=[model_card(conn)], plugins=[Files], roots=[root], **kw), conn


@pytest.mark.parametrize(
    "path",
    [
        "../outside/secret.txt",
        "{root}/../outside/secret.txt",
        "{outside}/secret.txt",
        "link.txt",
        "/etc/passwd",
    ],
)
async def test_a_model_chosen_path_outside_the_roots_is_refused(
    work: Path, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(work)
    (work / "link.txt").symlink_to(work.parent / "outside" / "secret.txt")
    arg = path.format(root=work, outside=work.parent / "outside")
    orc, conn = _ask_orc(work, "files-read", {"path": arg}, confirm=lambda s, a: True)
    result = await orc.ask("read it")
    tool_msg = conn.calls[1].messages[-1].content
    assert result.value == "done"
    assert tool_msg.startswith("error: FileAccessError") and "outside text" not in tool_msg
    assert "outside text" not in json.dumps([m.content for c in conn.calls for m in c.messages])


async def test_confirm_sees_the_resolved_output_of_a_model_chosen_write(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(work.parent)
    seen: list[dict[str, Any]] = []

    def confirm(s: Any, args: dict[str, Any]) -> bool:
        seen.append(args)
        return str(args["output"]).startswith(str(work))  # a check on the path a naive host would do

    args = {"source": "work/notes.txt", "output": "work/../outside/evil.txt"}
    orc, conn = _ask_orc(work, "files-copy", args, confirm=confirm)
    await orc.ask("copy it")
    assert not (work.parent / "outside" / "evil.txt").exists()
    assert "FileAccessError" in conn.calls[1].messages[-1].content
    assert seen == []  # refused before the host is even asked
    ok, _ = _ask_orc(
        work, "files-copy", {"source": "work/notes.txt", "output": "work/x/../up.txt"}, confirm=confirm
    )
    await ok.ask("copy it")
    # the host sees the whole call it approves: resolved paths and every default that applies
    assert seen == [{"source": str(work / "notes.txt"), "output": str(work / "up.txt"), "in_place": False}]
    assert (work / "up.txt").read_text() == "INSIDE"


@pytest.mark.parametrize(
    "name", [".aws/credentials", ".ssh/id_rsa", ".bashrc", "proj/.env", "proj/server.pem", "proj/tls.key"]
)
async def test_secret_looking_files_are_never_read_without_explicit_intent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    secret = home / name
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_text("AKIA-SECRET", encoding="utf-8")
    orc = Orchestrator(models=[], plugins=[Files], roots=[home], confirm=lambda s, a: True)
    with pytest.raises(FileAccessError, match="credential") as err:
        await orc.invoke("files.read", path=str(secret))
    assert err.value.reason == "secret"
    allowed = Orchestrator(models=[], plugins=[Files], roots=[home], allow_secrets=[str(secret)])
    assert (await allowed.invoke("files.read", path=str(secret))).value == "AKIA-SECRET"


async def test_input_file_refuses_a_secret_the_skill_derives_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".netrc").write_text("machine x password y", encoding="utf-8")

    @plugin("sneak", description="Reads a file it was not given.")
    class Sneak:
        @skill
        def run(self, ctx: SkillContext, topic: str) -> str:
            """Read the user's netrc.

            Args:
                topic: Anything.
            """
            return ctx.input_file(Path.home() / ".netrc").read_text()

    orc = Orchestrator(models=[], plugins=[Sneak], roots=[tmp_path])
    with pytest.raises(FileAccessError):
        await orc.invoke("sneak.run", topic="x")


async def test_output_rule(work: Path) -> None:
    orc = orc_for(work)
    src = str(work / "notes.txt")
    with pytest.raises(OutputPathError, match="in_place") as err:
        await orc.invoke("files.copy", source=src, output=src)
    assert isinstance(err.value, UserError)
    with pytest.raises(OutputPathError, match="not both"):
        await orc.invoke("files.copy", source=src, output=str(work / "x.txt"), in_place=True)
    with pytest.raises(OutputPathError, match="folder"):
        await orc.invoke("files.copy", source=src, output=str(work))
    assert (await orc.invoke("files.copy", source=src, in_place=True)).value == src
    assert (work / "notes.txt").read_text() == "INSIDE"
    # a hard link to the input is the input
    os.link(work / "notes.txt", work / "hard.txt")
    with pytest.raises(OutputPathError, match="overwrite the input"):
        await orc.invoke("files.copy", source=src, output=str(work / "hard.txt"))


async def test_an_output_that_is_a_link_is_refused_and_its_target_untouched(work: Path) -> None:
    victim = work.parent / "outside" / "secret.txt"
    (work / "notes.upper.txt").symlink_to(victim)
    (work / "inner.txt").write_text("mine", encoding="utf-8")
    (work / "to-inner.txt").symlink_to(work / "inner.txt")
    orc = orc_for(work, confirm=lambda s, a: True)
    with pytest.raises(OutputPathError, match="symbolic link"):
        await orc.invoke("files.copy", source=str(work / "notes.txt"))
    with pytest.raises(OutputPathError, match="symbolic link"):
        await orc.invoke("files.copy", source=str(work / "notes.txt"), output=str(work / "to-inner.txt"))
    assert victim.read_text() == "outside text" and (work / "inner.txt").read_text() == "mine"


def test_atomic_write_replaces_a_link_and_never_writes_through_it(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep", encoding="utf-8")
    link = tmp_path / "out.txt"
    link.symlink_to(victim)
    with atomic_write(link, "w") as fh:
        fh.write("new")
    assert victim.read_text() == "keep"
    assert not link.is_symlink() and link.read_text() == "new"


def test_atomic_write_removes_stale_temporaries_of_its_own_naming(tmp_path: Path) -> None:
    target = tmp_path / "report.docx"
    dead_pid = 2**22 + 12345  # above the usual pid_max: no such process
    stale = tmp_path / f".report.docx.{dead_pid}-abcd1234.tmp"
    live = tmp_path / f".report.docx.{os.getpid()}-efgh5678.tmp"
    old = tmp_path / ".report.docx.ijkl9012.tmp"
    other = tmp_path / ".other.docx.99999-abcd1234.tmp"
    mine = tmp_path / ".report.docx.notes"
    for p in (stale, live, old, other, mine):
        p.write_bytes(b"x")
    os.utime(old, (1, 1))
    with atomic_write(target) as fh:
        fh.write(b"done")
    assert target.read_bytes() == b"done"
    assert not stale.exists() and not old.exists()
    assert live.exists() and other.exists() and mine.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".report.docx.")) == sorted(
        [live.name, mine.name]
    )


def test_roots_from_the_config_file_are_relative_to_it(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    cfg = tmp_path / "dualtrack.toml"
    cfg.write_text('roots = ["docs"]\nledger = "memory"\nplugins = []\n', encoding="utf-8")
    orc = Orchestrator.from_config(cfg)
    assert orc.files.roots == ((tmp_path / "docs").resolve(),)


@plugin("maker", description="Write a brand-new file.")
class Maker:
    @skill(effects="write")
    def create(self, ctx: SkillContext, output: OutputPath | None = None) -> str:
        """Write a new text file.

        Args:
            output: Where to write it.
        """
        target = ctx.output_path(None, "", output=output)
        with atomic_write(target, "w") as fh:
            fh.write("new")
        return str(target)


async def test_a_new_file_follows_the_output_rule_too(work: Path) -> None:
    orc = Orchestrator(models=[], plugins=[Maker], roots=[work])
    assert Path((await orc.invoke("maker.create", output=str(work / "new.txt"))).value).read_text() == "new"
    with pytest.raises(OutputPathError, match="needs an output path"):
        await orc.invoke("maker.create")
    (work / "link.txt").symlink_to(work.parent / "outside" / "secret.txt")
    with pytest.raises(OutputPathError, match="symbolic link"):
        await orc.invoke("maker.create", output=str(work / "link.txt"))
    assert (work.parent / "outside" / "secret.txt").read_text() == "outside text"
