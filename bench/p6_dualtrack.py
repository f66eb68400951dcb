"""Goal P6: in-house first with checked escalation costs <= 40% of all-partner routing, at equal pass rate.

Run by hand: ``.venv/bin/python bench/p6_dualtrack.py [--rows 300] [--seed 7]``.

The workload is mixed and tagged: three skills needing different tags
(``summarize``, ``extract`` + ``json``, ``rewrite``), on documents of three
sensitivity levels (60% general, 25% confidential, 15% public). Each skill makes
one checked model call (``checks.degenerate()`` plus a domain check that the
reply carries the answer), so a model's quality is its check pass rate.

The models are scripted doubles (``dualtrack.testing.FunctionConnector``) whose
quality and prices are declared below: each reply passes the checks with the
model's declared probability for the skill (a seeded draw per call), and fails
otherwise (``'Duck' x11``, the degenerate reply of the issue). Prices are USD per
1M tokens; tokens are counted from the prompt and reply text.

``dualtrack eval``'s runner serves the workload with each model alone, then
under three routings over the whole catalog: the current policy (``balanced``),
``all-partner`` (the best partner pinned first for every skill) and
``in-house-first`` (the best in-house model pinned first; a failed check
escalates to the next qualifying model, within the clearance). The goal holds
when in-house first costs at most 40% of all-partner, its final check pass rate
is within 2 points of all-partner's, and no call went above a model's clearance
(counted from the trace and from what each partner double actually received).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time

from dualtrack import Policy, SkillContext, Workload, WorkloadRow, checks, evaluate, plugin, skill
from dualtrack.checks import CheckResult
from dualtrack.testing import FunctionConnector, model_card

SKILLS = ("bench.summarize", "bench.extract", "bench.rewrite")
# name: (track, clearance, $ in / 1M, $ out / 1M, tags, pass probability per skill)
MODELS: dict[str, tuple[str, str, float, float, set[str], dict[str, float]]] = {
    "gpt-4o": (
        "partner",
        "general",
        2.50,
        10.00,
        {"chat", "json", "summarize", "extract", "rewrite"},
        {"bench.summarize": 0.98, "bench.extract": 0.97, "bench.rewrite": 0.99},
    ),
    "gpt-4o-mini": (
        "partner",
        "general",
        0.15,
        0.60,
        {"chat", "json", "summarize", "extract", "rewrite"},
        {"bench.summarize": 0.90, "bench.extract": 0.85, "bench.rewrite": 0.93},
    ),
    "qwen-7b": (
        "in-house",
        "highly-confidential",
        0.04,
        0.08,
        {"chat", "json", "summarize", "extract", "rewrite"},
        {"bench.summarize": 0.92, "bench.extract": 0.88, "bench.rewrite": 0.95},
    ),
    "smollm2": (
        "in-house",
        "highly-confidential",
        0.0,
        0.0,
        {"chat", "summarize", "rewrite"},
        {"bench.summarize": 0.55, "bench.rewrite": 0.70},
    ),
}
GOOD = {
    "bench.summarize": "Orders rose a fifth in peak weeks; Leeds pick rates recovered; ANSWER-{n}.",
    "bench.extract": '{"owner": "Maria Lopez", "due": "30 June", "item": "carrier audit", "key": "ANSWER-{n}"}',
    "bench.rewrite": "The regional carrier raised prices by six per cent from May (ANSWER-{n}).",
}
PARAGRAPH = (
    "Order volume grew steadily through the quarter, driven by the spring catalogue and by two new retail "
    "partners in the South. Peak weeks reached 4,300 orders a day, about a fifth above the same weeks last "
    "year. The new warehouse management system went live in Leeds in April; pick rates fell for ten days, then "
    "recovered and finished eight per cent above the old system. "
)


def _has_answer(text: str, context: object) -> CheckResult:
    ok = "ANSWER-" in text
    return CheckResult(name="answer", passed=ok, reason="" if ok else "the reply does not carry the answer")


async def _checked(ctx: SkillContext, doc: str, n: int, what: str) -> str:
    reply = await ctx.generate_checked(
        f"{what} (case {n}):\n{doc}", checks=[checks.degenerate(), _has_answer], feedback=False, fallback=""
    )
    return str(reply.value)


@plugin("bench", description="The P6 workload's skills.")
class Bench:
    @skill(requires=["summarize"])
    async def summarize(self, ctx: SkillContext, doc: str, n: int) -> str:
        """Summarize.

        Args:
            doc: The text.
            n: The case number.
        """
        return await _checked(ctx, doc, n, "Summarize")

    @skill(requires=["extract", "json"])
    async def extract(self, ctx: SkillContext, doc: str, n: int) -> str:
        """Extract.

        Args:
            doc: The text.
            n: The case number.
        """
        return await _checked(ctx, doc, n, "Extract the action items")

    @skill(requires=["rewrite"])
    async def rewrite(self, ctx: SkillContext, doc: str, n: int) -> str:
        """Rewrite.

        Args:
            doc: The text.
            n: The case number.
        """
        return await _checked(ctx, doc, n, "Rewrite plainly")


def _catalog(seed: int) -> tuple[list, dict[str, FunctionConnector]]:
    cards, doubles = [], {}
    for i, (name, (track, clearance, cin, cout, tags, quality)) in enumerate(MODELS.items()):
        rng = random.Random(seed * 1000 + i)

        def reply(request, quality=quality, rng=rng) -> str:
            prompt = request.messages[-1].content
            what = prompt.split(" (case", 1)[0]
            skill = {"Summarize": SKILLS[0], "Extract the action items": SKILLS[1]}.get(what, SKILLS[2])
            n = prompt.split("(case ", 1)[1].split(")", 1)[0]
            if rng.random() < quality.get(skill, 0.0):
                return GOOD[skill].replace("{n}", n)
            return "Duck " * 11

        conn = FunctionConnector(reply)
        doubles[name] = conn
        cards.append(
            model_card(
                conn,
                name=name,
                track=track,
                clearance=clearance,
                cost_input=cin,
                cost_output=cout,
                capabilities=tags,
                quality=0.9 if track == "partner" else 0.6,
            )
        )
    return cards, doubles


def _workload(rows: int, seed: int) -> Workload:
    rng = random.Random(seed)
    out = []
    for n in range(rows):
        level = rng.choices(["general", "confidential", "public"], weights=[60, 25, 15])[0]
        doc = PARAGRAPH * rng.randint(2, 6)
        out.append(WorkloadRow(id=f"r{n}", skill=SKILLS[n % 3], args={"doc": doc, "n": n}, sensitivity=level))
    return Workload(rows=out)


def _total(report, strategy: str) -> tuple[float, int, int, int, int]:
    cost = accepted = groups = escalated = rows = 0
    for name in SKILLS:
        s = report.arm(name, strategy)
        if s is None:
            continue
        cost += s.cost.value * s.rows
        accepted += s.final_pass_rate.k
        groups += s.final_pass_rate.n
        escalated += s.escalation.k
        rows += s.rows
    return cost, accepted, groups, escalated, rows


async def main(rows: int, seed: int) -> int:
    cards, doubles = _catalog(seed)
    start = time.perf_counter()
    report = await evaluate(
        _workload(rows, seed),
        catalog=cards,
        policy=Policy(objective="balanced"),
        plugins=[Bench],
        concurrency=8,
        min_rows=30,
    )
    elapsed = time.perf_counter() - start
    print(f"P6: {rows} calls x ({len(cards)} models alone + 3 routings) in {elapsed:.1f} s, seed {seed}\n")
    print(f"{'skill':18} {'routing':15} {'final pass':>10} {'escalated':>9} {'$ / 1,000 calls':>16}")
    for name in SKILLS:
        for strategy in ("current", "all-partner", "in-house-first"):
            s = report.arm(name, strategy)
            if s is not None:
                print(
                    f"{name:18} {strategy:15} {s.final_pass_rate.value:>10.1%} {s.escalation.value:>9.1%} "
                    f"{s.cost_per_1000:>16.4f}"
                )
    print()
    totals = {name: _total(report, name) for name in ("current", "all-partner", "in-house-first")}
    for name, (cost, accepted, groups, escalated, n) in totals.items():
        print(
            f"{name:15} cost ${cost:.4f} for {n} calls (${cost / max(n, 1) * 1000:.4f} per 1,000), "
            f"final pass {accepted}/{groups} = {accepted / max(groups, 1):.1%}, escalated {escalated}"
        )
    partner_cost, p_acc, p_groups = (
        totals["all-partner"][0],
        totals["all-partner"][1],
        totals["all-partner"][2],
    )
    ihf_cost, i_acc, i_groups = (
        totals["in-house-first"][0],
        totals["in-house-first"][1],
        totals["in-house-first"][2],
    )
    ratio = ihf_cost / partner_cost if partner_cost else float("inf")
    p_rate, i_rate = p_acc / max(p_groups, 1), i_acc / max(i_groups, 1)
    above = report.clearance_violations
    received = sum(
        1
        for name, conn in doubles.items()
        if MODELS[name][1] == "general"
        for c in conn.calls
        if c.sensitivity.value not in ("public", "general")
    )
    print(f"\nin-house-first / all-partner cost: {ratio:.1%} (goal <= 40%)")
    print(f"final pass rate: in-house-first {i_rate:.1%} vs all-partner {p_rate:.1%} (goal: within 2 points)")
    print(
        f"calls above a model's clearance: {above} in the trace, {received} received by partner doubles (goal 0)"
    )
    print("\nrecommendations:")
    for rec in report.recommendations:
        print(f"  - {rec.text}")
    ok = ratio <= 0.40 and i_rate >= p_rate - 0.02 and above == 0 and received == 0
    print(f"\nGoal P6: {'MET' if ok else 'NOT MET'}")
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    ns = parser.parse_args()
    sys.exit(asyncio.run(main(ns.rows, ns.seed)))
