"""How many summary steps the embedded model writes itself, on ordinary business documents.

Run by hand (it loads the real embedded model; a few minutes on one core)::

    .venv/bin/python bench/summary_quality.py [--repeat-penalty 1.1] [--chunk-tokens 320] [--seed 7]

The documents are built by ``bench/documents.py`` (meeting minutes, a project status
report, a policy memo, a quarterly summary) and summarized by ``document.summarize``
with the embedded SmolLM2-135M model alone (prompt profile ``small``: one short
instruction per section, plain-text replies, citations attached by the plugin).
Every step's reply must pass the plugin's checks (complete sentences, not an echo,
:func:`dualtrack.checks.degenerate` with echo of the source,
:func:`dualtrack.checks.grounded`); a step whose reply fails falls back to
sentences quoted from the document.

Printed per document: the steps, the model-written steps that passed the checks,
the fallbacks, the fraction, and the checks that rejected replies. Also printed,
because a passing reply can still copy the document: the share of the summary's
eight-word spans found verbatim in the source ("copied"; quoted fallbacks count
as copied). Grounding is
lexical: a fluent sentence that recombines the source's words wrongly can pass it,
so read the summaries too (``--show``).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from documents import DOCUMENTS

from dualtrack import Orchestrator, SkillResult
from dualtrack.connectors.llama_cpp import default_card
from dualtrack.plugins.document import DocumentPlugin


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", re.sub(r"\[[^\]]*\]", " ", text.lower()))


def copied_share(summary: str, source: str, n: int = 8) -> float:
    """The share of the summary's n-word spans that occur verbatim in ``source``."""
    words, src = _words(summary), _words(source)
    spans = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
    if not spans:
        return 0.0
    pool = {tuple(src[i : i + n]) for i in range(len(src) - n + 1)}
    return sum(1 for s in spans if s in pool) / len(spans)


def rejections(result: SkillResult) -> Counter[str]:
    """Check names that rejected a reply, counted over every call."""
    return Counter(c.name for call in result.calls for c in call.checks if not c.passed)


async def run(args: argparse.Namespace) -> int:
    settings: dict[str, object] = {}
    if args.repeat_penalty is not None:
        settings["repeat_penalty"] = args.repeat_penalty
    if args.seed is not None:
        settings["seed"] = args.seed
    card = default_card(settings=settings)
    print(
        f"model: {card.name} (prompt profile {card.prompt_profile.value}), settings {settings or 'default'}\n"
    )
    totals = Counter[str]()
    with tempfile.TemporaryDirectory() as tmp:
        orc = Orchestrator(models=[card], plugins=[DocumentPlugin], roots=[tmp])
        async with orc:
            header = f"{'document':<32} {'kind':<22} {'steps':>5} {'passed':>6} {'fallbk':>6} {'frac':>5}"
            print(header + f" {'copied':>6} {'secs':>5}  rejected by")
            for bench_doc in DOCUMENTS:
                path = bench_doc.write(Path(tmp) / f"{bench_doc.name}.docx")
                started = time.perf_counter()
                arguments: dict[str, object] = {"path": str(path), "style": "bullets"}
                if args.chunk_tokens:
                    arguments["chunk_tokens"] = args.chunk_tokens
                result = await orc.invoke("document.summarize", arguments)
                secs = time.perf_counter() - started
                value = result.value
                steps, fell = value.steps, value.fallback_parts
                passed = steps - fell
                source = "\n".join(t for s in bench_doc.sections for t in (*s.paragraphs, *s.bullets))
                copied = copied_share(value.summary, source)
                why = ", ".join(f"{k} x{v}" for k, v in rejections(result).most_common())
                print(
                    f"{bench_doc.name:<32} {bench_doc.kind:<22} {steps:>5} {passed:>6} {fell:>6} "
                    f"{passed / max(1, steps):>5.0%} {copied:>6.0%} {secs:>5.0f}  {why or '-'}"
                )
                if args.show:
                    print("    " + value.summary.replace("\n", "\n    "))
                    if value.fallback_steps:
                        print(f"    quoted: {'; '.join(value.fallback_steps)}")
                    for call in result.calls:
                        for check in call.checks:
                            if not check.passed:
                                print(f"    rejected: {check.name}: {check.reason}")
                totals.update(steps=steps, passed=passed, fell=fell)
    frac = totals["passed"] / max(1, totals["steps"])
    print(
        f"\nall documents: {totals['steps']} steps, {totals['passed']} model-written and passed the checks, "
        f"{totals['fell']} fell back: {frac:.0%}"
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--repeat-penalty", type=float, default=None, help="connector setting (default: the card's)"
    )
    parser.add_argument("--chunk-tokens", type=int, default=None, help="document tokens per step")
    parser.add_argument("--seed", type=int, default=7, help="sampling seed (default 7)")
    parser.add_argument("--show", action="store_true", help="print each summary")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
