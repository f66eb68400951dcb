"""Shadow sampling of live traffic: a fraction of calls, checked in the background, logged, never in the way."""

from __future__ import annotations

import asyncio
import json

from dualtrack import Orchestrator, Policy, SkillContext, checks, load_config, plugin, skill
from dualtrack._eval._report import build_report
from dualtrack._eval._shadows import shadow_run
from dualtrack._runtime._shadow_log import ShadowLog
from dualtrack.testing import FunctionConnector, ScriptedConnector, model_card

GOOD = "The board approved the budget for the new depot."


@plugin("notes", description="n")
class Notes:
    @skill
    async def brief(self, ctx: SkillContext, text: str) -> str:
        """Brief.

        Args:
            text: The text.
        """
        reply = await ctx.generate_checked(text, source=text, checks=[checks.degenerate()], fallback=text)
        return str(reply.value)


def _setup(fraction, log, **kw):
    primary = ScriptedConnector([GOOD], repeat_last=True)
    inhouse = FunctionConnector(lambda r: "Duck " * 11)
    partner = FunctionConnector(lambda r: GOOD)
    orc = Orchestrator(
        models=[
            model_card(primary, name="primary", quality=1.0),
            model_card(inhouse, name="small", quality=0.2),
            model_card(
                partner, name="partner", track="partner", clearance="general", quality=0.1, cost_input=5
            ),
        ],
        policy=Policy(objective="quality"),
        plugins=[Notes],
        shadow={"*": ["small", "partner"]},
        shadow_fraction=fraction,
        on_shadow=log.record,
        **kw,
    )
    return orc, primary, inhouse, partner


async def test_shadows_are_checked_logged_and_never_cross_the_clearance(tmp_path):
    log = ShadowLog(tmp_path / "usage.shadow.jsonl")
    orc, _, inhouse, partner = _setup(1.0, log)
    results = []
    for level in ("general", "confidential", "highly-confidential"):
        results.append(await orc.invoke("notes.brief", text=GOOD, sensitivity=level))
    await orc.executor.drain()
    # the primary results are the primary model's, untouched by failing shadows
    assert [r.value for r in results] == [GOOD] * 3 and all(r.models == ["primary"] for r in results)
    assert all(len(r.calls) == 1 and all(c.passed for c in r.calls[0].checks) for r in results)
    assert len(inhouse.calls) == 3
    assert [c.sensitivity.value for c in partner.calls] == ["general"]  # only the general call
    records = log.records()
    assert len(records) == 6
    small = [r for r in records if r.model == "small"]
    assert all(r.ok and r.passed is False and r.failed_checks == ["repetition"] for r in small)
    assert all(r.agreement is not None and r.agreement < 0.2 for r in small)
    part = sorted((r for r in records if r.model == "partner"), key=lambda r: not r.ok)
    assert [(r.ok, r.sensitivity) for r in part] == [
        (True, "general"),
        (False, "confidential"),
        (False, "highly-confidential"),
    ]
    assert part[0].passed is True and part[0].agreement == 1.0 and part[0].cost_usd > 0
    assert all("clearance" in (r.error or "") for r in part[1:])
    raw = (tmp_path / "usage.shadow.jsonl").read_text()
    assert "Duck" not in raw and "board" not in raw  # numbers and names only, never text
    assert (tmp_path / "usage.shadow.jsonl").stat().st_mode & 0o777 == 0o600
    report = build_report(shadow_run(records, list(orc.models.values()), orc.policy), source="shadow")
    stats = {s.arm: s for s in report.skills["notes.brief"]}
    assert stats["small"].pass_rate.value == 0.0 and stats["partner"].skipped == 2
    assert report.clearance_violations == 0 and report.source == "shadow"


async def test_a_fraction_of_calls_is_shadowed_and_slow_shadows_never_block():
    log = ShadowLog()
    orc, _, inhouse, _ = _setup(0.25, log)
    orc.gateway.shadows._rng.seed(7)
    for _ in range(200):
        await orc.invoke("notes.brief", text=GOOD, sensitivity="confidential")
    await orc.executor.drain()
    assert 30 <= len(inhouse.calls) <= 70  # about a quarter of 200

    gate = asyncio.Event()

    async def slow(request):
        await gate.wait()
        return GOOD

    orc2 = Orchestrator(
        models=[
            model_card(ScriptedConnector([GOOD], repeat_last=True), name="a", quality=1.0),
            model_card(FunctionConnector(slow), name="slow"),
        ],
        policy=Policy(objective="quality"),
        plugins=[Notes],
        shadow={"notes": ["slow"]},
    )
    result = await asyncio.wait_for(
        orc2.invoke("notes.brief", text=GOOD), timeout=5
    )  # the shadow is still waiting
    assert result.value == GOOD and result.models == ["a"]
    await orc2.aclose()  # cancels the waiting shadow


def test_shadow_section_in_config(tmp_path):
    (tmp_path / "dualtrack.toml").write_text(
        'ledger = "usage.sqlite3"\n[shadow]\nfraction = 0.1\nmodels = ["b"]\nskills = { "notes" = ["c"] }\n'
    )
    cfg = load_config(tmp_path / "dualtrack.toml")
    assert cfg.shadow.fraction == 0.1 and cfg.shadow.table == {"notes": ["c"], "*": ["b"]}
    assert cfg.make_shadow_log().path == tmp_path / "usage.shadow.jsonl"
    cards = [model_card(ScriptedConnector([GOOD], repeat_last=True), name=n) for n in ("a", "b", "c")]
    orc = Orchestrator.from_config(tmp_path / "dualtrack.toml", models=cards, plugins=[Notes])
    assert orc.gateway.shadows.fraction == 0.1 and orc.gateway.shadows.models_for("notes.brief") == ["c"]
    assert orc.gateway.shadows.models_for("other.skill") == ["b"]
    (tmp_path / "bad.toml").write_text("[shadow]\nfraction = 2\n")
    try:
        load_config(tmp_path / "bad.toml")
    except Exception as exc:  # noqa: BLE001
        assert "shadow.fraction" in str(exc)
    else:
        raise AssertionError("a fraction above 1 must be refused")
    assert json.loads(json.dumps(cfg.shadow.model_dump()))["log"] is None
