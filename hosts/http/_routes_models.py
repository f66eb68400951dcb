"""The model routes: the catalog with health, a routing dry run, usage and budgets."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ._problems import Problem
from ._service import ServiceCore

__all__ = ["ModelRoutes"]


class ModelRoutes(ServiceCore):
    """``GET /v1/models``, ``POST /v1/route``, ``GET /v1/usage``."""

    async def list_models(self, request: Request) -> Response:
        await self.caller(request)
        breakers = getattr(self.orc.executor, "breakers", {})
        out = []
        for card in sorted(self.orc.models.values(), key=lambda c: c.name):
            breaker = breakers.get(card.name)
            state = "disabled" if not card.enabled else (getattr(breaker, "state", "closed") or "closed")
            out.append(
                {
                    "name": card.name,
                    "track": card.track.value,
                    "clearance": card.clearance.value,
                    "capabilities": sorted(card.capabilities),
                    "context_window": card.context_window,
                    "cost_input": card.cost_input,
                    "cost_output": card.cost_output,
                    "connector": card.connector_name,
                    "enabled": card.enabled,
                    "disabled_reason": card.disabled_reason,
                    "health": {"closed": "healthy", "open": "open-circuit", "half-open": "probing"}.get(
                        state, state
                    ),
                }
            )
        return JSONResponse(out)

    async def route(self, request: Request) -> Response:
        caller = await self.caller(request)
        body = await self.json_object(request)
        self.check_fields(
            body,
            {"skill", "sensitivity", "tokens", "requires"},
            "send {skill, sensitivity?, tokens?, requires?}",
            field="skill",
            valid=isinstance(body.get("skill"), str),
            rule="required string",
        )
        skill = self.orc.skill(body["skill"])
        caller.check_plugin(skill.plugin)
        tokens, requires = self.count(body, "tokens", 1000), self.tags(body)
        level = self.sensitivity(body.get("sensitivity"), caller)
        decision = self.orc.route(skill.full_name, sensitivity=level, tokens=tokens, requires=requires)
        return JSONResponse({**decision.to_dict(), "explanation": self.unpath(decision.explain())})

    async def usage(self, request: Request) -> Response:
        await self.caller(request)
        try:
            days = int(request.query_params.get("days", "30"))
        except ValueError:
            raise Problem(
                "invalid-arguments",
                "days must be an integer",
                errors=[{"field": "days", "message": "integer"}],
            ) from None
        rows_fn = getattr(self.orc.ledger, "rows", None)
        rows = rows_fn(days=max(1, min(days, 366))) if rows_fn else []
        budget = self.orc.budget
        spent = budget.spent() if budget is not None else None
        return JSONResponse(
            {
                "rows": [
                    {
                        k: getattr(r, k)
                        for k in (
                            "day",
                            "model",
                            "track",
                            "skill",
                            "calls",
                            "input_tokens",
                            "output_tokens",
                            "cost_usd",
                        )
                    }
                    for r in rows
                ],
                "budget_today": {"usd": spent[0], "tokens": spent[1]} if spent else None,
            }
        )
