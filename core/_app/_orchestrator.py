"""The ``Orchestrator``: plugins, catalog, router, policy and executor in one place."""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import DualtrackError, MissingDependencyError, UnknownSkillError, UserError
from .._model._cards import ModelCard
from .._model._discovery import available_plugins, load_plugin
from .._model._messages import TextCallback
from .._model._redact import Redactor
from .._model._sensitivity import Sensitivity
from .._model._sync import LoopThread
from .._plugins._registry import Plugin, PluginRegistry
from .._plugins._skills import Skill
from .._routing._decision import RouteDecision
from .._routing._router import Policy, Requirements, Router
from .._runtime._budget import Budgets, BudgetTracker
from .._runtime._execution import Executor, RetryPolicy
from .._runtime._gateway import ModelGateway
from .._runtime._ledger import Ledger, MemoryLedger
from .._runtime._result import SkillResult
from .._runtime._shadow import ShadowCallback
from .._runtime._state import SharedState, open_state
from .._runtime._telemetry import Telemetry
from ._assembly import budget_tracker, check_catalog
from ._consent import ChosenBy, ConfirmCallback, bind_files, confirm_write
from ._context import ProgressCallback, SkillContext
from ._paths import FileRoots
from ._sources import FileSource, FileSources

if TYPE_CHECKING:
    from .._office._labels import LabelPolicy  # xml and a pydantic model: loaded when a label is read

__all__ = ["Orchestrator"]

_log = logging.getLogger("dualtrack")


