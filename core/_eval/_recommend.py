"""A recommendation per skill: route it in-house first or keep it on partner models, and the TOML for it.

The rule, per skill, from the measured strategies (or, when they did not run,
estimated from each model alone: in-house pass rate ``p``, escalation on ``1 - p``,
cost ``c_in + (1 - p) * c_partner``):

1. no model calls, or no checked calls → nothing to decide on, say why;
2. in-house first ends with a check pass rate within ``tolerance`` of all-partner
   routing *and* costs less → **route in-house first** (pin the best in-house model;
   failed checks escalate to the next qualifying model);
3. otherwise → **keep partner first** (pin the best partner model), saying which
   condition failed.

A decision on fewer than ``min_rows`` rows is marked tentative.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._observe import ArmKind, Strategy
from ._summary import ArmStats

__all__ = ["Action", "Recommendation", "money", "policy_snippet", "recommend"]


class Action(enum.StrEnum):
    """What the report recommends for a skill."""

    IN_HOUSE_FIRST = "in-house-first"
    PARTNER_FIRST = "partner-first"
    NO_MODEL_CALLS = "no-model-calls"
    NOT_ENOUGH_EVIDENCE = "not-enough-evidence"


@dataclass(frozen=True, slots=True, kw_only=True)
class Recommendation:
    """The recommendation for one skill.

    Attributes:
        skill: The full skill name.
        action: What to do.
        text: One sentence for people.
        model: The model to pin first (``None`` when nothing changes).
        pass_rate: The pinned model's own check pass rate, when measured.
        final_pass_rate: The strategy's final pass rate (after escalation).
        escalation_rate: Share of checked calls escalated (in-house first).
        savings_per_1000: Dollars saved per 1,000 calls against all-partner routing.
        savings_vs_current_per_1000: ... against the current routing, when measured.
        estimated: Whether the figures are estimated from single-model runs.
        tentative: Whether the sample is too small to act on without more rows.
        policy_lines: The ``[policy]`` lines that apply it.
    """

    skill: str
    action: Action
    text: str
    model: str | None = None
    pass_rate: float | None = None
    final_pass_rate: float | None = None
    escalation_rate: float | None = None
    savings_per_1000: float | None = None
    savings_vs_current_per_1000: float | None = None
    estimated: bool = False
    tentative: bool = False
    policy_lines: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {
            "skill": self.skill,
            "action": self.action.value,
            "text": self.text,
            "model": self.model,
            "pass_rate": self.pass_rate,
            "final_pass_rate": self.final_pass_rate,
            "escalation_rate": self.escalation_rate,
            "savings_per_1000_usd": self.savings_per_1000,
            "savings_vs_current_per_1000_usd": self.savings_vs_current_per_1000,
            "estimated": self.estimated,
            "tentative": self.tentative,
            "policy_lines": list(self.policy_lines),
        }


def money(usd: float) -> str:
    """``$1,234.50``, or four decimals below a cent."""
    return f"${usd:,.2f}" if abs(usd) >= 0.01 or usd == 0 else f"${usd:.4f}"


def _pin_line(skill: str, model: str) -> str:
    return f"{json.dumps(skill)} = [{json.dumps(model)}]"


def _best(models: Sequence[ArmStats], track: str) -> ArmStats | None:
    found = [m for m in models if m.track == track and m.rows > 0]
    found.sort(key=lambda m: (-m.pass_rate.value, m.cost.value))
    return found[0] if found else None


def recommend(
    skill: str, stats: Sequence[ArmStats], *, tolerance: float = 0.02, min_rows: int = 10
) -> Recommendation:
    """The recommendation for ``skill`` from the stats of its arms (see the module docstring).

    Args:
        skill: The full skill name.
        stats: Every arm that ran it (models alone and strategies).
        tolerance: How much lower in-house first's final pass rate may be and still count as equal.
        min_rows: Fewer rows than this make the recommendation tentative.
    """
    models = [s for s in stats if s.kind is ArmKind.MODEL]
    strategies = {s.arm: s for s in stats if s.kind is ArmKind.STRATEGY and s.rows > 0}
    if all(s.input_tokens.value == 0 and s.output_tokens.value == 0 for s in stats if s.rows):
        return Recommendation(
            skill=skill,
            action=Action.NO_MODEL_CALLS,
            text=f"`{skill}` made no model calls here: nothing to route",
        )
    inhouse, partner = _best(models, "in-house"), _best(models, "partner")
    if inhouse is None:
        why = next((m.arm for m in models if m.track == "in-house"), None)
        text = f"keep `{skill}` on partner models: no in-house model could serve it" + (
            f" ({why} was skipped on every row)" if why else ""
        )
        return Recommendation(skill=skill, action=Action.NOT_ENOUGH_EVIDENCE, text=text)
    if inhouse.pass_rate.n == 0:
        agree = f"; agreement with the reference {inhouse.agreement.value:.0%}" if inhouse.agreement else ""
        text = f"`{skill}` has no checked model calls to judge {inhouse.arm} by{agree}: attach checks first"
        return Recommendation(skill=skill, action=Action.NOT_ENOUGH_EVIDENCE, text=text, model=inhouse.arm)
    ihf, ap = strategies.get(Strategy.IN_HOUSE_FIRST.value), strategies.get(Strategy.ALL_PARTNER.value)
    current = strategies.get(Strategy.CURRENT.value)
    estimated = ihf is None or ap is None
    p = inhouse.pass_rate.value
    if not estimated and ihf is not None and ap is not None:
        final_in, esc, cost_in = ihf.final_pass_rate.value, ihf.escalation.value, ihf.cost.value
        final_p, cost_p = ap.final_pass_rate.value, ap.cost.value
        samples = min(ihf.rows, ap.rows, inhouse.rows)
    elif partner is not None:
        pp = partner.pass_rate.value
        final_in, esc = p + (1 - p) * pp, 1 - p
        cost_in = inhouse.cost.value + (1 - p) * partner.cost.value
        final_p, cost_p = pp, partner.cost.value
        samples = min(inhouse.rows, partner.rows)
    else:
        final_in, esc, cost_in, final_p, cost_p = p, 0.0, inhouse.cost.value, 0.0, inhouse.cost.value
        samples = inhouse.rows
    tentative = samples < min_rows
    suffix = (
        f" (small sample: {samples} row{'' if samples == 1 else 's'}; confirm with more before applying)"
        if tentative
        else ""
    )
    suffix += " [estimated from single-model runs]" if estimated else ""
    saves = (cost_p - cost_in) * 1000
    vs_current = (current.cost.value - cost_in) * 1000 if current is not None else None
    common: dict[str, Any] = {
        "skill": skill,
        "pass_rate": p,
        "final_pass_rate": final_in,
        "escalation_rate": esc,
        "estimated": estimated,
        "tentative": tentative,
    }
    if partner is None or (final_in >= final_p - tolerance and cost_in < cost_p):
        saving = f", saves {money(saves)} per 1,000 calls against all-partner routing" if partner else ""
        if vs_current is not None and partner is not None:
            saving += (
                f" ({money(vs_current)} against the current routing)"
                if vs_current >= 0
                else f" (costs {money(-vs_current)} more than the current routing)"
            )
        text = (
            f"route `{skill}` in-house first ({inhouse.arm}): {p:.0%} of checks pass, "
            f"escalation on {esc:.0%}{saving}{suffix}"
        )
        return Recommendation(
            action=Action.IN_HOUSE_FIRST,
            text=text,
            model=inhouse.arm,
            savings_per_1000=saves if partner else None,
            savings_vs_current_per_1000=vs_current,
            policy_lines=[_pin_line(skill, inhouse.arm)],
            **common,
        )
    if final_in < final_p - tolerance:
        why = f"in-house first ends with {final_in:.0%} of checks passing against {final_p:.0%} all-partner"
    else:
        why = (
            f"in-house first would not save money ({money(cost_in * 1000)} against "
            f"{money(cost_p * 1000)} per 1,000 calls)"
        )
    text = (
        f"keep `{skill}` on partner models first ({partner.arm}): {why}; "
        f"{inhouse.arm} passes {p:.0%} alone{suffix}"
    )
    return Recommendation(
        action=Action.PARTNER_FIRST,
        text=text,
        model=partner.arm,
        savings_per_1000=saves,
        savings_vs_current_per_1000=vs_current,
        policy_lines=[_pin_line(skill, partner.arm)],
        **common,
    )


def policy_snippet(recommendations: Sequence[Recommendation], existing: Mapping[str, Sequence[str]]) -> str:
    """The ``[policy]`` pin table that applies every recommendation, keeping the other existing pins."""
    pins = {k: list(v) for k, v in existing.items()}
    for rec in recommendations:
        if rec.model is not None and rec.action in (Action.IN_HOUSE_FIRST, Action.PARTNER_FIRST):
            pins[rec.skill] = [rec.model]
    if not pins:
        return ""
    body = ", ".join(
        f"{json.dumps(k)} = [{', '.join(json.dumps(m) for m in v)}]" for k, v in sorted(pins.items())
    )
    return f"[policy]\npin = {{ {body} }}\n"
