"""File references in path arguments: fetched through a source, run on a local copy, written back."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from dualtrack import (
    FetchedFile,
    FileChangedError,
    FileReferenceError,
    FileSource,
    FileSourceError,
    InputFileError,
    NotConfirmedError,
    Orchestrator,
    OutputPathError,
    Policy,
    Sensitivity,
    SkillContext,
    UserError,
    atomic_write,
    load_config,
    plugin,
    skill,
)
from dualtrack.testing import FunctionConnector, model_card


class MemorySource:
    """A store of named files held in memory; versions are content hashes."""

    name = "memory"
    schemes = ("mem",)

    def __init__(self, files: dict[str, bytes], label: str | None = None) -> None:
        self.files = files
        self.label = label
        self.label_error: str | None = None
        self.fetched: list[Path] = []

    async def fetch(self, ref: str, dest_dir: Path) -> FetchedFile:
        key = ref.removeprefix("mem:")
        if key not in self.files:
            raise FileSourceError(ref, "no such file", source=self.name, reason="not-found")
        local = dest_dir / key.rsplit("/", 1)[-1]
        local.write_bytes(self.files[key])
        self.fetched.append(local)
        return FetchedFile(
            ref=ref,
            path=local,
            name=local.name,
            source=self.name,
            etag=hashlib.sha256(self.files[key]).hexdigest(),
            label_name=self.label,
            label_error=self.label_error,
            locator={"key": key},
        )

    async def store(self, fetched: FetchedFile, local_output: Path, *, replace: bool) -> str:
        key = fetched.locator["key"]
        if replace:
            if hashlib.sha256(self.files[key]).hexdigest() != fetched.etag:
                raise FileChangedError(fetched.ref, "changed meanwhile", source=self.name)
            self.files[key] = local_output.read_bytes()
            return fetched.ref
        folder = key.rpartition("/")[0]
        target = f"{folder}/{local_output.name}" if folder else local_output.name
        while target in self.files:  # never overwrite: pick a free name
            target = target.replace(".", " 1.", 1)
        self.files[target] = local_output.read_bytes()
        return f"mem:{target}"


@plugin("notes")
class Notes:
    """Plain text files."""

    @skill(requires=["summarize"])
    async def count(self, ctx: SkillContext, path: str) -> dict[str, object]:
        """Count the words of a text file.

        Args:
            ctx: The call's context.
            path: The file.
        """
        p = ctx.input_file(path)
        done = await ctx.generate("say ok")
        return {"words": len(p.read_text().split()), "path": str(p), "reply": done.text}

    @skill(requires=["rewrite"], effects="write")
    async def shout(
        self, ctx: SkillContext, path: str, output: str | None = None, in_place: bool = False
    ) -> dict[str, str]:
        """Write an upper-case copy next to the file.

        Args:
            ctx: The call's context.
            path: The file.
            output: Where to write it.
            in_place: Replace the file itself.
        """
        p = ctx.input_file(path)
        target = ctx.output_path(p, "loud", output, in_place)
        with atomic_write(target, "w") as fh:
            fh.write(p.read_text().upper())
        return {"output": str(target)}

    @skill(requires=["rewrite"], effects="write")
    async def fail_after_writing(self, ctx: SkillContext, path: str) -> str:
        """Write a copy, then fail.

        Args:
            ctx: The call's context.
            path: The file.
        """
        p = ctx.input_file(path)
        ctx.output_path(p, "partial").write_text("half")
        raise InputFileError(str(p), "broken on purpose")


def make(source: MemorySource | None = None, **kw: object) -> tuple[Orchestrator, FunctionConnector]:
    conn = FunctionConnector(lambda req: f"ok from {req.sensitivity}")
    cards = [
        model_card(conn, name="partner", track="partner", clearance=Sensitivity.GENERAL),
        model_card(conn, name="inhouse"),
    ]
    policy = Policy(pin={"notes": ["partner", "inhouse"]})  # the partner first, where clearance allows
    sources = [source] if source else []
    orc = Orchestrator(cards, policy, plugins=[Notes], file_sources=sources, **kw)  # type: ignore[arg-type]
    return orc, conn


async def test_reference_is_fetched_to_a_private_copy_and_removed_after(tmp_path: Path) -> None:
    src = MemorySource({"Reports/q3.txt": b"one two three"})
    orc, _ = make(src, roots=[tmp_path])
    result = await orc.invoke("notes.count", path="mem:Reports/q3.txt")
    assert result.value["words"] == 3
    assert result.value["path"] == "mem:Reports/q3.txt"  # the local copy's path swapped for the reference
    assert not src.fetched[0].exists() and not src.fetched[0].parent.parent.exists()
    assert result.outputs == {}
    assert isinstance(src, FileSource)


async def test_outputs_go_back_next_to_the_input_without_overwriting(tmp_path: Path) -> None:
    src = MemorySource({"Reports/q3.txt": b"quiet words", "Reports/q3.loud.txt": b"older"})
    orc, _ = make(src, roots=[tmp_path])
    result = await orc.invoke("notes.shout", path="mem:Reports/q3.txt")
    assert result.value == {"output": "mem:Reports/q3 1.loud.txt"}
    assert result.outputs == {"mem:Reports/q3 1.loud.txt": "mem:Reports/q3.txt"}
    assert src.files["Reports/q3.loud.txt"] == b"older"
    assert src.files["Reports/q3 1.loud.txt"] == b"QUIET WORDS"
    assert src.files["Reports/q3.txt"] == b"quiet words"


async def test_in_place_replaces_only_the_version_that_was_read(tmp_path: Path) -> None:
    src = MemorySource({"a.txt": b"hello"})
    orc, _ = make(src, roots=[tmp_path])
    result = await orc.invoke("notes.shout", path="mem:a.txt", in_place=True)
    assert src.files["a.txt"] == b"HELLO" and result.outputs == {"mem:a.txt": "mem:a.txt"}

    class Meddler(MemorySource):
        async def store(self, fetched: FetchedFile, local_output: Path, *, replace: bool) -> str:
            self.files["a.txt"] = b"someone else's edit"
            return await super().store(fetched, local_output, replace=replace)

    other = Meddler({"a.txt": b"mine"})
    orc2, _ = make(other, roots=[tmp_path])
    with pytest.raises(FileChangedError, match="changed meanwhile") as info:
        await orc2.invoke("notes.shout", path="mem:a.txt", in_place=True)
    assert other.files["a.txt"] == b"someone else's edit"
    assert info.value.reason == "changed"


async def test_nothing_is_written_back_when_the_skill_fails(tmp_path: Path) -> None:
    src = MemorySource({"a.txt": b"x"})
    orc, _ = make(src, roots=[tmp_path])
    with pytest.raises(InputFileError, match="broken on purpose"):
        await orc.invoke("notes.fail_after_writing", path="mem:a.txt")
    assert list(src.files) == ["a.txt"]
    assert not src.fetched[0].parent.exists()


@pytest.mark.parametrize(("label", "error", "expected"), [
    ("Confidential", None, "inhouse"),
    ("Public", None, "partner"),
    (None, "the label service failed", "inhouse"),  # unreadable: the [labels] default (confidential)
])  # fmt: skip
async def test_the_source_label_routes_the_call(
    tmp_path: Path, label: str | None, error: str | None, expected: str
) -> None:
    src = MemorySource({"a.txt": b"words"}, label=label)
    src.label_error = error
    orc, _ = make(src, roots=[tmp_path])
    result = await orc.invoke("notes.count", path="mem:a.txt")
    assert result.models == [expected]


async def test_unknown_and_misplaced_references_are_typed_errors(tmp_path: Path) -> None:
    src = MemorySource({"a.txt": b"x"})
    orc, _ = make(src, roots=[tmp_path])
    with pytest.raises(FileReferenceError, match=r"no file source handles 'gdrive' references.*mem") as info:
        await orc.invoke("notes.count", path="gdrive:/a.txt")
    assert isinstance(info.value, UserError) and isinstance(info.value, InputFileError)
    with pytest.raises(FileReferenceError, match="written back next to the input"):
        await orc.invoke("notes.shout", path="mem:a.txt", output="mem:b.txt")
    with pytest.raises(FileSourceError, match="no such file") as missing:
        await orc.invoke("notes.count", path="mem:gone.txt")
    assert missing.value.reason == "not-found"
    bare, _ = make(None, roots=[tmp_path])
    with pytest.raises(FileReferenceError, match=r"no file source is set up.*m365"):
        await bare.invoke("notes.count", path="onedrive:/Reports/q3.docx")
    odd = tmp_path / "notes:v2.txt"  # an odd local name is still a local path
    odd.write_text("a b")
    assert (await bare.invoke("notes.count", path=str(odd))).value["words"] == 2


async def test_local_paths_behave_as_before(tmp_path: Path) -> None:
    src = MemorySource({})
    orc, _ = make(src, roots=[tmp_path])
    f = tmp_path / "local.txt"
    f.write_text("a b c d")
    result = await orc.invoke("notes.shout", path=str(f))
    assert Path(result.value["output"]).read_text() == "A B C D" and result.outputs == {}
    with pytest.raises(OutputPathError):
        await orc.invoke("notes.shout", path=str(f), output=str(f))


def test_sources_are_checked_when_registered() -> None:
    class NoFetch:
        name = "x"
        schemes = ("x",)

    with pytest.raises(UserError, match="not a file source"):
        Orchestrator(plugins=[], file_sources=[NoFetch()])  # type: ignore[list-item]
    src = MemorySource({})
    with pytest.raises(UserError, match="already registered"):
        Orchestrator(plugins=[], file_sources=[src, MemorySource({})])


def test_configured_source_with_a_missing_variable_is_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("M365_CLIENT_ID_FOR_TEST", raising=False)
    cfg = tmp_path / "dualtrack.toml"
    cfg.write_text('[[file_sources]]\nsource = "m365"\nclient_id = "${M365_CLIENT_ID_FOR_TEST}"\n')
    assert load_config(cfg).file_sources == [{"source": "m365", "client_id": "${M365_CLIENT_ID_FOR_TEST}"}]
    orc = Orchestrator.from_config(cfg, models=[], plugins=[Notes])
    assert orc.file_sources.errors == {"m365": "M365_CLIENT_ID_FOR_TEST not set"}
    with pytest.raises(FileReferenceError, match="'m365' is unavailable: M365_CLIENT_ID_FOR_TEST not set"):
        orc.invoke_sync("notes.count", path="onedrive:/x.docx")
    cfg.write_text('[[file_sources]]\nsource = "dropbox"\n')
    with pytest.raises(UserError, match="no file source named 'dropbox'"):
        Orchestrator.from_config(cfg, models=[], plugins=[Notes])


async def test_a_model_chosen_write_is_confirmed_with_the_reference_before_any_download(
    tmp_path: Path,
) -> None:
    src = MemorySource({"a.txt": b"x"})
    seen: list[dict[str, object]] = []
    orc, _ = make(src, roots=[tmp_path], confirm=lambda s, values: bool(seen.append(values)))
    with pytest.raises(NotConfirmedError):
        await orc.invoke("notes.shout", path="mem:a.txt", chosen_by="model")
    assert seen[0]["path"] == "mem:a.txt" and src.fetched == []
    orc2, _ = make(src, roots=[tmp_path], confirm=lambda s, values: True)
    result = await orc2.invoke("notes.shout", path="mem:a.txt", chosen_by="model")
    assert result.outputs == {"mem:a.loud.txt": "mem:a.txt"}
