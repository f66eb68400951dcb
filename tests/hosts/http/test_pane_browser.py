"""The task pane in a real headless Chromium against a running server with scripted models.

A .docx made with python-docx is uploaded, summarized by the in-house model (progress seen as it
happens), then edited with tracked changes by the partner model after the write is confirmed; the
output is downloaded by the browser and opened with python-docx. Also: a run done with the keyboard
alone, the chat's confirm prompt, and no horizontal scroll at task-pane width. Screenshots are saved
to ``$DUALTRACK_ARTIFACTS`` (or ``test-artifacts/`` under the test's temporary folder).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dualtrack import Completion, CompletionRequest, Orchestrator, ToolCall, Track
from dualtrack.hosts.http import HttpSettings, create_app
from dualtrack.plugins.code import CodePlugin
from dualtrack.plugins.document import DocumentPlugin
from dualtrack.plugins.spreadsheet import SpreadsheetPlugin
from dualtrack.testing import FunctionConnector, model_card
from tests.plugins.document._fake import smart_reply

from .browser import Browser, missing
from .conftest import ADMIN_KEY, key_settings
from .support import ServerThread

pytestmark = [pytest.mark.slow, pytest.mark.skipif(missing() is not None, reason=str(missing()))]

PANE_WIDTH = 350


def _reply(request: CompletionRequest) -> Any:
    """Document prompts get the plugin tests' deterministic replies; ask gets one tool call, then an answer."""
    if request.tools:
        if any(m.role == "tool" for m in request.messages):
            return "I proposed plain-language edits as tracked changes in report.suggested.docx."
        listing = "\n".join(m.content for m in request.messages)
        found = re.search(r"^- (\S+\.docx)$", listing, re.M)
        tool = next(t for t in request.tools if "suggest_edits" in json.dumps(t))
        name = tool["function"]["name"] if "function" in tool else tool["name"]
        args = {"path": found.group(1) if found else "report.docx", "instruction": "plain language"}
        return Completion(
            "", tool_calls=(ToolCall("t1", name, json.dumps(args)),), finish_reason="tool_calls"
        )
    return smart_reply(request)


async def _slow_reply(request: CompletionRequest) -> Any:
    await asyncio.sleep(0.15)  # slow enough for progress to be seen between model calls
    return _reply(request)


def _orchestrator() -> Orchestrator:
    conn = FunctionConnector(_slow_reply)
    local = model_card(
        conn,
        name="local-small",
        capabilities=frozenset({"chat", "json", "tools", "summarize", "extract", "long-context"}),
    )
    partner = model_card(conn, name="gpt-partner", track=Track.PARTNER, cost_input=1.0, cost_output=4.0)
    return Orchestrator(models=[local, partner], plugins=[DocumentPlugin, SpreadsheetPlugin, CodePlugin])


def _report(path: Path) -> Path:
    import docx

    doc = docx.Document()
    doc.add_heading("Quarterly report", 1)
    doc.add_paragraph("Sales fell 4% in May because the northern depot closed for repairs.")
    doc.add_paragraph("Maria Lopez will reopen the depot by 30 June after the roof is fixed.")
    doc.add_heading("Product", 1)
    doc.add_paragraph("The team delivered the new ordering app in April, two weeks early.")
    doc.add_paragraph("Customers placed 1,200 orders through the app in its first month.")
    doc.add_heading("Next steps", 1)
    doc.add_paragraph("The board will review the depot budget at the July meeting.")
    doc.save(path)
    return path


