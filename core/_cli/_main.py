"""The ``dualtrack`` command line.

Errors print as one line plus a hint, never a traceback, unless ``--debug``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._errors import DualtrackError

if TYPE_CHECKING:
    from rich.console import Console

    from .._app._orchestrator import Orchestrator

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="dualtrack", description="Route skill calls to partner or in-house models."
    )
    p.add_argument("--config", help="dualtrack.toml (default: search the working directory)")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("plugins", help="list plugins and skills with their tags")
    sub.add_parser("models", help="list the model catalog with track, clearance, cost and health")
    r = sub.add_parser("route", help="dry-run the routing of a skill (no model is called)")
    r.add_argument("skill")
    r.add_argument("--sensitivity", "-s")
    r.add_argument("--tokens", type=int, default=1000)
    r.add_argument("--requires", action="append", default=[], metavar="TAG")
    run = sub.add_parser("run", help="invoke a skill and print its result and routing")
    run.add_argument("skill")
    run.add_argument(
        "--arg",
        "-a",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a skill argument; VALUE is parsed as JSON when it can be",
    )
    run.add_argument("--sensitivity", "-s")
    run.add_argument("--json", action="store_true", help="print the full result as JSON")
    sub.add_parser("tools", help="print OpenAI tool definitions of every skill")
    g = sub.add_parser("generate", help="one routed model call")
    g.add_argument("prompt")
    g.add_argument("--requires", action="append", default=[], metavar="TAG")
    g.add_argument("--sensitivity", "-s")
    g.add_argument("--max-tokens", type=int, default=256)
    g.add_argument("--stream", action="store_true", help="print text as it arrives")
    u = sub.add_parser("usage", help="spend by model, track, skill and day (persistent ledger)")
    u.add_argument("--days", type=int, default=30)
    return p


def _parse_args(items: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise _CliError(f"--arg {item!r} must look like key=value", "e.g. --arg path=report.docx")
        try:
            out[key] = json.loads(raw)
        except json.JSONDecodeError:
            out[key] = raw
    return out


class _CliError(Exception):
    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    args = _parser().parse_args(argv)
    from rich.console import Console

    out = Console(highlight=False, soft_wrap=True)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        return _dispatch(args, out, err)
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    except (DualtrackError, _CliError) as exc:
        if args.debug:
            raise
        first, _, rest = str(exc).partition("\n")
        err.print(f"[bold red]error:[/] {first}", markup=True)
        if rest:
            err.print(rest, markup=False)
        hint = getattr(exc, "hint", "") or _hint(exc)
        if hint:
            err.print(f"[dim]hint:[/] {hint}", markup=True)
        return 1
    except Exception as exc:
        if args.debug:
            raise
        err.print(f"[bold red]error:[/] {type(exc).__name__}: {exc}", markup=True)
        err.print("[dim]hint:[/] run again with --debug for the traceback", markup=True)
        return 1


def _hint(exc: BaseException) -> str:
    name = type(exc).__name__
    if name == "NoRouteError":
        return "see `dualtrack models`; set an API key or add a model in dualtrack.toml"
    if name in ("AuthenticationError",):
        return "check the model's API key or credentials"
    return ""


def _orchestrator(args: argparse.Namespace) -> Orchestrator:
    from .._app._orchestrator import Orchestrator

    return Orchestrator.from_config(args.config)


def _dispatch(args: argparse.Namespace, out: Console, err: Console) -> int:
    from . import _views as views

    cmd = args.command
    orc = _orchestrator(args)
    for name, problem in orc.plugin_errors.items():
        err.print(f"[yellow]warning:[/] plugin {name!r} skipped: {problem}", markup=True)
    if cmd == "plugins":
        views.plugins_table(out, orc)
    elif cmd == "models":
        views.models_table(out, orc)
    elif cmd == "tools":
        out.print_json(json.dumps(orc.tools()))
    elif cmd == "route":
        decision = orc.route(
            args.skill, sensitivity=args.sensitivity, tokens=args.tokens, requires=args.requires
        )
        out.print(decision.explain(), markup=False)
        return 0 if decision.candidates else 2
    elif cmd == "run":
        result = asyncio.run(_run(orc, args, err))
        views.print_result(out, result, as_json=args.json)
    elif cmd == "generate":
        result = asyncio.run(_generate(orc, args, out))
        if not args.stream:
            out.print(str(result.value), markup=False)
        else:
            out.print()
        out.print(result.explain(), markup=False, style="dim")
    elif cmd == "usage":
        views.usage_table(out, orc, args.days)
    return 0


async def _run(orc: Orchestrator, args: argparse.Namespace, err: Console) -> Any:
    def progress(skill: str, done: int, total: int, message: str) -> None:
        err.print(f"[dim]{skill}: {done}/{total} {message}[/]", markup=True)

    try:
        return await orc.invoke(
            args.skill, _parse_args(args.arg), sensitivity=args.sensitivity, on_progress=progress
        )
    finally:
        await orc.aclose()


async def _generate(orc: Orchestrator, args: argparse.Namespace, out: Console) -> Any:
    def on_text(chunk: str) -> None:
        out.print(chunk, end="", markup=False)

    try:
        return await orc.generate(
            args.prompt,
            requires=args.requires,
            sensitivity=args.sensitivity,
            max_tokens=args.max_tokens,
            on_text=on_text if args.stream else None,
        )
    finally:
        await orc.aclose()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
