"""Named checks a skill attaches to a model call: degenerate output, length ratio, JSON schema.

Each factory returns a :data:`~dualtrack.checks.Check`: a pure, fast function
``(reply_text, context) -> CheckResult`` whose reason a person can read (and a
model can act on when the reason is fed back)::

    reply = await ctx.generate_checked(
        prompt, source=paragraph, checks=[checks.degenerate(), checks.length_ratio()]
    )
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from .._errors import UserError
from .._runtime._outcomes import Check, CheckContext, CheckResult

__all__ = [
    "degenerate",
    "json_schema",
    "length_ratio",
    "named",
    "on_parts",
    "parse_json",
    "reply_problems",
    "repetition",
    "schema_of",
    "schema_validator",
]

_WORD = re.compile(r"[^\W_]+(?:['\u2019-][^\W_]+)*")
_CELL = re.compile(r"[|\t\n]")  # table cells and lines: a word repeated across them is not a loop
_LINE_ID = re.compile(r"^\[[a-z]+[\w.]*\]\s*")
_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.S)
_X = "\u00d7"  # the multiplication sign of "'Duck' x11"
_MAX_WORDS = 5000  # look at the start of very long replies only: a loop shows early


def named(name: str) -> Callable[[Callable[[str, CheckContext], CheckResult]], Check]:
    """Give a check function the name its outcomes and errors are reported under."""

    def wrap(fn: Callable[[str, CheckContext], CheckResult]) -> Check:
        fn.__name__ = name
        fn.__qualname__ = name
        return fn

    return wrap


def _norm(text: str) -> str:
    return " ".join(w.lower() for w in _WORD.findall(text))


def _alpha(word: str) -> bool:
    return any(c.isalpha() for c in word)


def _is_table(text: str) -> bool:
    return "\t" in text or sum(1 for line in text.splitlines() if line.count("|") >= 2) >= 2


def repetition(text: str) -> str | None:
    """Why ``text`` looks like a model stuck repeating itself, or ``None``.

    Catches one word repeated back to back (``'Duck' x11``), a phrase repeated back
    to back (``'the plan' x4``), one word making up most of a longer reply, and a
    six-word span recurring three times or more. Numbers, table cells and list
    items that merely share words do not count.
    """
    words = _WORD.findall(text)[:_MAX_WORDS]
    lower = [w.lower() for w in words]
    counts = Counter(lower)
    for segment in _CELL.split(text):  # 1. one word back to back, within a line or cell
        seg = [w.lower() for w in _WORD.findall(segment)]
        run = 1
        for i in range(1, len(seg)):
            run = run + 1 if seg[i] == seg[i - 1] else 1
            if run >= 4 and _alpha(seg[i]):
                first = next(w for w in words if w.lower() == seg[i])
                return f"{first!r} {_X}{counts[seg[i]]}"
    for n in range(2, 9):  # 2. a phrase back to back, three times
        for i in range(len(lower) - 3 * n + 1):
            gram = lower[i : i + n]
            if (
                gram == lower[i + n : i + 2 * n] == lower[i + 2 * n : i + 3 * n]
                and any(map(_alpha, gram))
                and len(set(gram)) > 1
            ):
                reps = 3
                while lower[i + reps * n : i + (reps + 1) * n] == gram:
                    reps += 1
                return f"{' '.join(words[i : i + n])!r} {_X}{reps}"
    if len(lower) >= 8 and not _is_table(text):  # 3. one word is most of the reply
        word, count = max(
            ((w, c) for w, c in counts.items() if _alpha(w)), key=lambda wc: wc[1], default=("", 0)
        )
        if count / len(lower) > 0.6:
            first = next(w for w in words if w.lower() == word)
            return f"{first!r} {_X}{count} of {len(lower)} words"
    if len(lower) >= 18:  # 4. a six-word span recurring anywhere
        spans = Counter(tuple(lower[i : i + 6]) for i in range(len(lower) - 5))
        span, count = spans.most_common(1)[0]
        if count >= 3 and any(map(_alpha, span)):
            return f"{' '.join(span)!r} {_X}{count}"
    return None


def _echo(text: str, context: CheckContext, echo_source: bool) -> str | None:
    lines = [_norm(_LINE_ID.sub("", line.strip())) for line in text.splitlines()]
    lines = [line for line in lines if line]
    source = {_norm(_LINE_ID.sub("", line.strip())) for line in context.source.splitlines()}
    source.discard("")
    if echo_source and source and lines:
        copied = sum(1 for line in lines if line in source)
        if copied / len(lines) > 0.6:
            return f"echo of the data block ({copied} of {len(lines)} lines copied)"
    reply = " ".join(lines)
    whole_source = _norm(context.source)
    for line in context.prompt.splitlines():
        key = _norm(line)
        if len(key.split()) >= 6 and key in reply and key not in whole_source:
            return f"echo of the prompt ({line.strip()[:60]!r})"
    return None


def degenerate(*, echo_source: bool = False, max_ratio: float = 5.0, max_chars: int | None = None) -> Check:
    """A check that rejects empty, repeating, runaway or echoed replies.

    Outcome names: ``empty``, ``repetition``, ``runaway``, ``echo`` (when it fails)
    or ``degenerate`` (when it passes).

    Args:
        echo_source: Also reject a reply whose lines are mostly copied from
            ``context.source`` (right for summaries; wrong for rewrites, where an
            unchanged paragraph is a valid answer).
        max_ratio: A reply longer than ``max_ratio`` x the source plus 400
            characters is a runaway (only when the caller gave a source).
        max_chars: An absolute length limit, if any.

    Returns:
        The check.
    """

    @named("degenerate")
    def check(text: str, context: CheckContext) -> CheckResult:
        if not any(c.isalnum() for c in text):
            return CheckResult(name="empty", passed=False, reason="the reply has no text")
        problem = repetition(text)
        if problem:
            return CheckResult(name="repetition", passed=False, reason=problem)
        limit = max_chars
        if context.source.strip():
            ratio_limit = int(max_ratio * len(context.source.strip())) + 400
            limit = ratio_limit if limit is None else min(limit, ratio_limit)
        if limit is not None and len(text.strip()) > limit:
            return CheckResult(
                name="runaway",
                passed=False,
                reason=f"{len(text.strip())} characters, more than the {limit} expected",
            )
        echo = _echo(text, context, echo_source)
        if echo:
            return CheckResult(name="echo", passed=False, reason=echo)
        return CheckResult(name="degenerate", passed=True)

    return check


def length_ratio(min_ratio: float = 0.25, max_ratio: float = 4.0, *, slack: int = 40) -> Check:
    """A check that a rewrite's length stays within a ratio of its source's.

    ``slack`` characters are allowed either way, so short sources (a heading) are
    not held to a ratio of a few characters. Passes when there is no source.

    Args:
        min_ratio: Shortest allowed, as a fraction of the source's length.
        max_ratio: Longest allowed, as a multiple of the source's length.
        slack: Characters allowed beyond either bound.

    Returns:
        The check, reported as ``length-ratio``.
    """

    @named("length-ratio")
    def check(text: str, context: CheckContext) -> CheckResult:
        n, m = len(text.strip()), len(context.source.strip())
        if m == 0:
            return CheckResult(name="length-ratio", passed=True)
        ratio = n / m
        if n > max_ratio * m + slack:
            why = f"{ratio:.1f}{_X} the original's length ({n} vs {m} characters; at most {max_ratio:g}{_X})"
            return CheckResult(name="length-ratio", passed=False, reason=why)
        if n < min_ratio * m - slack:
            why = f"{ratio:.2f}{_X} the original's length ({n} vs {m} characters; at least {min_ratio:g}{_X})"
            return CheckResult(name="length-ratio", passed=False, reason=why)
        return CheckResult(name="length-ratio", passed=True, reason=f"{ratio:.2f}{_X}")

    return check


def on_parts(
    select: Callable[[Any], str | Sequence[str] | None], *checks: Check, name: str = "parts"
) -> Check:
    """A check that runs ``checks`` on the texts ``select`` picks from a parsed reply.

    For JSON replies (``schema=``), whose free text sits in fields: ``select`` gets
    ``context.value`` and returns a text, a list of texts, or ``None`` (nothing to
    check). The first failing outcome is returned, its reason prefixed with the
    part's number when there are several; parts without a letter or digit are
    skipped (an empty list item is the schema's business).

    Args:
        select: Picks the texts from the parsed value.
        *checks: The checks each text must pass (sync or async).
        name: The outcome name when every part passes.

    Returns:
        The check (async).
    """

    async def check(text: str, context: CheckContext) -> CheckResult:
        picked = select(context.value) if context.value is not None else None
        parts = [picked] if isinstance(picked, str) else list(picked or [])
        parts = [p for p in parts if any(c.isalnum() for c in p)]
        for n, part in enumerate(parts, 1):
            for inner in checks:
                result: Any = inner(part, context)
                if inspect.isawaitable(result):
                    result = await result
                if not result.passed:
                    where = f"part {n}: " if len(parts) > 1 else ""
                    failed: CheckResult = dataclasses.replace(
                        result, reason=f"{where}{result.reason}", value=None
                    )
                    return failed
        return CheckResult(name=name, passed=True)

    check.__name__ = check.__qualname__ = name
    return check


def parse_json(text: str) -> Any:
    """Parse a JSON reply, allowing a Markdown code fence around it.

    Raises:
        ValueError: When it is not JSON.
    """
    m = _FENCE.match(text)
    if m:
        text = m.group(1)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None


def schema_validator(schema: dict[str, Any]) -> Callable[[Any], Any]:
    """A validator of plain data against a JSON Schema dict.

    The validator returns the data, or raises ``ValueError`` naming up to five
    problems by path and schema rule, never quoting the data (the text goes back
    to models and into errors).

    Raises:
        UserError: When ``schema`` is not a valid JSON Schema.
    """
    import jsonschema

    cls = jsonschema.validators.validator_for(schema)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise UserError(
            f"invalid JSON Schema: {exc.message}; pass a valid JSON Schema dict or a pydantic type"
        ) from None
    validator = cls(schema)

    def validate(data: Any) -> Any:
        errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
        if errors:
            problems = [  # schema keywords only: e.message would quote the reply
                f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: fails the schema's "
                f"{e.validator!r} rule ({str(e.validator_value)[:80]})"
                for e in errors[:5]
            ]
            more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
            raise ValueError("; ".join(problems) + more)
        return data

    return validate


def reply_problems(exc: Exception) -> str:
    """What is wrong with a reply, by field and rule, without quoting the reply.

    Pydantic's own text embeds the offending ``input_value``, i.e. a model's reply
    about the data; this text goes back to models and into errors, so it does not.
    """
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        problems = [
            f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}"
            for err in exc.errors(include_url=False, include_input=False, include_context=False)[:5]
        ]
        more = f" (and {exc.error_count() - 5} more)" if exc.error_count() > 5 else ""
        return f"{exc.error_count()} validation error(s): " + "; ".join(problems) + more
    return str(exc)


def json_schema(schema: Any) -> Check:
    """A check that the reply is JSON valid for ``schema``; its value is the validated data.

    Args:
        schema: A pydantic model, any type pydantic validates, or a JSON Schema dict.

    Returns:
        The check, reported as ``schema``. Its outcome's ``value`` is the model
        instance (or plain data for a dict schema).

    Raises:
        UserError: When a dict schema is not a valid JSON Schema.
    """
    from pydantic import TypeAdapter, ValidationError

    if isinstance(schema, dict):
        validate = schema_validator(schema)
    else:
        validate = TypeAdapter(schema).validate_python

    @named("schema")
    def check(text: str, context: CheckContext) -> CheckResult:
        try:
            value = validate(parse_json(text))
        except (ValueError, ValidationError) as exc:
            return CheckResult(name="schema", passed=False, reason=reply_problems(exc)[:800])
        return CheckResult(name="schema", passed=True, value=value)

    return check


def schema_of(schema: Any) -> dict[str, Any]:
    """The JSON Schema dict of a pydantic type or dict schema (for constrained output)."""
    from pydantic import TypeAdapter

    return schema if isinstance(schema, dict) else TypeAdapter(schema).json_schema()
