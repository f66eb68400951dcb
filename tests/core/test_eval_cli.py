"""`dualtrack eval` end to end: real .docx/.xlsx files, test doubles as models, the CLI entry in-process."""

from __future__ import annotations

import asyncio
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import docx
import openpyxl
import pytest

from dualtrack import CheckResult, Orchestrator, SkillContext, checks, plugin, skill
from dualtrack._cli._main import main
from dualtrack._eval import _command
from dualtrack.testing import FunctionConnector, model_card

ROWS = [("North", 14200), ("Midlands", 11850), ("South", 16430), ("Scotland", 5120)]
GOOD = "Order volume grew through the quarter and the warehouses absorbed the increase."


@plugin("office", description="Reads real Office files for the evaluation tests.")
class Office:
    @skill(requires=["summarize"])
    async def brief(self, ctx: SkillContext, path: str) -> str:
        """One-sentence brief of a .docx.

        Args:
            path: The .docx.
        """
        text = "\n".join(
            p.text for p in docx.Document(str(ctx.input_file(path, suffixes=(".docx",)))).paragraphs
        )
        reply = await ctx.generate_checked(
            f"Summarize in one sentence:\n{text}",
            source=text,
            checks=[checks.degenerate(), checks.grounded()],
            feedback=False,
            fallback=text.split(".")[0],
        )
        return str(reply.value)

    @skill(requires=["json"])
    async def total(self, ctx: SkillContext, path: str) -> float:
        """Total of the second column of a workbook, checked by computing it.

        Args:
            path: The .xlsx.
        """
        sheet = openpyxl.load_workbook(ctx.input_file(path, suffixes=(".xlsx",)), read_only=True).active
        values = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
        table = "\n".join(str(v) for v in values)

        @checks.named("computed")
        def computed(text: str, context) -> CheckResult:
            if "explode" in text:
                raise RuntimeError("the checker broke")
            ok = float(text.strip()) == float(sum(values))
            return CheckResult(
                name="computed", passed=ok, reason="" if ok else f"{text.strip()} is not the total"
            )

        reply = await ctx.generate_checked(
            f"Add up:\n{table}", checks=[computed], feedback=False, fallback=0.0
        )
        return float(reply.value)


def _answer(request, *, bad_every: int = 0, state: dict | None = None, explode: bool = False) -> str:
    prompt = request.messages[-1].content
    if state is not None:
        state["n"] = state.get("n", 0) + 1
        if bad_every and state["n"] % bad_every == 0:
            return "Duck " * 11 if prompt.startswith("Summarize") else "12"
    if prompt.startswith("Add up"):
        return "explode" if explode else str(sum(int(x) for x in prompt.splitlines()[1:]))
    return "..." if explode else GOOD  # garbage


def _catalog():
    state: dict = {}
    local = FunctionConnector(lambda r: _answer(r, bad_every=3, state=state))
    partner = FunctionConnector(_answer)
    ref = FunctionConnector(_answer)
    broken = FunctionConnector(lambda r: _answer(r, explode=True))

    async def stuck(_request):
        await asyncio.sleep(30)

    tags = {"chat", "json", "summarize"}
    cards = [
        model_card(local, name="local", capabilities=tags, quality=0.4),
        model_card(
            partner,
            name="partner",
            track="partner",
            clearance="general",
            cost_input=5,
            cost_output=15,
            quality=0.8,
        ),
        model_card(
            ref, name="ref", track="partner", clearance="general", cost_input=10, cost_output=30, quality=0.9
        ),
        model_card(broken, name="broken", capabilities=tags, quality=0.1),
        model_card(FunctionConnector(stuck), name="stuck", capabilities=tags, quality=0.05),
    ]
    return cards, {"local": local, "partner": partner, "ref": ref}


def _documents(folder: Path) -> None:
    folder.mkdir()
    for i in range(3):
        d = docx.Document()
        d.add_heading(f"Quarterly report {i + 1}", 1)
        d.add_paragraph(GOOD + f" Peak weeks reached {4300 + i} orders a day.")
        d.save(folder / f"report{i + 1}.docx")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Region", "Orders"])
    for row in ROWS:
        ws.append(row)
    wb.save(folder / "orders.xlsx")


