"""An SK ``AIServiceSelector`` that picks among a kernel's services by dualtrack's router.

Describe each SK service with a :class:`~dualtrack.ModelCard` whose ``name`` is the
service id (capabilities, clearance, cost, latency, quality); each call's requirements
come from its execution settings (``requires``, ``prefers``, ``sensitivity`` as fields
of :class:`DualtrackExecutionSettings` or keys of ``extension_data``). The router's
hard constraints (tags, clearance, context window) and the policy's scoring pick the
service; when none qualifies, :class:`~dualtrack.NoRouteError` explains why.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from semantic_kernel.connectors.ai.prompt_execution_settings import PromptExecutionSettings
from semantic_kernel.services.ai_service_selector import AIServiceSelector

from dualtrack import ModelCard, NoRouteError, Policy, Requirements, Router, Sensitivity, UserError

__all__ = ["DualtrackServiceSelector"]


class DualtrackServiceSelector(AIServiceSelector):
    """Pick the kernel service dualtrack's router would choose.

    Args:
        cards: One card per SK service; ``card.name`` is the service id.
        policy: The routing policy (objective, weights).
        default_sensitivity: The level of a call whose settings say nothing.
    """

    def __init__(
        self,
        cards: Iterable[ModelCard],
        policy: Policy | None = None,
        *,
        default_sensitivity: Sensitivity | str = Sensitivity.GENERAL,
    ) -> None:
        self.cards = {c.name: c for c in cards}
        if not self.cards:
            raise UserError("DualtrackServiceSelector needs one ModelCard per SK service (name = service id)")
        self.policy = policy or Policy()
        self.default_sensitivity = Sensitivity.parse(default_sensitivity)
        self.last_decision: Any = None

    def select_ai_service(
        self,
        kernel: Any,
        function: Any = None,
        arguments: Any = None,
        type_: Any = None,
    ) -> tuple[Any, PromptExecutionSettings]:
        """Route the call to one of ``kernel``'s services (SK calls this for every function).

        Raises:
            NoRouteError: When no described service of the right type qualifies.
        """
        if type_ is None:
            from semantic_kernel.connectors.ai.chat_completion_client_base import ChatCompletionClientBase

            type_ = ChatCompletionClientBase
        given: dict[str, PromptExecutionSettings] = dict(
            getattr(function, "prompt_execution_settings", None) or {}
        )
        if arguments is not None and arguments.execution_settings:
            given.update(arguments.execution_settings)
        services = kernel.get_services_by_type(type_)
        usable = [card for name, card in self.cards.items() if name in services]
        requires: set[str] = set()
        prefers: set[str] = set()
        level = self.default_sensitivity
        for settings in given.values():
            data = {**(settings.extension_data or {}), **_fields(settings)}
            requires.update(data.get("requires") or ())
            prefers.update(data.get("prefers") or ())
            if data.get("sensitivity"):
                level = max(level, Sensitivity.parse(data["sensitivity"]))
        req = Requirements(
            requires=frozenset(requires or {"chat"}),
            prefers=frozenset(prefers),
            sensitivity=level,
            skill=getattr(function, "fully_qualified_name", None),
        )
        decision = Router(usable, self.policy).route(req)
        self.last_decision = decision
        if decision.chosen is None:
            raise NoRouteError(decision)
        service = services[decision.chosen]
        settings_class = service.get_prompt_execution_settings_class()
        chosen = given.get(decision.chosen) or next(iter(given.values()), None) or PromptExecutionSettings()
        if not isinstance(chosen, settings_class):
            chosen = settings_class.from_prompt_execution_settings(chosen)
        return service, chosen


def _fields(settings: PromptExecutionSettings) -> dict[str, Any]:
    return {k: getattr(settings, k) for k in ("requires", "prefers", "sensitivity") if hasattr(settings, k)}
