"""A 300-page document summarized map-reduce inside a small model's window."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from dualtrack import CompletionRequest, Orchestrator, estimate_tokens
from dualtrack.plugins.document import DocumentPlugin
from dualtrack.testing import FunctionConnector, model_card

from ._fake import smart_reply
from ._samples import build_long, digest


@pytest.fixture(scope="module")
def long_docx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # 150 sections x 20 paragraphs of ~270 characters: about 3,000 paragraphs, 300 pages
    return build_long(tmp_path_factory.mktemp("long") / "compendium.docx")


async def test_300_pages_fit_a_2k_window_with_progress(long_docx: Path) -> None:
    window = 2048
    in_flight = peak = 0

    async def model(request: CompletionRequest) -> str:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0)
        in_flight -= 1
        return smart_reply(request)

    conn = FunctionConnector(model)
    progress: list[tuple[int, int, str]] = []
    orc = Orchestrator(
        models=[model_card(conn, name="small", context_window=window)],
        plugins=[DocumentPlugin],
        on_progress=lambda skill, done, total, msg: progress.append((done, total, msg)),
    )
    before = digest(long_docx)
    result = await orc.invoke("document.summarize", path=str(long_docx))
    assert digest(long_docx) == before
    value = result.value
    assert value.chunks > 100 and value.summary.startswith("- Combined summary")
    assert len(conn.calls) == len(result.calls) > value.chunks  # every part, then the reduce rounds
    for request in conn.calls:
        assert estimate_tokens(request.messages) + request.max_tokens <= window
    assert peak <= 4  # the plugin's default concurrency bound
    dones = [d for d, _, _ in progress]
    assert dones == sorted(dones) and progress[-1][0] == progress[-1][1] == len(conn.calls)
    assert progress[-1][2] == "summary ready"
    sections = [c.messages[-1].content for c in conn.calls[:3]]
    assert all("This is part" in s for s in sections)


async def test_larger_budget_means_fewer_calls(long_docx: Path) -> None:
    conn = FunctionConnector(smart_reply)
    orc = Orchestrator(models=[model_card(conn, context_window=32_000)], plugins=[DocumentPlugin])
    result = await orc.invoke("document.summarize", path=str(long_docx), chunk_tokens=24_000)
    assert 5 <= result.value.chunks <= 12
    for request in conn.calls:
        assert estimate_tokens(request.messages) + request.max_tokens <= 32_000


async def test_sections_stay_whole_when_they_fit(tmp_path: Path) -> None:
    path = build_long(tmp_path / "short.docx", sections=4, paragraphs=3)
    conn = FunctionConnector(smart_reply)
    orc = Orchestrator(models=[model_card(conn)], plugins=[DocumentPlugin])
    await orc.invoke("document.summarize", path=str(path), chunk_tokens=700)
    firsts = [c.messages[-1].content.split("<document>\n", 1)[1].splitlines()[0] for c in conn.calls[:-1]]
    assert all("# Section" in line or "(title)" in line for line in firsts)  # every chunk starts at a heading
