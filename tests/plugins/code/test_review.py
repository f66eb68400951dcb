"""code.review: compiler and ruff findings first, model findings anchored to real lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dualtrack.plugins.code import CodePlugin, ReviewResult

SOURCE = """\
import os
import json


def load(path):
    data = json.loads(open(path).read())
    return data["items"]


def total(items):
    s = 0
    for i in items:
        s += i.price
    return s
"""

CLOSE_PATCH = """\
--- a/app.py
+++ b/app.py
@@ -5,3 +5,4 @@
 def load(path):
-    data = json.loads(open(path).read())
+    with open(path) as fh:
+        data = json.loads(fh.read())
     return data["items"]
"""


def finding(line: int, message: str, **kw: object) -> dict[str, object]:
    return {"line_start": line, "message": message, "severity": "warning", "category": "bug", **kw}


MODEL_REPLY = json.dumps(
    {
        "findings": [
            finding(6, "file handle is never closed", quote="open(path).read()", suggested_patch=CLOSE_PATCH),
            finding(6, "the same problem again", quote="json.loads(open(path).read())"),
            finding(99, "a line that does not exist"),
            finding(10, "uses eval on input", quote="eval(x)"),
            finding(3, "attribute access may fail", quote="s += i.price", category="error-handling"),
            finding(14, "end past the file", line_end=50, category="style", suggested_patch="not a diff"),
            finding(1, "os is unused", category="lint", line_end=1),
        ]
    }
)


@pytest.fixture
def app(tmp_path: Path) -> Path:
    path = tmp_path / "app.py"
    path.write_text(SOURCE)
    return path


async def test_review_anchors_model_findings_and_keeps_static_ones(
    app: Path, scripted, make_orchestrator
) -> None:
    card, conn = scripted(MODEL_REPLY)
    orc = make_orchestrator(CodePlugin, models=[card])
    result = await orc.invoke("code.review", path=str(app))
    review: ReviewResult = result.value
    by_source = {(f.source, f.line_start, f.category): f for f in review.findings}

    ruff = [f for f in review.findings if f.source == "ruff" and f.rule == "F401"]
    assert ruff and ruff[0].line_start == 1 and "os" in ruff[0].message
    assert ruff[0].suggested_patch and "-import os\n" in ruff[0].suggested_patch
    assert review.tools == {"python": "ran", "ruff": "ran", "model": "ran"}

    leak = by_source[("model", 6, "bug")]
    assert leak.message == "file handle is never closed"
    assert leak.suggested_patch is not None and "with open(path) as fh:" in leak.suggested_patch
    assert sum(1 for f in review.findings if f.line_start == 6 and f.category == "bug") == 1

    moved = by_source[("model", 13, "error-handling")]
    assert moved.line_end == 13
    clamped = by_source[("model", 14, "style")]
    assert clamped.line_end == 14 and clamped.suggested_patch is None
    assert not any(
        f.source == "model" and f.line_start == 1 and f.category == "lint" for f in review.findings
    )

    assert any("line 99 does not exist" in d for d in review.dropped)
    assert any("quoted code is not in the file" in d for d in review.dropped)
    lines = SOURCE.splitlines()
    for f in review.findings:
        assert 1 <= f.line_start <= f.line_end <= len(lines)
    conn.assert_complete()
    prompt = conn.calls[0].messages[-1].content
    assert "<data label=" in prompt and " 6| " in prompt and "F401" in prompt


async def test_review_reports_syntax_errors_without_a_model(tmp_path: Path, make_orchestrator) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("def ok():\n    return 1\n\n\ndef broken(:\n    pass\n")
    orc = make_orchestrator(CodePlugin, models=[])
    review = (await orc.invoke("code.review", path=str(broken), use_model=False)).value
    syntax = [f for f in review.findings if f.category == "syntax"]
    assert any(f.source == "python" and f.line_start == 5 and f.severity == "error" for f in syntax)
    assert all(f.line_start == 5 for f in syntax)


async def test_review_without_ruff_still_works(app: Path, make_orchestrator, monkeypatch) -> None:
    monkeypatch.setattr("dualtrack.plugins.code._static.find_ruff", lambda: None)
    orc = make_orchestrator(CodePlugin, models=[])
    review = (await orc.invoke("code.review", path=str(app), use_model=False)).value
    assert review.tools["ruff"].startswith("missing")
    assert review.findings == []


async def test_review_of_a_diff_keeps_only_changed_lines(app: Path, scripted, make_orchestrator) -> None:
    diff = (
        "--- a/app.py\n+++ b/app.py\n@@ -11,3 +11,4 @@\n     s = 0\n     for i in items:\n"
        "-        s += i.cost\n+        s += i.price\n     return s\n"
    )
    reply = json.dumps(
        {"findings": [finding(13, "no check for missing price", quote="s += i.price"), finding(6, "leak")]}
    )
    card, _ = scripted(reply)
    orc = make_orchestrator(CodePlugin, models=[card])
    review = (await orc.invoke("code.review", path=str(app), diff=diff)).value
    assert [(f.line_start, f.source) for f in review.findings] == [(13, "model")]
    assert any("outside the lines the diff changes" in d for d in review.dropped)


async def test_severity_words_are_normalised_and_bad_replies_keep_static_findings(
    app: Path, scripted, make_orchestrator
) -> None:
    reply = json.dumps(
        {"findings": [finding(13, "price may be missing", severity="Critical", quote="s += i.price")]}
    )
    card, _ = scripted(reply)
    orc = make_orchestrator(CodePlugin, models=[card])
    review = (await orc.invoke("code.review", path=str(app))).value
    assert [(f.line_start, f.severity) for f in review.findings if f.source == "model"] == [(13, "error")]
    card, _ = scripted("not json", "still not json", name="other")
    orc = make_orchestrator(CodePlugin, models=[card])
    review = (await orc.invoke("code.review", path=str(app))).value
    assert review.tools["model"].startswith("no valid reply")
    assert any(f.rule == "F401" for f in review.findings)
