"""Statistics, agreement, recommendations and workload parsing of `dualtrack eval`."""

from __future__ import annotations

import json

import pytest

from dualtrack._eval._observe import ArmKind, Observation, RowStatus
from dualtrack._eval._recommend import Action, policy_snippet, recommend
from dualtrack._eval._stats import bootstrap_mean, percentile, percentiles, wilson
from dualtrack._eval._summary import arm_stats
from dualtrack._eval._workload import load_workload
from dualtrack._runtime._similarity import agreement


def test_wilson_matches_the_textbook_values():
    r = wilson(8, 10)  # Wilson 95% for 8/10: 0.4902 to 0.9433
    assert (round(r.low, 4), round(r.high, 4)) == (0.4902, 0.9433)
    assert wilson(10, 10).high == 1.0 and wilson(10, 10).low == pytest.approx(0.7225, abs=1e-4)
    assert wilson(0, 5).low == 0.0 and wilson(0, 5).high == pytest.approx(0.4345, abs=1e-4)
    empty = wilson(0, 0)
    assert (empty.value, empty.low, empty.high) == (0.0, 0.0, 1.0)
    with pytest.raises(ValueError):
        wilson(3, 2)


def test_interval_narrows_as_the_sample_grows():
    small, large = wilson(9, 10), wilson(900, 1000)
    assert small.high - small.low > 3 * (large.high - large.low)
    assert small.low < 0.9 < small.high and large.low < 0.9 < large.high


def test_bootstrap_mean_is_reproducible_and_covers_the_mean():
    values = [0.1, 0.4, 0.35, 0.8, 0.2, 0.5, 0.45, 0.3]
    a, b = bootstrap_mean(values), bootstrap_mean(values)
    assert a == b
    assert a.low < a.value < a.high and a.value == pytest.approx(sum(values) / len(values))
    assert min(values) <= a.low and a.high <= max(values)
    one = bootstrap_mean([2.5])
    assert (one.value, one.low, one.high) == (2.5, 2.5, 2.5)
    assert bootstrap_mean([]).n == 0


def test_percentiles_interpolate_like_numpy():
    values = [float(v) for v in range(1, 11)]
    assert percentile(values, 50) == 5.5
    assert percentile(values, 90) == pytest.approx(9.1)
    p = percentiles(values)
    assert (p.p50, round(p.p90, 2), round(p.p99, 2), p.n) == (5.5, 9.1, 9.91, 10)
    assert percentiles([]).n == 0
    with pytest.raises(ValueError):
        percentile([], 50)


def test_agreement_is_token_multiset_f1():
    assert agreement("Revenue rose 12% in Q2", "in Q2 revenue rose 12%") == 1.0
    assert agreement("alpha beta", "gamma delta") == 0.0
    # candidate 4 tokens, reference 2, overlap 2: precision 0.5, recall 1 -> F1 2/3
    assert agreement("north south east west", "north south") == pytest.approx(2 / 3)
    assert agreement("14,200 orders", "14 200 orders") < 1.0  # numbers stay whole tokens
    assert agreement("", "") == 1.0 and agreement("text", "") == 0.0


def _obs(arm, *, passed, replies, cost, escalated=0, status=RowStatus.OK, kind=ArmKind.MODEL):
    return Observation(
        row="r",
        skill="doc.sum",
        arm=arm,
        kind=kind,
        status=status,
        replies=replies,
        passed=passed,
        groups=replies,
        accepted=passed,
        escalated=escalated,
        cost_usd=cost,
        input_tokens=100,
        output_tokens=20,
        duration_s=0.1,
    )


def _arm(arm, track, rows, *, pass_every=1, cost=0.0, kind=ArmKind.MODEL, escalate_every=0):
    obs = []
    for i in range(rows):
        ok = i % pass_every != pass_every - 1 if pass_every > 1 else True
        esc = 1 if escalate_every and i % escalate_every == 0 else 0
        obs.append(_obs(arm, passed=int(ok), replies=1, cost=cost, escalated=esc, kind=kind))
    return arm_stats("doc.sum", arm, kind, track, obs)


def test_recommends_in_house_first_when_it_passes_as_often_for_less():
    stats = [
        _arm("local", "in-house", 25, pass_every=25, cost=0.0),  # 24 of 25 pass
        _arm("gpt", "partner", 25, cost=0.002),
        _arm("in-house-first", None, 25, cost=0.00008, kind=ArmKind.STRATEGY, escalate_every=25),
        _arm("all-partner", None, 25, cost=0.002, kind=ArmKind.STRATEGY),
        _arm("current", None, 25, cost=0.002, kind=ArmKind.STRATEGY),
    ]
    rec = recommend("doc.sum", stats)
    assert rec.action is Action.IN_HOUSE_FIRST and rec.model == "local" and not rec.estimated
    assert rec.text.startswith("route `doc.sum` in-house first (local): 96% of checks pass, escalation on 4%")
    assert "saves $1.92 per 1,000 calls" in rec.text
    assert rec.savings_per_1000 == pytest.approx(1.92)
    assert rec.policy_lines == ['"doc.sum" = ["local"]'] and not rec.tentative