@pytest.fixture
def artifacts(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    base = Path(os.environ["DUALTRACK_ARTIFACTS"]) if os.environ.get("DUALTRACK_ARTIFACTS") else tmp_path
    folder = base / "test-artifacts" / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    app = create_app(_orchestrator(), HttpSettings(data_dir=str(tmp_path / "data")))
    srv = ServerThread(app).start()
    srv.app = app  # type: ignore[attr-defined]
    yield srv
    srv.stop()


@pytest.fixture
def browser(tmp_path: Path, artifacts: Path) -> Iterator[Any]:
    made: list[Browser] = []

    def open_(width: int = PANE_WIDTH, height: int = 900) -> Browser:
        b = Browser(tmp_path / f"profile{len(made)}", tmp_path / "downloads", artifacts, width, height)
        made.append(b)
        return b

    yield open_
    for b in made:
        b.quit()


def _open_pane(b: Browser, url: str) -> None:
    b.driver.get(url + "/")
    b.wait(lambda: "2 models" in b.css("#models-summary").text, "the model summary")


def _upload(b: Browser, path: Path) -> None:
    b.css("#file-input").send_keys(str(path))
    b.wait(lambda: f"Opened {path.name}" in b.css("#upload-status").text, "the upload")


def _record_progress(b: Browser) -> None:
    b.js(
        "window.__seen = [];"
        "const s = document.getElementById('run-status'), p = document.getElementById('run-progress');"
        "new MutationObserver(() => window.__seen.push({text: s.textContent,"
        " value: p.hasAttribute('value') ? p.value : null, max: p.max}))"
        ".observe(s, {childList: true, characterData: true, subtree: true});"
    )


def _workspace_files(url: str) -> set[str]:
    return {f["name"] for f in httpx.get(url + "/v1/files").json()}


def test_upload_summarize_then_confirm_a_tracked_edit_and_download_it(server, browser, tmp_path):
    from selenium.webdriver.support.ui import Select

    b = browser()
    _open_pane(b, server.url)
    assert b.js("return document.documentElement.clientWidth") == PANE_WIDTH
    b.shot("01-empty")
    _upload(b, _report(tmp_path / "report.docx"))

    names = [e.get_attribute("value") for e in b.all("#skill-list input[type=radio]")]
    assert "document.summarize" in names and "document.suggest_edits" in names
    assert not [n for n in names if not n.startswith("document.")]  # only skills for a .docx

    # summarize: bullets, small parts so that several progress events arrive
    b.css("label[for='skill-document-summarize']").click()
    b.visible("#skill-form")
    assert b.css("#f-document-summarize-path").get_attribute("value").endswith("/report.docx")
    Select(b.css("#f-document-summarize-style")).select_by_value("bullets")
    b.css("#skill-form details.more > summary").click()
    b.css("#f-document-summarize-chunk-tokens").send_keys("40")
    _record_progress(b)
    b.css("#run-button").click()
    b.visible("#write-confirm")  # summarize declares a write: asked first
    assert "report.docx is not changed" in b.css("#write-confirm").text
    b.shot("02-summarize-confirm")
    b.css("#write-approve").click()
    b.wait(lambda: b.css("#result-heading").text == "Summarize: result", "the summary")
    seen = b.js("return window.__seen")
    steps = [s for s in seen if re.search(r"\(\d+ of \d+\)", s["text"])]
    assert len({s["text"] for s in steps}) >= 2, seen  # progress arrived while the call ran
    assert any(s["value"] is not None and 0 < s["value"] <= s["max"] for s in steps), seen
    assert b.css("#run-progress").get_attribute("value") == "1"
    result = b.css("#result-body")
    assert "Summary" in result.text and len(b.all("#result-body .result ul li")) >= 1
    badge = b.css(".call[data-model='local-small'] .badge")
    assert badge.text == "In-house" and badge.get_attribute("data-track") == "in-house"
    assert "best score" in b.css(".call[data-model='local-small'] .why").text
    assert b.horizontal_overflow() == 0
    b.shot("03-summary-350px")

    # suggest edits: declining the confirmation writes nothing
    before = _workspace_files(server.url)
    b.css("label[for='skill-document-suggest-edits']").click()
    b.css("#run-button").click()  # the instruction is missing: said next to the field, nothing sent
    field = b.css("#f-document-suggest-edits-instruction")
    assert field.get_attribute("aria-invalid") == "true" and b.active()["id"] == field.get_attribute("id")
    assert b.css("#f-document-suggest-edits-instruction-err").text == "required"
    assert not b.css("#write-confirm").is_displayed()
    field.send_keys("plain language")
    b.css("#run-button").click()
    b.visible("#write-confirm")
    b.css("#write-cancel").click()
    assert "nothing was written" in b.css("#run-status").text
    assert _workspace_files(server.url) == before

    b.css("#run-button").click()
    b.visible("#write-approve").click()
    b.wait(lambda: "Tracked changes" in b.css("#result-body").text, "the tracked changes")
    changes = b.all("#result-body .change")
    assert len(changes) == 2
    assert [d.text for d in b.all("#result-body .change del")] == ["fell", "delivered"]
    assert [i.text for i in b.all("#result-body .change ins")] == ["dropped", "shipped"]
    partner = b.css(".call[data-model='gpt-partner'] .badge")
    assert partner.text == "Partner" and partner.get_attribute("data-track") == "partner"
    assert "not eligible: local-small" in b.css(".call[data-model='gpt-partner'] .why").text
    b.css("#result-body details.more:last-of-type > summary")  # the raw JSON is there
    assert b.horizontal_overflow() == 0
    b.shot("04-suggested-350px")

    link = b.css("#result-body a.download")
    assert link.text == "Download report.suggested.docx"
    link.click()
    out = b.downloaded("report.suggested.docx")
    import docx

    text = "\n".join(p.text for p in docx.Document(str(out)).paragraphs)
    assert "Quarterly report" in text
    with zipfile.ZipFile(out) as z:
        body = z.read("word/document.xml").decode()
    assert body.count("<w:ins ") >= 2 and body.count("<w:del ") >= 2 and "dropped" in body
    assert 'w:author="dualtrack"' in body
    assert b.errors() == []


def test_keyboard_alone_runs_a_skill_with_visible_focus(server, browser, tmp_path):
    from selenium.webdriver.common.keys import Keys

    b = browser(1280, 900)
    _open_pane(b, server.url)
    _upload(b, _report(tmp_path / "report.docx"))
    b.js("document.activeElement.blur(); window.scrollTo(0, 0)")

    b.tab_until(lambda a: a["type"] == "radio", "the skill list")
    assert a_focus_is_visible(b)
    for _ in range(20):
        if b.active()["value"] == "document.summarize":
            break
        b.keys(Keys.ARROW_DOWN)
    assert b.active() | {"checked": True} == b.active(), "arrow keys select the skill"
    b.wait(lambda: b.css("#form-heading").text == "Summarize", "the summarize form")
    b.tab_until(lambda a: a["id"] == "f-document-summarize-style", "the style field")
    b.keys(Keys.ARROW_DOWN)  # executive -> bullets
    assert b.active()["value"] == "bullets"
    b.tab_until(lambda a: a["id"] == "run-button", "the Run button")
    assert a_focus_is_visible(b)
    b.keys(Keys.ENTER)
    b.wait(lambda: b.active()["id"] == "write-confirm-heading", "focus on the write confirmation")
    b.tab_until(lambda a: a["id"] == "write-approve", "Write it")
    assert a_focus_is_visible(b)
    b.shot("05-keyboard-confirm")
    b.keys(Keys.ENTER)
    b.wait(lambda: b.active()["id"] == "result-heading", "focus on the result")
    assert b.css("#result-heading").text == "Summarize: result"
    assert len(b.all("#result-body .result ul li")) >= 1
    assert b.css("#run-status").get_attribute("aria-live") == "polite"
    b.shot("06-keyboard-result-full-window")

    # the tabs: arrow keys move between Skills and Chat
    b.js("document.getElementById('tab-skills').focus()")
    b.keys(Keys.ARROW_RIGHT)
    assert b.active()["id"] == "tab-chat" and b.css("#panel-chat").is_displayed()
    assert not b.css("#panel-skills").is_displayed()
    assert b.errors() == []


def a_focus_is_visible(b: Browser) -> bool:
    active = b.active()
    return active["outline"] not in ("none", "") and active["outlineWidth"] not in ("0px", "")


def test_chat_asks_before_a_write_and_runs_it_when_approved(server, browser, tmp_path):
    b = browser()
    _open_pane(b, server.url)
    _upload(b, _report(tmp_path / "report.docx"))
    b.css("#tab-chat").click()
    box = b.css("#chat-input")
    box.send_keys("Suggest plain-language edits to report.docx")
    from selenium.webdriver.common.keys import Keys

    box.send_keys(Keys.ENTER)
    card = b.visible("#chat-log .confirm")
    assert "Allow Suggest edits?" in card.text and "document.suggest_edits writes a file" in card.text
    terms = card.find_elements("css selector", "dt")
    shown = {dt.text: dd.text for dt, dd in zip(terms, card.find_elements("css selector", "dd"), strict=True)}
    assert shown == {
        "path": "report.docx",
        "instruction": "plain language",
        "author": "dualtrack",
        "in place": "false",
    }
    assert b.active()["tag"] == "h3"  # the question gets the focus
    b.shot("07-chat-confirm-350px")
    before = _workspace_files(server.url)
    card.find_element("xpath", ".//button[text()='Approve']").click()
    b.wait(lambda: "tracked changes in report.suggested.docx" in b.css("#chat-log").text, "the answer")
    b.wait(lambda: "Approved." in card.text, "the approval shown on the card")
    assert b.css("#chat-log .msg.assistant .badge").text in ("Partner", "In-house")
    new = _workspace_files(server.url) - before
    assert len(new) == 1 and next(iter(new)).endswith("/report.suggested.docx")
    assert b.horizontal_overflow() == 0
    b.shot("08-chat-answer-350px")
    assert b.errors() == []


def test_a_workbook_gets_its_skills_and_a_profile_renders_as_tables(server, browser, tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Sales"
    sheet.append(["Region", "Amount", "Due"])
    for row in [("North", 120, "2026-01-02"), ("South", 80, "2026-01-03"), ("North", 45, "2026-02-04")]:
        sheet.append(row)
    book.save(tmp_path / "sales.xlsx")
    (tmp_path / "tool.py").write_text("def add(a, b):\n    return a + b\n")

    b = browser()
    _open_pane(b, server.url)
    _upload(b, tmp_path / "tool.py")
    assert {e.get_attribute("value").split(".")[0] for e in b.all("#skill-list input[type=radio]")} == {
        "code"
    }
    _upload(b, tmp_path / "sales.xlsx")
    names = {e.get_attribute("value") for e in b.all("#skill-list input[type=radio]")}
    assert "spreadsheet.profile" in names and {n.split(".")[0] for n in names} == {"spreadsheet"}
    b.css("label[for='skill-spreadsheet-profile']").click()
    b.css("#run-button").click()  # a read skill runs without a confirmation step
    b.wait(lambda: b.css("#result-heading").text == "Profile: result", "the profile")
    assert b.css("#write-confirm").is_displayed() is False
    headers = [th.text for th in b.all("#result-body table th")]
    assert "name" in headers and "kind" in headers
    cells = [td.text for td in b.all("#result-body table td")]
    assert {"Region", "Amount", "Due"} <= set(cells) and "North 2, South 1" in cells
    assert "No model was called" in b.css("#result-body .routing").text
    assert b.horizontal_overflow() == 0  # wide tables scroll inside their own region
    b.shot("09-workbook-profile-350px")
    assert b.errors() == []


def test_a_service_with_keys_asks_for_one_and_then_works(tmp_path, browser):
    app = create_app(_orchestrator(), key_settings(tmp_path))
    srv = ServerThread(app).start()
    try:
        b = browser()
        b.driver.get(srv.url + "/")
        b.wait(lambda: b.css("#auth").is_displayed(), "the sign-in form")
        assert b.active()["id"] == "auth-key"
        b.css("#auth-key").send_keys(ADMIN_KEY + "\n")
        b.wait(lambda: "2 models" in b.css("#models-summary").text, "the models after signing in")
        assert not b.css("#auth").is_displayed()
        _upload(b, _report(tmp_path / "report.docx"))
        b.css("#file-current a.download").click()  # sends the key: a plain link could not
        assert b.downloaded("report.docx").read_bytes() == (tmp_path / "report.docx").read_bytes()
        assert ADMIN_KEY not in b.driver.page_source
    finally:
        srv.stop()
