"""Plumbing the example scripts share, so each script shows only its own skill calls.

- ``print_progress`` is an ``on_progress`` callback that prints ``[done/total] message``;
- ``invoke_and_explain`` runs one skill, prints its routing explanation, and reports a
  failure instead of raising it, so a script can go on with its next step;
- ``print_ledger`` prints what the orchestrator's ledger recorded, one row per skill and model;
- ``run_and_close`` runs a script's async body with the given or configured models, then
  releases them;
- ``run_with_out_dir`` and ``run_or_exit`` are the command-line entry points.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from dualtrack import DualtrackError, Orchestrator, SkillResult

__all__ = [
    "invoke_and_explain",
    "print_ledger",
    "print_progress",
    "run_and_close",
    "run_or_exit",
    "run_with_out_dir",
]

T = TypeVar("T")


def print_progress(skill: str, done: int, total: int, message: str) -> None:
    """Print one progress step of a running skill (pass it as ``on_progress=``)."""
    print(f"  [{done}/{total}] {message}", flush=True)


async def invoke_and_explain(orc: Orchestrator, name: str, **args: object) -> SkillResult | None:
    """Invoke skill ``name`` and print how it was routed; print the error and return None if it fails."""
    print(f"\n== {name} ==")
    try:
        result = await orc.invoke(name, **args)
    except DualtrackError as exc:
        print(f"could not run {name}: {exc}")
        return None
    print(result.explain())
    return result


def print_ledger(orc: Orchestrator) -> None:
    """Print the model calls the ledger recorded: skill, model, calls and tokens."""
    for row in orc.ledger.rows():
        print(
            f"ledger: {row.skill:20} {row.model:12} {row.calls} call(s) {row.input_tokens}+{row.output_tokens} tokens"
        )


def run_and_close(run: Callable[..., Coroutine[Any, Any, T]], orc: Orchestrator | None, *args: object) -> T:
    """Run ``run(orc, *args)`` to the end, then close ``orc`` (the models in dualtrack.toml if None)."""
    session = orc or Orchestrator.from_config()

    async def run_then_close() -> T:
        async with session:
            return await run(session, *args)

    return asyncio.run(run_then_close())


def run_with_out_dir(
    main: Callable[..., Coroutine[Any, Any, int]],
    doc: str | None,
    out_help: str = "where to write the sample and outputs",
) -> NoReturn:
    """Parse ``[--out DIR]`` (default ``out``), run ``main(out=DIR)`` and exit with the status it returns."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    parser.add_argument("--out", type=Path, default=Path("out"), help=out_help)
    sys.exit(asyncio.run(main(out=parser.parse_args().out)))


def run_or_exit(main: Callable[[], object]) -> None:
    """Run ``main()``; if it fails with a dualtrack error, print the error to stderr and exit with status 1."""
    try:
        main()
    except DualtrackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