@pytest.fixture
def eval_setup(tmp_path, monkeypatch):
    _documents(tmp_path / "docs")
    (tmp_path / "dualtrack.toml").write_text('ledger = "memory"\n[policy]\nobjective = "quality"\n')
    rows = [
        *({"skill": "office.brief", "args": {"path": f"docs/report{i}.docx"}} for i in (1, 2, 3)),
        {
            "id": "secret",
            "skill": "office.brief",
            "args": {"path": "docs/report1.docx"},
            "sensitivity": "confidential",
        },
        {"skill": "office.total", "args": {"path": "docs/orders.xlsx"}},
        {"skill": "spreadsheet.profile", "args": {"path": "docs/orders.xlsx"}},
        {"id": "gone", "skill": "office.brief", "args": {"path": "docs/missing.docx"}},
        {"id": "typo", "skill": "office.breif", "args": {"path": "docs/report1.docx"}},
    ]
    (tmp_path / "workload.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\nnot json\n")
    cards, doubles = _catalog()
    real_load = _command.load_config
    monkeypatch.setattr(
        _command, "load_config", lambda path: real_load(path).model_copy(update={"models": cards})
    )

    def factory(config, ledger=None):
        def build(models, policy, roots):
            return Orchestrator(models=models, policy=policy, plugins=[Office, "spreadsheet"], roots=roots)

        return build

    monkeypatch.setattr(_command, "config_factory", factory)
    monkeypatch.chdir(tmp_path)
    return tmp_path, doubles


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_eval_cli_writes_json_and_an_offline_html_report(eval_setup, capsys):
    folder, doubles = eval_setup
    base = ["--config", "dualtrack.toml", "eval", "workload.jsonl", "--models", "local,partner,broken,stuck"]
    base += ["--reference", "ref", "--timeout", "1", "--concurrency", "4"]
    assert main([*base, "--format", "json", "--out", "report.json"]) == 0
    report = json.loads((folder / "report.json").read_text())
    assert report["models"] == ["local", "partner", "broken", "stuck", "ref"]
    assert report["clearance_violations"] == 0
    assert "token-multiset F1" in report["agreement_measure"]
    brief = {s["arm"]: s for s in report["skills"]["office.brief"]}
    # local answers "Duck" x11 on every third call: the degenerate check rejects it
    assert brief["local"]["rows"] == 4 and 0 < brief["local"]["pass_rate"]["value"] < 1
    low, high = brief["local"]["pass_rate"]["low"], brief["local"]["pass_rate"]["high"]
    assert low < brief["local"]["pass_rate"]["value"] < high
    assert (
        brief["partner"]["pass_rate"]["value"] == 1.0 and brief["partner"]["skipped"] == 1
    )  # the confidential row
    assert brief["partner"]["agreement"]["value"] == 1.0 and brief["local"]["agreement"]["value"] < 1.0
    assert brief["partner"]["cost_usd"]["value"] > 0 and brief["local"]["cost_usd"]["value"] == 0
    assert brief["stuck"]["failed"] == 4 and brief["stuck"]["pass_rate"]["value"] == 0.0  # timeouts
    for strategy in ("current", "all-partner", "in-house-first"):
        assert brief[strategy]["kind"] == "strategy" and brief[strategy]["clearance_violations"] == 0
    assert brief["in-house-first"]["final_pass_rate"]["value"] == 1.0  # failures escalated
    assert brief["in-house-first"]["escalation"]["k"] >= 1
    assert brief["in-house-first"]["cost_usd"]["value"] < brief["all-partner"]["cost_usd"]["value"]
    total = {s["arm"]: s for s in report["skills"]["office.total"]}
    assert total["broken"]["check_errors"] == 1 and total["broken"]["pass_rate"]["value"] == 0.0
    assert brief["broken"]["pass_rate"]["value"] == 0.0  # garbage replies fail the checks
    recs = {r["skill"]: r for r in report["recommendations"]}
    assert recs["office.brief"]["action"] == "in-house-first" and recs["office.brief"]["model"] == "local"
    assert recs["office.brief"]["tentative"] is True
    assert recs["spreadsheet.profile"]["action"] == "no-model-calls"
    assert '"office.brief" = ["local"]' in report["policy"]
    problems = {p["row"]: p["reason"] for p in report["problems"]}
    assert "missing file" in problems["gone"] and "missing.docx" in problems["gone"]
    assert "office.breif" in problems["typo"] and "office.brief" in problems["typo"]  # did you mean
    assert "not JSON" in problems["line 9"]
    skipped = {(p["row"], p["model"]): p["reason"] for p in report["skipped"]}
    assert skipped[("secret", "partner")].startswith("skipped:")
    assert any(m == "stuck" and r.startswith("timeout") for (_, m), r in skipped.items())
    for name in ("partner", "ref"):  # never above a partner's clearance, on any path
        assert all(c.sensitivity.value in ("public", "general") for c in doubles[name].calls)
    assert not list((folder / "docs").glob("*.summary*"))  # nothing written next to the documents

    capsys.readouterr()
    assert main([*base, "--out", "report.html"]) == 0
    printed = capsys.readouterr().out
    assert "route `office.brief` in-house first (local)" in printed and "report written to" in printed
    html = (folder / "report.html").read_text()
    parser = _Tags()
    parser.feed(html)
    parser.close()
    assert parser.tags.count("svg") >= 4 and "script" not in parser.tags
    assert not re.search(r"""(src|href)=["']https?:""", html)  # nothing fetched
    text = " ".join(parser.text)
    assert "route `office.brief` in-house first (local)" in text
    assert 'pin = { "office.brief" = ["local"]' in text
    assert "office.brief: check pass rate by model" in text and "cost per 1,000 calls by routing" in text
    assert "Rows not run (3)" in text and "missing.docx" in text


def test_eval_cli_reports_bad_arguments_as_errors(eval_setup, capsys):
    assert main(["--config", "dualtrack.toml", "eval", "workload.jsonl", "--models", "nope"]) == 1
    assert "unknown model(s) nope" in capsys.readouterr().err
    assert main(["--config", "dualtrack.toml", "eval"]) == 1
    assert "name a workload file" in capsys.readouterr().err
