"""The options of ``dualtrack eval`` (kept free of heavy imports: the CLI builds its parser on every run)."""

from __future__ import annotations

import argparse

__all__ = ["add_eval_arguments"]


def add_eval_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``dualtrack eval``."""
    p.add_argument("workload", nargs="?", help="a TOML or JSONL workload file (omit with --shadow)")
    p.add_argument(
        "--models", help="comma-separated models to evaluate (default: the workload's, else all enabled)"
    )
    p.add_argument("--reference", help="the model whose outputs the others are compared with")
    p.add_argument(
        "--out", "-o", help="where to write the report (default: eval-report.html; JSON to stdout)"
    )
    p.add_argument(
        "--format", choices=("html", "json"), default=None, help="report format (default: by --out)"
    )
    p.add_argument(
        "--strategies",
        default="current,all-partner,in-house-first",
        help="routings to compare, comma-separated, or 'none' (default: current,all-partner,in-house-first)",
    )
    p.add_argument(
        "--timeout", type=float, default=300.0, help="seconds one skill call may take (default 300)"
    )
    p.add_argument("--concurrency", type=int, default=2, help="rows run at once per model (default 2)")
    p.add_argument("--min-rows", type=int, default=10, help="fewer rows make a recommendation tentative")
    p.add_argument(
        "--shadow",
        nargs="?",
        const="",
        metavar="LOG",
        help="report on sampled live traffic: the shadow log ([shadow] in dualtrack.toml, or LOG)",
    )
