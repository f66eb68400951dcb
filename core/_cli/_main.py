"""The ``dualtrack`` command line.

Errors print as one line plus a hint, never a traceback, unless ``--debug``.
Tables and colours come from rich (the ``cli`` extra); without it the same
output is printed as plain text.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._errors import DualtrackError
from ._args import parse_skill_args, split_args
from ._console import escape, make_console

if TYPE_CHECKING:
    from .._app._orchestrator import Orchestrator

Console = Any  # a rich Console, or a PlainConsole without the `cli` extra

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
        help="a skill argument, read by the parameter's type (text stays text; numbers, "
        "booleans, lists and objects are JSON)",
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
    e = sub.add_parser("eval", help="evaluate models on a workload or sampled traffic: the promotion report")
    from .._eval._options import add_eval_arguments  # argparse only; the command loads on use

    add_eval_arguments(e)
    m = sub.add_parser("mcp", help="serve every skill as MCP tools (stdio, or --http PORT on 127.0.0.1)")
    m.add_argument("--http", type=int, metavar="PORT", help="streamable HTTP on 127.0.0.1 instead of stdio")
    m.add_argument("--root", action="append", default=[], help="a folder file arguments may use (repeatable)")
    m.add_argument("--allow-writes", action="store_true", help="run writes for clients that cannot ask")
    m.add_argument("--max-sensitivity", metavar="LEVEL", help="the most sensitive data the server returns")
    sv = sub.add_parser("serve", help="serve skills, models and files as an HTTP API (docs at /docs)")
    sv.add_argument("--host", default="127.0.0.1", help="address to bind (non-loopback needs API keys)")
    sv.add_argument("--port", type=int, default=8000)
    sv.add_argument("--workers", type=int, default=1, help="worker processes")
    sv.add_argument("--http-config", help="the [http] settings (default: dualtrack-http.toml)")
    sv.add_argument("--new-key", metavar="NAME", help="print a new API key and its [[http.api_keys]] entry")
    m365 = sub.add_parser("m365", help="Microsoft 365: build the Copilot agent package of the skills")
    m365_sub = m365.add_subparsers(dest="m365_command", required=True, metavar="ACTION")
    pk = m365_sub.add_parser("package", help="write the app package (.zip) and a report")
    pk.add_argument("--out", required=True, help="the .zip to write (the report goes next to it)")
    pk.add_argument("--base-url", required=True, help="the HTTP host's public https URL (dualtrack serve)")
    pk.add_argument("--name", required=True, help="the agent's name (at most 30 characters)")
    pk.add_argument("--mcp-url", help="the MCP host's https URL, for skills Copilot cannot call whole")
    pk.add_argument("--description", help="what the agent does (default: from the plugins)")
    pk.add_argument("--app-id", help="the app's GUID (default: derived from the name and base URL)")
    pk.add_argument("--version", dest="app_version", default="1.0.0", help="the app's version (1.0.0)")
    pk.add_argument("--developer", default="dualtrack", help="the developer's name in the store")
    pk.add_argument("--accent-color", default="#2B6CB0", help="the colour icon's background (#rrggbb)")
    pk.add_argument("--api-key-registration", metavar="ID", help="the service's API key registration id")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    args = _parser().parse_args(argv)
    out = make_console()
    err = make_console(stderr=True)
    try:
        return _dispatch(args, out, err)
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    except DualtrackError as exc:
        if args.debug:
            raise
        first, _, rest = str(exc).partition("\n")
        err.print(f"[bold red]error:[/] {escape(first)}", markup=True)
        if rest:
            err.print(rest, markup=False)
        hint = _hint(exc)
        if hint:
            err.print(f"[dim]hint:[/] {escape(hint)}", markup=True)
        return 1
    except Exception as exc:
        if args.debug:
            raise
        err.print(f"[bold red]error:[/] {escape(f'{type(exc).__name__}: {exc}')}", markup=True)
        err.print("[dim]hint:[/] run again with --debug for the traceback", markup=True)
        return 1


def _hint(exc: BaseException) -> str:
    name = type(exc).__name__
    if name == "MissingDependencyError":
        return "install the extra shown above, then run the command again"
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
    if cmd == "mcp":
        return _mcp(args)
    if cmd == "serve":
        return _serve(args)
    if cmd == "m365":
        return _m365(args)
    if cmd == "eval":
        from .._eval._command import run_eval_command

        return run_eval_command(args, out, err)
    orc = _orchestrator(args)
    if cmd != "plugins":  # `plugins` lists them as unavailable, with the fix
        for name, problem in orc.plugin_errors.items():
            err.print(f"[yellow]warning:[/] plugin {name!r} skipped: {escape(problem)}", markup=True)
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


def _host_cli(package: str, /, **options: Any) -> int:
    """Run the CLI of the host ``dualtrack.hosts.<package>``, imported by name only when asked for."""
    import importlib

    return int(importlib.import_module(f"dualtrack.hosts.{package}").run_cli(**options))


def _mcp(args: argparse.Namespace) -> int:
    return _host_cli(
        "mcp",
        config=args.config,
        http=args.http,
        roots=args.root,
        allow_writes=args.allow_writes,
        max_sensitivity=args.max_sensitivity,
    )


def _m365(args: argparse.Namespace) -> int:
    return _host_cli(
        "m365",
        config=args.config,
        out=args.out,
        base_url=args.base_url,
        name=args.name,
        mcp_url=args.mcp_url,
        description=args.description,
        app_id=args.app_id,
        version=args.app_version,
        developer=args.developer,
        accent_color=args.accent_color,
        api_key_registration=args.api_key_registration,
    )


def _serve(args: argparse.Namespace) -> int:
    return _host_cli(
        "http",
        config=args.config,
        host=args.host,
        port=args.port,
        workers=args.workers,
        http_config=args.http_config,
        new_key_name=args.new_key,
    )


async def _run(orc: Orchestrator, args: argparse.Namespace, err: Console) -> Any:
    def progress(skill: str, done: int, total: int, message: str) -> None:
        err.print(f"[dim]{escape(f'{skill}: {done}/{total} {message}')}[/]", markup=True)

    try:
        skill = orc.skill(args.skill)
        arguments = parse_skill_args(skill.full_name, skill.parameters_schema(), split_args(args.arg))
        return await orc.invoke(args.skill, arguments, sensitivity=args.sensitivity, on_progress=progress)
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
