"""Document skills on drive items: downloaded, routed by label, output uploaded next to the input.

The real document plugin and python-docx, a fake Graph on loopback, msal against a
fake authority, and two stand-in models: a partner cleared for ``general`` data
(pinned first) and an in-house one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import docx
import pytest

from dualtrack import (
    FileChangedError,
    InputFileError,
    LabelPolicy,
    Orchestrator,
    Policy,
    Sensitivity,
)
from dualtrack.connectors.graph import GraphFileSource
from dualtrack.plugins.document import DocumentPlugin
from dualtrack.testing import FunctionConnector, model_card
from tests.connectors.graph.fake_graph import FakeGraph, Item
from tests.plugins.document._fake import smart_reply
from tests.plugins.document._hostile import not_a_zip, zip_bomb
from tests.plugins.document._samples import add_label, build_rich

LABELS = LabelPolicy(ids={"lbl-conf": "confidential", "lbl-pub": "public"})


def orchestrator(source: GraphFileSource, on_call: Callable[[], None] | None = None) -> Orchestrator:
    def reply(request: Any) -> Any:
        if on_call is not None:
            on_call()
        return smart_reply(request)

    cards = [
        model_card(FunctionConnector(reply), name="partner", track="partner", clearance=Sensitivity.GENERAL),
        model_card(FunctionConnector(reply), name="inhouse"),
    ]
    policy = Policy(pin={"document": ["partner", "inhouse"]})
    return Orchestrator(cards, policy, plugins=[DocumentPlugin], labels=LABELS, file_sources=[source])


def upload_docx(
    graph: FakeGraph, tmp_path: Path, path: str, *, label_id: str | None, own_label: str | None = None
) -> Item:
    local = build_rich(tmp_path / "src.docx")
    if own_label:
        local = add_label(local, tmp_path / "labelled.docx", name=own_label)
    return graph.add(path, local.read_bytes(), label_id=label_id)


@pytest.mark.parametrize(("label_id", "own", "model"), [
    ("lbl-conf", None, "inhouse"),  # Graph's label
    ("lbl-pub", None, "partner"),
    ("lbl-pub", "Confidential", "inhouse"),  # the label inside the file wins when higher
    ("lbl-unmapped", None, "inhouse"),  # a label nobody mapped: the [labels] default
])  # fmt: skip
async def test_summarize_a_drive_item_routed_by_its_label_and_saved_next_to_it(
    graph: FakeGraph, make_source: Callable[..., GraphFileSource], tmp_path: Path,
    label_id: str, own: str | None, model: str,
) -> None:  # fmt: skip
    item = upload_docx(graph, tmp_path, "Reports/q3.docx", label_id=label_id, own_label=own)
    before = item.content
    result = await orchestrator(make_source()).invoke(
        "document.summarize", path="onedrive:/Reports/q3.docx", save=True
    )
    assert set(result.models) == {model}
    assert result.value.output == "onedrive:/Reports/q3.summary.docx"
    assert result.outputs == {"onedrive:/Reports/q3.summary.docx": "onedrive:/Reports/q3.docx"}
    assert item.content == before
    saved = graph.file("Reports/q3.summary.docx")
    assert saved is not None and saved.content
    (tmp_path / "back.docx").write_bytes(saved.content)
    assert docx.Document(str(tmp_path / "back.docx")).paragraphs


async def test_an_unreadable_label_fails_closed(
    graph: FakeGraph, make_source: Callable[..., GraphFileSource], tmp_path: Path
) -> None:
    upload_docx(graph, tmp_path, "q3.docx", label_id=None).label_status = 503
    result = await orchestrator(make_source()).invoke("document.summarize", path="onedrive:/q3.docx")
    assert set(result.models) == {"inhouse"} and result.sensitivity == Sensitivity.CONFIDENTIAL


async def test_suggest_edits_writes_a_new_file_next_to_the_input(
    graph: FakeGraph, make_source: Callable[..., GraphFileSource], tmp_path: Path
) -> None:
    item = upload_docx(graph, tmp_path, "Reports/q3.docx", label_id="lbl-pub")
    graph.add("Reports/q3.suggested.docx", b"someone's earlier file")
    result = await orchestrator(make_source()).invoke(
        "document.suggest_edits",
        path="onedrive:/Reports/q3.docx",
        instruction="more formal",
        match="costs fell",
    )
    assert result.value.output == "onedrive:/Reports/q3.suggested 1.docx"
    assert graph.file("Reports/q3.suggested.docx").content == b"someone's earlier file"  # type: ignore[union-attr]
    new = graph.file("Reports/q3.suggested 1.docx")
    assert new is not None and new.content != item.content
    (tmp_path / "s.docx").write_bytes(new.content or b"")
    assert "w:ins" in docx.Document(str(tmp_path / "s.docx")).element.xml  # tracked changes


async def test_a_file_changed_behind_its_back_is_never_overwritten(
    graph: FakeGraph, make_source: Callable[..., GraphFileSource], tmp_path: Path
) -> None:
    item = upload_docx(graph, tmp_path, "Reports/q3.docx", label_id="lbl-pub")

    def someone_edits() -> None:
        if item.version == 1:
            graph.change(item, b"a colleague's edit, saved while the model was thinking")

    orc = orchestrator(make_source(), on_call=someone_edits)
    with pytest.raises(FileChangedError, match="changed in OneDrive/SharePoint since it was read") as info:
        await orc.invoke(
            "document.suggest_edits", path="onedrive:/Reports/q3.docx", instruction="more formal",
            match="costs fell", in_place=True,
        )  # fmt: skip
    assert item.content == b"a colleague's edit, saved while the model was thinking"
    assert graph.names() == ["Reports/q3.docx"] and graph.sessions == {}
    assert info.value.calls  # the model calls made before the refusal are kept


@pytest.mark.parametrize("make_hostile", [not_a_zip, zip_bomb])
async def test_hostile_office_files_from_a_drive(
    graph: FakeGraph,
    make_source: Callable[..., GraphFileSource],
    tmp_path: Path,
    make_hostile: Callable[[Path], Path],
) -> None:
    bad = make_hostile(tmp_path / "bad.docx")
    graph.add("Inbox/bad.docx", bad.read_bytes())
    with pytest.raises(InputFileError):
        await orchestrator(make_source()).invoke(
            "document.summarize", path="onedrive:/Inbox/bad.docx", save=True
        )
    assert graph.names() == ["Inbox/bad.docx"]
    assert not [r for r in graph.requests if r.method in ("PUT", "DELETE") or "createUploadSession" in r.path]