def test_keeps_partner_first_when_in_house_first_passes_less():
    stats = [
        _arm("local", "in-house", 20, pass_every=2, cost=0.0),
        _arm("gpt", "partner", 20, cost=0.002),
        _arm("in-house-first", None, 20, pass_every=4, cost=0.001, kind=ArmKind.STRATEGY),
        _arm("all-partner", None, 20, cost=0.002, kind=ArmKind.STRATEGY),
    ]
    rec = recommend("doc.sum", stats)
    assert rec.action is Action.PARTNER_FIRST and rec.model == "gpt"
    assert "ends with 75% of checks passing against 100% all-partner" in rec.text
    assert rec.policy_lines == ['"doc.sum" = ["gpt"]']


def test_estimates_from_single_models_and_flags_small_samples():
    stats = [_arm("local", "in-house", 4, pass_every=4, cost=0.0), _arm("gpt", "partner", 4, cost=0.004)]
    rec = recommend("doc.sum", stats)
    # 3 of 4 pass alone; escalating the rest to a partner that always passes ends at 100%
    assert rec.action is Action.IN_HOUSE_FIRST and rec.estimated and rec.tentative
    assert rec.escalation_rate == pytest.approx(0.25) and rec.final_pass_rate == pytest.approx(1.0)
    assert rec.savings_per_1000 == pytest.approx(3.0)
    assert "small sample: 4 rows" in rec.text and "estimated" in rec.text


def test_no_model_calls_and_no_in_house_model():
    quiet = arm_stats(
        "x.profile",
        "local",
        ArmKind.MODEL,
        "in-house",
        [Observation(row="r", skill="x.profile", arm="local", kind=ArmKind.MODEL)],
    )
    assert recommend("x.profile", [quiet]).action is Action.NO_MODEL_CALLS
    skipped = _obs("local", passed=0, replies=0, cost=0.0, status=RowStatus.SKIPPED)
    stats = [
        arm_stats("doc.sum", "local", ArmKind.MODEL, "in-house", [skipped]),
        _arm("gpt", "partner", 5, cost=0.01),
    ]
    rec = recommend("doc.sum", stats)
    assert rec.action is Action.NOT_ENOUGH_EVIDENCE and "local was skipped on every row" in rec.text


def test_policy_snippet_merges_with_existing_pins():
    stats = [_arm("local", "in-house", 12, cost=0.0), _arm("gpt", "partner", 12, cost=0.01)]
    rec = recommend("doc.sum", stats)
    snippet = policy_snippet([rec], {"code.fix": ["gpt-4o"]})
    assert snippet == '[policy]\npin = { "code.fix" = ["gpt-4o"], "doc.sum" = ["local"] }\n'
    import tomllib

    assert tomllib.loads(snippet)["policy"]["pin"] == {"code.fix": ["gpt-4o"], "doc.sum": ["local"]}


def test_workload_files_keep_bad_rows_as_problems(tmp_path):
    toml = tmp_path / "w.toml"
    toml.write_text(
        'reference = "ref"\nmodels = ["a", "b"]\n'
        '[[calls]]\nskill = "doc.sum"\nargs = { path = "a.docx" }\nsensitivity = "confidential"\n'
        "[[calls]]\nargs = {}\n"
        '[[calls]]\nskill = "doc.sum"\nargs = { path = "b.docx" }\ncolour = "red"\n'
    )
    w = load_workload(toml)
    assert (w.reference, w.models) == ("ref", ["a", "b"])
    assert [r.id for r in w.rows] == ["doc.sum#1"] and w.rows[0].sensitivity == "confidential"
    assert [p.reason for p in w.problems] == ["calls[2]: no 'skill' given", "calls[3]: unknown key(s) colour"]
    jsonl = tmp_path / "w.jsonl"
    jsonl.write_text(
        "# comment\n"
        + json.dumps({"id": "one", "skill": "doc.sum", "args": {"path": "a.docx"}})
        + "\n{oops\n\n"
    )
    w2 = load_workload(jsonl)
    assert [r.id for r in w2.rows] == ["one"] and w2.problems[0].row == "line 3"
