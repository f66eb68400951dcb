"""``dualtrack eval``: the command behind the CLI subcommand (parsing lives in the CLI layer)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from .._app._config import load_config
from .._errors import UserError
from .._routing._router import Policy
from ._evaluate import config_factory, evaluate
from ._observe import Strategy
from ._report import EvalReport, Format, build_report
from ._shadows import shadow_run
from ._workload import load_workload

__all__ = ["run_eval_command"]


def _strategies(text: str) -> list[Strategy]:
    if text.strip().lower() in ("", "none"):
        return []
    out = []
    for part in text.split(","):
        try:
            out.append(Strategy(part.strip()))
        except ValueError:
            known = ", ".join(s.value for s in Strategy)
            raise UserError(f"unknown strategy {part.strip()!r}; use {known} or none") from None
    return out


def _report(args: argparse.Namespace) -> EvalReport:
    cfg = load_config(args.config)
    policy = cfg.policy or Policy()
    if args.shadow is not None:
        from .._runtime._shadow_log import ShadowLog

        log = ShadowLog(args.shadow) if args.shadow else cfg.make_shadow_log()
        records = log.records()
        if not records:
            raise UserError(
                f"no shadow calls logged in {log.path or 'memory'}; configure [shadow] and run some skills"
            )
        return build_report(shadow_run(records, cfg.models, policy), min_rows=args.min_rows, source="shadow")
    if not args.workload:
        raise UserError("name a workload file (dualtrack eval workload.toml) or use --shadow")
    workload = load_workload(args.workload)  # a bad file fails before the ledger is opened
    models = [m.strip() for m in args.models.split(",") if m.strip()] if args.models else None
    return asyncio.run(
        evaluate(
            workload,
            catalog=cfg.models,
            models=models,
            reference=args.reference,
            policy=policy,
            factory=config_factory(args.config, ledger=cfg.make_ledger()),
            strategies=_strategies(args.strategies),
            timeout_s=args.timeout,
            concurrency=args.concurrency,
            min_rows=args.min_rows,
        )
    )


def run_eval_command(args: argparse.Namespace, out: Any, err: Any) -> int:
    """Run ``dualtrack eval`` and write or print the report; returns the exit status.

    The status is 0, or 3 when any call went above a model's clearance (which the
    router prevents; the check is there for CI).
    """
    report = _report(args)
    fmt: Format = args.format or ("json" if args.out and Path(args.out).suffix.lower() == ".json" else "html")
    if fmt == "json" and not args.out:
        sys.stdout.write(report.to_json() + "\n")
    else:
        path = report.write(args.out or "eval-report.html", fmt)
        for rec in report.recommendations:
            out.print(f"- {rec.text}", markup=False)
        skipped = len(report.problems) + len(report.skipped)
        if skipped:
            err.print(f"{skipped} row(s) skipped or failed: see the report", markup=False)
        out.print(f"report written to {path}", markup=False)
    return 3 if report.clearance_violations else 0