class Orchestrator:
    """The composition root a host embeds.

    Args:
        models: The model catalog.
        policy: Routing policy.
        plugins: Plugin classes, instances or installed names. ``None`` loads
            every plugin installed under the ``dualtrack.plugins`` entry point.
        retry: Retry, deadline and circuit-breaker settings.
        labels: How document sensitivity labels map to levels.
        default_sensitivity: Sensitivity of a call when nobody says otherwise.
        ledger: Where usage is recorded (in memory unless configured).
        on_progress: Default progress callback for skill calls.
        confirm: Asked before a model-chosen call to a skill with ``effects="write"``
            (it may be async: an HTTP host awaits its client's answer);
            without it such calls are refused.
        budgets: Daily USD and token limits, global and per skill or plugin.
        tracer: An OpenTelemetry tracer for spans; ``None`` uses the global
            tracer provider (no-op until the host configures an SDK).
        shadow: Skill or plugin name → models that also get a copy of each of
            its model calls, in the background, for comparison. A shadow model
            must pass the same hard constraints (clearance first) or it is skipped.
        on_shadow: Receives each :class:`~dualtrack.ShadowResult`.
        shadow_fraction: The share of calls shadowed, in ``[0, 1]`` (a seeded draw per call).
        roots: Folders skills may read and write (default: the working directory).
            A model-chosen path outside them is refused; a path outside them in a
            direct :meth:`invoke` is asked of ``confirm`` when there is one (see
            :class:`~dualtrack.FileRoots`).
        allow_secrets: Secret-looking files or folders (``~/.ssh``, ``*.pem``, ``.env``
            ...) skills may read anyway; none by default.
        file_sources: Where references in path arguments (``onedrive:/Reports/q3.docx``,
            sharing URLs ...) are fetched from and written back to (see
            :class:`~dualtrack.FileSource`); ``[[file_sources]]`` in dualtrack.toml adds more.
        state: What several workers share (budgets, open circuits, usage rows): a
            :class:`~dualtrack.SharedState` or its URL, ``sqlite:///path`` (workers on one
            disk) or ``redis://host:6379/0`` (several machines). ``None`` keeps them in
            this process. Its ledger is used unless ``ledger`` is given.
    """

    def __init__(
        self,
        models: Iterable[ModelCard] = (),
        policy: Policy | None = None,
        plugins: Iterable[object] | None = None,
        *,
        retry: RetryPolicy | None = None,
        labels: LabelPolicy | None = None,
        default_sensitivity: Sensitivity | str = Sensitivity.GENERAL,
        ledger: Ledger | None = None,
        on_progress: ProgressCallback | None = None,
        confirm: ConfirmCallback | None = None,
        budgets: Budgets | None = None,
        tracer: Any = None,
        shadow: Mapping[str, Sequence[str]] | None = None,
        on_shadow: ShadowCallback | None = None,
        shadow_fraction: float = 1.0,
        roots: Iterable[str | Path] | None = None,
        allow_secrets: Iterable[str] = (),
        file_sources: Iterable[FileSource] = (),
        state: SharedState | str | None = None,
    ) -> None:
        cards = list(models)
        check_catalog([c.name for c in cards], shadow, shadow_fraction)
        self.policy = policy or Policy()
        self.router = Router(cards, self.policy)
        self.redactor = Redactor()  # masks the catalog's secrets in logs, spans, errors, attempts
        for card in cards:
            self.redactor.add_settings(card.settings)
        self.redactor.install()  # the `dualtrack` logger, while this orchestrator lives
        self.telemetry = Telemetry(tracer, redactor=self.redactor)
        executor = Executor(self.router.cards, retry, telemetry=self.telemetry, redactor=self.redactor)
        self._labels = labels
        self.default_sensitivity = Sensitivity.parse(default_sensitivity)
        self.state: SharedState | None = open_state(state) if isinstance(state, str) else state
        self._owns_state = isinstance(state, str)
        usage: Ledger = ledger or (self.state.ledger() if self.state is not None else MemoryLedger())
        if self.state is not None:  # every worker sees the circuits another one opened
            from .._runtime._state_circuit import CircuitBoard

            executor.circuits = CircuitBoard(self.state)
        self.budgets = budgets or Budgets()
        self.gateway = ModelGateway(
            self.router,
            executor,
            ledger=usage,
            budget=(
                budget_tracker(self.budgets, usage, self.state, executor.retry.deadline_s)
                if self.budgets.active
                else None
            ),
            shadow=shadow,
            on_shadow=on_shadow,
            shadow_fraction=shadow_fraction,
        )
        self.on_progress = on_progress
        self.confirm = confirm
        self.files = FileRoots(roots, allow_secrets=allow_secrets)
        self.file_sources = FileSources(file_sources)
        self._sync = LoopThread()
        self.registry = PluginRegistry()
        self.plugin_errors: dict[str, str] = {}
        self._plugin_failures: dict[str, UserError] = {}
        if plugins is None:
            for name in available_plugins():
                try:
                    self.add_plugin(name)
                except UserError as exc:  # one broken installed plugin must not stop the rest
                    self.plugin_errors[name] = str(exc)
                    self._plugin_failures[name] = exc
                    _log.warning("skipping installed plugin %r: %s", name, exc)
        else:
            for obj in plugins:
                self.add_plugin(obj)

    @property
    def labels(self) -> LabelPolicy:
        """How document sensitivity labels map to levels (the default policy unless one was given)."""
        if self._labels is None:
            from .._office._labels import LabelPolicy

            self._labels = LabelPolicy()
        return self._labels

    @labels.setter
    def labels(self, value: LabelPolicy) -> None:
        self._labels = value

    # -- construction -------------------------------------------------------------

    @classmethod
    def from_config(cls, path: str | Path | None = None, **overrides: Any) -> Orchestrator:
        """Build from ``dualtrack.toml`` or ``[tool.dualtrack]`` in ``pyproject.toml``.

        Args:
            path: A config file; ``None`` searches the working directory and falls
                back to the default catalog (embedded model, partners with keys).
            **overrides: Keyword arguments for the constructor that win over the file.

        Returns:
            The orchestrator.
        """
        from ._assembly import config_arguments
        from ._config import load_config

        cfg = load_config(path)
        kwargs, state = config_arguments(cfg, overrides)
        orc = cls(**kwargs)
        orc._owns_state = state is not None and orc.state is state  # opened here: closed with orc
        orc.file_sources.configure(cfg.file_sources, cfg.path, redactor=orc.redactor)
        for name, load in cfg.section_plugins():  # [[mcp_servers]] and the like, through their host
            try:
                orc.add_plugin(load())
            except DualtrackError as exc:  # one broken server must not stop the rest
                orc.plugin_errors[name] = str(exc)
                if isinstance(exc, UserError):
                    orc._plugin_failures[name] = exc
                _log.warning("skipping configured plugin %r: %s", name, exc)
        return orc

    def add_plugin(self, obj: object) -> Plugin:
        """Register a plugin class, instance or installed name (validated now)."""
        if isinstance(obj, str):
            obj = load_plugin(obj)
        return self.registry.add(obj)

    def sensitivity_of(self, sensitivity: Sensitivity | str | None) -> Sensitivity:
        """The level of a call: the caller's label, or the configured default."""
        return self.default_sensitivity if sensitivity is None else Sensitivity.parse(sensitivity)

    @property
    def models(self) -> Mapping[str, ModelCard]:
        """The catalog, by name."""
        return self.router.cards

    @property
    def executor(self) -> Executor:
        """The executor of model calls (breakers, connectors, retries); the gateway's."""
        return self.gateway.executor

    @property
    def ledger(self) -> Ledger:
        """Where usage is recorded; the gateway's."""
        return self.gateway.ledger

    @property
    def budget(self) -> BudgetTracker | None:
        """Today's spend against the budgets, or ``None`` when nothing is limited; the gateway's."""
        return self.gateway.budget

    # -- introspection ------------------------------------------------------------

    def skill(self, name: str) -> Skill:
        """Look a skill up by ``plugin.skill`` (raises with suggestions).

        Raises:
            MissingDependencyError: The skill's plugin is installed but its extra is not.
            UnknownSkillError: No such skill.
        """
        try:
            return self.registry.get(name)
        except UnknownSkillError:
            failure = self._plugin_failures.get(name.partition(".")[0])
            if isinstance(failure, MissingDependencyError):
                raise MissingDependencyError(failure.what, failure.module, failure.install) from None
            raise

    def tools(self) -> list[dict[str, Any]]:
        """OpenAI tool definitions for every skill."""
        return [s.openai_tool() for s in self.registry.skills()]

    def manifest(self) -> dict[str, Any]:
        """Plain data: every plugin with its skills, schemas, tags and effects."""
        return {"plugins": [p.manifest() for p in self.registry]}

    def route(
        self,
        skill: str,
        *,
        sensitivity: Sensitivity | str | None = None,
        tokens: int = 1000,
        requires: Iterable[str] = (),
    ) -> RouteDecision:
        """Dry-run the routing of a skill's model call (no model is called)."""
        s = self.skill(skill)
        req = Requirements(
            requires=s.requires.union(requires),
            prefers=s.prefers,
            sensitivity=self.sensitivity_of(sensitivity),
            input_tokens=tokens,
            output_tokens=512,
            skill=s.full_name,
        )
        return self.gateway.route(req)

    # -- invocation ---------------------------------------------------------------

    async def invoke(
        self,
        name: str,
        /,
        arguments: Mapping[str, Any] | None = None,
        *,
        sensitivity: Sensitivity | str | None = None,
        on_progress: ProgressCallback | None = None,
        chosen_by: ChosenBy = "caller",
        roots: FileRoots | None = None,
        confirmed: bool = False,
        confirm: ConfirmCallback | None = None,
        on_text: TextCallback | None = None,
        **kwargs: Any,
    ) -> SkillResult:
        """Run a skill.

        Args:
            name: ``plugin.skill``.
            arguments: Skill arguments (merged with ``kwargs``; use it for a
                parameter named ``sensitivity``, ``chosen_by``, ``roots`` ...).
            sensitivity: Sensitivity of the data the caller passes.
            on_progress: Progress callback for this call.
            chosen_by: ``"model"`` when a model chose this call (every agent host:
                ``ask``, MCP, Semantic Kernel, Agent Framework). Then a path outside the
                roots is refused, files the skill opens later are confined too, and a
                write skill runs only if ``confirmed`` or the ``confirm`` callback
                approves the call with its resolved arguments.
            roots: The file roots of this call (a host's per-caller workspace);
                default: the orchestrator's.
            confirmed: The host already asked the user about this exact model-chosen
                call (an MCP elicitation, an approval card) and the user said yes.
            confirm: Asked instead of the orchestrator's ``confirm`` for this call only
                (may be async: an HTTP host awaits its own client's answer).
            on_text: Streamed text of every model call the skill makes without an
                ``on_text`` of its own (a host relaying ``text`` events).
            **kwargs: Skill arguments.

        Returns:
            The skill's value plus every model call's decision and attempts.

        Raises:
            FileAccessError: A path outside the roots (model-chosen), or a secret-looking file.
            NotConfirmedError: A model-chosen write nobody confirmed.
            FileSourceError: A referenced file could not be fetched or written back
                (:class:`~dualtrack.FileChangedError` when it changed at its source meanwhile).
        """
        s = self.skill(name)
        values = s.bind_arguments({**(arguments or {}), **kwargs})
        confirm = confirm if confirm is not None else self.confirm
        level = self.sensitivity_of(sensitivity)
        roots = roots or self.files
        if self.file_sources.wanted(s, values):  # references: run on local copies, then write back
            if chosen_by == "model" and s.effects == "write" and not confirmed:
                await confirm_write(confirm, s, values)  # asked with the references, before any download
                confirmed = True
            async with self.file_sources.call(s, values, roots, self.labels) as remote:
                result = await self._run(
                    s,
                    remote.values,  # validated above; only references were swapped for local paths
                    max(level, remote.sensitivity or Sensitivity.PUBLIC),
                    on_progress=on_progress,
                    chosen_by=chosen_by,
                    roots=remote.roots,
                    confirmed=confirmed,
                    confirm=confirm,
                    on_text=on_text,
                )
                return await remote.finish(result)
        return await self._run(
            s,
            values,
            level,
            on_progress=on_progress,
            chosen_by=chosen_by,
            roots=roots,
            confirmed=confirmed,
            confirm=confirm,
            on_text=on_text,
        )

    async def _run(
        self,
        s: Skill,
        values: dict[str, Any],
        level: Sensitivity,
        *,
        on_progress: ProgressCallback | None,
        chosen_by: ChosenBy,
        roots: FileRoots,
        confirmed: bool,
        confirm: ConfirmCallback | None,
        on_text: TextCallback | None,
    ) -> SkillResult:
        """Run ``s`` on validated, local arguments: bind paths, confirm a write, call it."""
        values, files = bind_files(s, values, chosen_by, roots, confirm)
        if chosen_by == "model" and s.effects == "write" and not confirmed:
            await confirm_write(confirm, s, values)
        scope = self.gateway.skill_scope(s.full_name, level)
        ctx = SkillContext(
            self,
            s,
            level,
            on_progress or self.on_progress,
            files=files,
            gateway=self.gateway,
            scope=scope,
            on_text=on_text,
        )
        if s.ctx_param:
            values[s.ctx_param] = ctx
        start = time.perf_counter()
        try:
            async with scope:
                if s.is_async:
                    value = await s.func(**values)
                else:
                    ctx._loop = asyncio.get_running_loop()
                    value = await asyncio.to_thread(s.func, **values)
        except DualtrackError as exc:  # the error carries the level of what the skill had read
            carried = Sensitivity.parse(exc.sensitivity) if exc.sensitivity else ctx.sensitivity
            exc.sensitivity = max(carried, ctx.sensitivity)
            # ... and the model calls it made (a nested invoke's calls kept, none twice)
            exc.calls = [*ctx.calls, *(c for c in exc.calls if not any(c is m for m in ctx.calls))]
            raise
        return SkillResult(s.full_name, value, ctx.calls, time.perf_counter() - start, ctx.sensitivity)

    def invoke_sync(
        self, name: str, /, arguments: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> SkillResult:
        """Blocking :meth:`invoke` for scripts and other synchronous code.

        Calls run on a private event loop that lives as long as the orchestrator,
        so connectors stay warm between calls; :meth:`close` releases them. Use
        either the blocking or the async API with one orchestrator, not both.
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return self._sync.run(self.invoke(name, arguments, **kwargs))
        raise UserError("invoke_sync() cannot run inside a running event loop; use `await orc.invoke(...)`")

    def close(self) -> None:
        """Release connectors used by :meth:`invoke_sync` and stop its loop."""
        if self._sync.running:
            self._sync.run(self.aclose())
            self._sync.stop()

    def __enter__(self) -> Orchestrator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def ask(
        self,
        prompt: str,
        *,
        max_steps: int = 5,
        sensitivity: Sensitivity | str | None = None,
        tools: Iterable[str] | None = None,
        roots: FileRoots | None = None,
        confirm: ConfirmCallback | None = None,
        on_text: TextCallback | None = None,
    ) -> SkillResult:
        """Let a model answer ``prompt``, calling skills as tools when it wants.

        Write skills chosen by the model run only when ``confirm`` approves them,
        and a path outside the roots is refused. Whatever a tool read (or failed
        on) raises the conversation's sensitivity before its outcome goes back
        to the model.

        Args:
            prompt: The user's request.
            max_steps: Most model turns of the tool-calling loop.
            sensitivity: The level of the data in ``prompt``.
            tools: Plugin names (``"document"``) or skill names (``"document.summarize"``)
                offered as tools; ``None`` offers every skill. A call to any other skill
                is refused (the model is told there is no such tool).
            roots: The file roots of this conversation's tool calls (a host's per-caller
                workspace); default: the orchestrator's. A relative path the model
                writes is taken relative to the first root.
            confirm: Asked instead of the orchestrator's ``confirm`` about each write
                the model chooses in this conversation (may be async).
            on_text: Streamed text of the conversation's own model turns (the answer as
                it forms; the tools' model calls are not streamed).

        Returns:
            A result whose value is the answer text, with every model call (the
            tools' included) and the sensitivity the conversation ended with.

        Raises:
            NoRouteError: When no model cleared for what the tools read can go on.
        """
        from ._ask import AskOptions, run_ask

        options = AskOptions(tools=tools, roots=roots, confirm=confirm, on_text=on_text)
        return await run_ask(self, prompt, max_steps, sensitivity, options)

    async def generate(
        self,
        prompt: str,
        *,
        requires: Iterable[str] = (),
        sensitivity: Sensitivity | str | None = None,
        system: str | None = None,
        max_tokens: int | None = None,
        on_text: Callable[[str], None] | None = None,
    ) -> SkillResult:
        """One routed model call outside any plugin (for hosts and quick tries).

        Returns:
            A result whose value is the generated text, with the routing trace.
        """
        from ._ask import host_skill

        level = self.sensitivity_of(sensitivity)
        ctx = SkillContext(self, host_skill("generate"), level)
        start = time.perf_counter()
        done = await ctx.generate(
            prompt, requires=requires, system=system, max_tokens=max_tokens, on_text=on_text
        )
        elapsed = time.perf_counter() - start
        return SkillResult("host.generate", done.text, ctx.calls, elapsed, ctx.sensitivity)

    # -- lifecycle ----------------------------------------------------------------

    async def aclose(self) -> None:
        """Release connectors (HTTP pools, loaded models) and plugins that hold resources.

        A plugin object with an async ``aclose()`` (an MCP server's connection, say) is
        closed here too.
        """
        for p in self.registry:
            closer = getattr(p.instance, "aclose", None)
            if closer is not None and inspect.iscoroutinefunction(closer):
                try:
                    await closer()
                except Exception:  # noqa: BLE001 - one plugin failing to close must not keep others open
                    _log.warning("plugin %r failed to close", p.name, exc_info=True)
        await self.file_sources.aclose()
        await self.gateway.aclose()
        if self._owns_state and self.state is not None:
            self.state.close()

    async def __aenter__(self) -> Orchestrator:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"Orchestrator(models={list(self.models)}, plugins={[p.name for p in self.registry]})"
