"""The m365 file source against a fake Graph and a fake Entra authority (msal runs for real)."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dualtrack import FetchedFile, FileChangedError, FileLockedError, FileReferenceError, FileSourceError
from dualtrack.connectors.graph import CHUNK_UNIT, GraphFileSource, RefKind, StaticToken, parse_ref
from dualtrack.connectors.graph import _client as client_module
from tests.connectors.graph.conftest import SECRET, entra
from tests.connectors.graph.fake_graph import ME_DRIVE, SITE_DRIVE, SITE_HOST, FakeGraph
from tests.connectors.servers.authority import DEVICE_GRANT, FakeAuthority

Make = Callable[..., GraphFileSource]
DOCX = b"PK\x03\x04 pretend office bytes"


async def test_download_follows_the_302_without_the_token(
    graph: FakeGraph, make_source: Make, dest: Path
) -> None:
    item = graph.add("Reports/q3.docx", DOCX, label_id="lbl-confidential")
    got = await make_source().fetch("onedrive:/Reports/q3.docx", dest)
    assert got.path == dest / "q3.docx" and got.path.read_bytes() == DOCX
    assert (got.etag, got.size, got.label_id, got.label_error) == (
        item.etag,
        len(DOCX),
        "lbl-confidential",
        None,
    )
    content = [r for r in graph.requests if r.path.endswith("/content")]
    download = [r for r in graph.requests if r.path.startswith("/download/")]
    assert content and content[0].headers["authorization"].startswith("Bearer ")
    assert download and "authorization" not in download[0].headers  # the fake answers 401 if it were sent


async def test_every_reference_form(graph: FakeGraph, make_source: Make, dest: Path) -> None:
    mine = graph.add("a b/Notes #1.txt", b"mine")
    fin = graph.add("Q3/plan.txt", b"finance", drive=SITE_DRIVE)
    link = "https://contoso.sharepoint.com/:t:/s/Finance/EaBcDeF?e=xyz"
    graph.shares[link] = fin.id
    src = make_source()
    for i, (ref, want) in enumerate([
        ("onedrive:/a b/Notes %231.txt", b"mine"),
        (f"sharepoint://{SITE_HOST}/sites/Finance/Documents/Q3/plan.txt", b"finance"),
        (f"sharepoint://{SITE_HOST.split('.')[0]}.sharepoint.com/sites/Finance/documents/Q3/plan.txt", b"finance"),
        (link, b"finance"),
        (f"{graph.graph_url}/drives/{ME_DRIVE}/items/{mine.id}", b"mine"),
    ]):  # fmt: skip
        d = dest / str(i)
        d.mkdir()
        assert src.accepts(ref)
        assert (await src.fetch(ref, d)).path.read_bytes() == want
    assert not src.accepts("https://example.com/q3.docx")


@pytest.mark.parametrize(
    "ref",
    [
        "onedrive:",
        "onedrive:/Reports/",
        "onedrive://Reports/q3.docx",
        "onedrive:/Reports/../secret.docx",
        "onedrive:/Re<ports/q3.docx",
        "sharepoint:/contoso/x.docx",
        "sharepoint://contoso.sharepoint.com/sites/Finance",
        "https://example.com/q3.docx",
        "https://graph.microsoft.com/v1.0/me/drive/root",
    ],
)
def test_malformed_references(ref: str) -> None:
    with pytest.raises(FileReferenceError) as info:
        parse_ref(ref, graph_url="https://graph.microsoft.com/v1.0")
    assert info.value.reason == "reference"


def test_reference_kinds() -> None:
    url = "https://graph.microsoft.com/v1.0"
    assert parse_ref("onedrive:/R/q3.docx", graph_url=url).path == "R/q3.docx"
    sp = parse_ref("sharepoint://c.sharepoint.com/teams/Ops/Shared%20Documents/x.xlsx", graph_url=url)
    assert (sp.kind, sp.site, sp.drive, sp.path) == (
        RefKind.SHAREPOINT,
        "c.sharepoint.com:/teams/Ops",
        "Shared Documents",
        "x.xlsx",
    )
    by_id = parse_ref("sharepoint://c.sharepoint.com,1,2/drive-id/x.xlsx", graph_url=url)
    assert (by_id.site, by_id.drive) == ("c.sharepoint.com,1,2", "drive-id")
    assert parse_ref("https://1drv.ms/w/s!Abc", graph_url=url).kind is RefKind.SHARE


async def test_missing_folder_locked_and_huge_files(graph: FakeGraph, make_source: Make, dest: Path) -> None:
    src = make_source(max_download_mb=1)
    with pytest.raises(FileSourceError, match="no such file") as gone:
        await src.fetch("onedrive:/nope.docx", dest)
    assert (gone.value.reason, gone.value.status_code) == ("not-found", 404)
    graph.add("Folder/inner.txt", b"x")
    with pytest.raises(FileSourceError, match="is a folder"):
        await src.fetch("onedrive:/Folder", dest)
    graph.add("locked.docx", DOCX).locked = True
    with pytest.raises(FileLockedError, match="locked"):
        await src.fetch("onedrive:/locked.docx", dest)
    graph.add("big.bin", b"x" * (2 << 20))
    with pytest.raises(FileSourceError, match="over the download limit") as big:
        await src.fetch("onedrive:/big.bin", dest)
    assert big.value.reason == "too-large"
    liar = graph.add("liar.bin", b"y" * (2 << 20))
    liar.reported_size = 10  # the metadata understates it: the stream is cut at the limit
    with pytest.raises(FileSourceError, match="larger than the limit"):
        await src.fetch("onedrive:/liar.bin", dest)
    assert list(dest.iterdir()) == []  # no partial file left


async def test_label_that_cannot_be_read_is_reported(graph: FakeGraph, make_source: Make, dest: Path) -> None:
    graph.add("q.docx", DOCX).label_status = 500
    got = await make_source().fetch("onedrive:/q.docx", dest)
    assert got.label_id is None and got.label_error and "could not read the label" in got.label_error
    graph.add("notes.txt", b"plain")
    plain = await make_source().fetch("onedrive:/notes.txt", dest / "..")
    assert (plain.label_id, plain.label_error) == (None, None)
    assert not any(r.path.endswith("extractSensitivityLabels") and "notes" in r.path for r in graph.requests)


def fetched(src: GraphFileSource, got: FetchedFile) -> FetchedFile:
    return got


async def test_new_outputs_never_overwrite(
    graph: FakeGraph, make_source: Make, dest: Path, tmp_path: Path
) -> None:
    graph.add("Reports/q3.docx", DOCX)
    old = graph.add("Reports/q3.summary.docx", b"older summary")
    src = make_source()
    got = await src.fetch("onedrive:/Reports/q3.docx", dest)
    out = dest / "q3.summary.docx"
    out.write_bytes(b"new summary")
    ref = await src.store(got, out, replace=False)
    assert ref == "onedrive:/Reports/q3.summary 1.docx"
    assert old.content == b"older summary"
    assert graph.file("Reports/q3.summary 1.docx").content == b"new summary"  # type: ignore[union-attr]


async def test_in_place_upload_is_refused_when_the_file_changed(
    graph: FakeGraph, make_source: Make, dest: Path
) -> None:
    item = graph.add("q3.docx", DOCX)
    src = make_source()
    got = await src.fetch("onedrive:/q3.docx", dest)
    got.path.write_bytes(b"my edit")
    graph.change(item, b"someone else's edit")
    with pytest.raises(FileChangedError, match="changed in OneDrive/SharePoint since it was read") as info:
        await src.store(got, got.path, replace=True)
    assert info.value.status_code == 412 and item.content == b"someone else's edit"
    again = await src.fetch("onedrive:/q3.docx", dest / "..")
    again.path.write_bytes(b"my edit")
    assert await src.store(again, again.path, replace=True) == "onedrive:/q3.docx"
    assert item.content == b"my edit"


async def test_large_upload_in_chunks_resumes_after_a_failed_chunk(
    graph: FakeGraph, make_source: Make, dest: Path
) -> None:
    graph.add("Reports/q3.docx", DOCX)
    src = make_source(simple_upload_max=100_000, chunk_size=CHUNK_UNIT)
    got = await src.fetch("onedrive:/Reports/q3.docx", dest)
    data = os.urandom(3 * CHUNK_UNIT + 1234)
    out = dest / "q3.big.docx"
    out.write_bytes(data)
    graph.fail_chunks = {1}
    ref = await src.store(got, out, replace=False)
    assert ref == "onedrive:/Reports/q3.big.docx"
    assert graph.file("Reports/q3.big.docx").content == data  # type: ignore[union-attr]
    (session,) = graph.sessions.values()
    assert session.conflict == "rename" and not session.deleted
    assert [e - s + 1 for s, e in session.chunks] == [CHUNK_UNIT, CHUNK_UNIT, CHUNK_UNIT, 1234]
    chunk_puts = [r for r in graph.requests if r.path.startswith("/upload/") and r.method == "PUT"]
    assert len(chunk_puts) == 5 and all("authorization" not in r.headers for r in chunk_puts)
    assert any(
        r.method == "GET" and r.path.startswith("/upload/") for r in graph.requests
    )  # asked where to resume


async def test_failed_upload_session_is_deleted_and_leaves_nothing(
    graph: FakeGraph, make_source: Make, dest: Path
) -> None:
    graph.add("q3.docx", DOCX)
    src = make_source(simple_upload_max=1000, chunk_size=CHUNK_UNIT)
    got = await src.fetch("onedrive:/q3.docx", dest)
    out = dest / "q3.big.docx"
    out.write_bytes(os.urandom(2 * CHUNK_UNIT))
    graph.fail_chunks = set(range(1, 50))
    with pytest.raises(FileSourceError, match="nothing was left behind") as info:
        await src.store(got, out, replace=False)
    assert info.value.reason == "unavailable"
    (session,) = graph.sessions.values()
    assert session.deleted and graph.names() == ["q3.docx"]


async def test_in_place_session_checks_the_etag_first(
    graph: FakeGraph, make_source: Make, dest: Path
) -> None:
    item = graph.add("q3.docx", DOCX)
    src = make_source(simple_upload_max=1000, chunk_size=CHUNK_UNIT)
    got = await src.fetch("onedrive:/q3.docx", dest)
    got.path.write_bytes(os.urandom(CHUNK_UNIT + 5))
    graph.change(item, b"theirs")
    with pytest.raises(FileChangedError):
        await src.store(got, got.path, replace=True)
    assert item.content == b"theirs" and graph.sessions == {}


async def test_throttling_honours_retry_after(
    graph: FakeGraph, make_source: Make, dest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []

    async def sleep(s: float) -> None:
        waits.append(s)

    monkeypatch.setattr(client_module.asyncio, "sleep", sleep)
    graph.add("q3.docx", DOCX)
    graph.throttle = [(429, "2"), (503, "1")]
    got = await make_source().fetch("onedrive:/q3.docx", dest)
    assert got.path.read_bytes() == DOCX and waits == [2.0, 1.0]
    graph.throttle = [(429, "600")]
    with pytest.raises(FileSourceError, match="asked to wait 600 s") as info:
        await make_source().fetch("onedrive:/q3.docx", dest / "..")
    assert info.value.reason == "throttled"
    graph.throttle = [(503, None)] * 10
    with pytest.raises(FileSourceError, match="HTTP 503") as down:
        await make_source().fetch("onedrive:/q3.docx", dest / "..")
    assert down.value.status_code == 503 and len(graph.throttle) == 6  # 1 try + 3 retries


async def test_timeouts_are_typed(graph: FakeGraph, make_source: Make, dest: Path) -> None:
    graph.add("slow.docx", DOCX)
    graph.delay_s["/root:/slow.docx"] = 1.0
    with pytest.raises(FileSourceError, match="timed out") as info:
        await make_source(timeout_s=0.2).fetch("onedrive:/slow.docx", dest)
    assert info.value.reason == "unavailable"


async def test_revoked_token_is_refreshed_once(
    graph: FakeGraph,
    authority: FakeAuthority,
    make_source: Make,
    dest: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    graph.add("q3.docx", DOCX)
    src = make_source()
    await src.fetch("onedrive:/q3.docx", dest)
    graph.valid_tokens.clear()  # revoked server-side
    got = await src.fetch("onedrive:/q3.docx", dest / "..")
    assert got.size == len(DOCX) and len(authority.issued) == 2
    graph.valid_tokens.clear()
    authority.client_secret = "rotated-elsewhere"  # the refresh is refused too
    with pytest.raises(FileSourceError, match="invalid_client") as info:
        await src.fetch("onedrive:/q3.docx", dest / ".." / "..")
    assert info.value.reason == "auth"
    text = caplog.text + str(info.value)
    for secret in [*authority.issued, SECRET]:
        assert secret not in text


async def test_a_static_token_is_not_refreshed(graph: FakeGraph, make_source: Make, dest: Path) -> None:
    graph.add("q3.docx", DOCX)
    with pytest.raises(FileSourceError, match="rejected the credentials") as info:
        await make_source(StaticToken("expired-token-value-123")).fetch("onedrive:/q3.docx", dest)
    assert info.value.reason == "auth" and "expired-token-value-123" not in str(info.value)


async def test_device_code_asks_for_delegated_files_scope(
    graph: FakeGraph, authority: FakeAuthority, make_source: Make, dest: Path, tmp_path: Path
) -> None:
    graph.add("q3.docx", DOCX)
    cache = tmp_path / "tokens.json"
    prompts: list[str] = []
    forms: list[dict[str, Any]] = []
    post = authority.post

    def recording_post(url: str, params: Any = None, data: Any = None, **kw: Any) -> Any:
        forms.append(dict(data or {}))
        return post(url, params, data, **kw)

    authority.post = recording_post  # type: ignore[method-assign]
    cred = entra(
        authority, device_code=True, scope="https://graph.microsoft.com/Files.ReadWrite",
        on_device_code=prompts.append, cache_path=cache,
    )  # fmt: skip
    await make_source(cred).fetch("onedrive:/q3.docx", dest)
    assert DEVICE_GRANT in authority.grants and "enter the code" in prompts[0]
    assert "https://graph.microsoft.com/Files.ReadWrite" in forms[0]["scope"]  # the device-code request
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600


def test_settings(tmp_path: Path) -> None:
    src = GraphFileSource.from_settings(
        {
            "tenant_id": "t",
            "client_id": "c",
            "client_secret": "s3cret-value",
            "onedrive_user": "ada@contoso.test",
        }
    )
    cred: Any = src.graph.credential
    assert (cred.mode, cred.scope) == ("client-secret", "https://graph.microsoft.com/.default")
    people: Any = GraphFileSource.from_settings({"tenant_id": "t", "client_id": "c", "auth": "device-code"})
    assert people.graph.credential.scope == "https://graph.microsoft.com/Files.ReadWrite"
    with pytest.raises(ValueError, match="unknown setting"):
        GraphFileSource.from_settings({"access_token": "abc-token", "tennant": "x"})
    with pytest.raises(ValueError, match="multiple of 320 KiB"):
        GraphFileSource.from_settings({"access_token": "abc-token", "chunk_size": 1000})
