"""``extract``: action items, decisions, dates, people or a caller's JSON Schema, validated."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel

from dualtrack import ArgumentError, CheckFailedError, MalformedResponseError, SkillContext
from dualtrack.checks import Check, CheckContext, citations, degenerate, on_parts

from ._chunks import JSON_CHUNK_TOKENS, JSON_REPLY_TOKENS, Chunk, chunk_blocks, gather_bounded, truncate
from ._cite import blocks_of
from ._models import ActionItems, DateMentions, Decisions, ExtractResult, People
from ._package import load, resolve_output, save_document
from ._prompts import SYSTEM, block, extract_prompt
from ._reader import DocView
from ._replies import no_reply, tried
from ._schema import SchemaError, check_schema, validate
from ._targets import anchor_for
from ._writer import Inserter

__all__ = ["KINDS", "run_extract"]

KINDS: dict[str, tuple[type[BaseModel], str]] = {
    "action_items": (ActionItems, "the action items (tasks, with owner and due date when stated)"),
    "decisions": (Decisions, "the decisions that were made"),
    "dates": (DateMentions, "the dates and deadlines, each with what happens then"),
    "people": (People, "the people named, with their role when stated"),
}


def _item_text(item: BaseModel) -> str:
    return " ".join(str(v) for k, v in item.model_dump().items() if k != "source" and v)


def _item_claims(_text: str, context: CheckContext) -> list[tuple[str, list[str]]]:
    return [(_item_text(item), list(getattr(item, "source", []))) for item in context.value.items]


def item_checks(blocks: dict[str, str]) -> list[Check]:
    """Items are no loop, and each cites blocks that exist and contain it."""
    text = on_parts(lambda v: [_item_text(i) for i in v.items], degenerate(), name="items")
    return [text, citations(blocks, claims=_item_claims)]


async def run_extract(
    ctx: SkillContext,
    path: str,
    kind: str,
    *,
    schema: dict[str, Any] | None,
    insert_table: bool,
    after: str | None,
    output: str | None,
    chunk_tokens: int | None,
    concurrency: int,
) -> ExtractResult:
    """Extract structured data (see ``DocumentPlugin.extract``).

    Each part's reply must be valid JSON for the kind's schema (or the caller's);
    for the built-in kinds its items must also be no loop and cite blocks that
    exist and contain them. A failing reply is fed back once, then escalated.
    Where no model's reply for a part passes, that part gives no items and
    ``notes`` says so; when that is every part, :class:`~dualtrack.CheckFailedError`
    is raised (:class:`~dualtrack.MalformedResponseError` when no reply was valid
    JSON), and nothing is written.
    """
    if kind == "custom":
        if schema is None:
            raise ArgumentError(
                ctx.skill.full_name, [("json_schema", "kind='custom' needs a JSON Schema object")]
            )
        try:
            check_schema(schema)
        except SchemaError as exc:
            raise ArgumentError(ctx.skill.full_name, [("json_schema", str(exc))]) from None
    doc = await load(ctx, path)
    target = resolve_output(ctx, doc.path, output, "extracted") if insert_table else None
    budget = chunk_tokens or JSON_CHUNK_TOKENS
    chunks = chunk_blocks([b for b in doc.view.blocks if b.text.strip()], budget)
    what = KINDS[kind][1] if kind in KINDS else "the data the schema describes"
    shape: Any = KINDS[kind][0] if kind in KINDS else schema

    checks = item_checks(blocks_of(doc.view)) if kind in KINDS else []
    notes: list[str] = []
    failures: list[CheckFailedError] = []

    async def one(i: int, chunk: Chunk) -> Any:
        checked = await ctx.generate_checked(
            extract_prompt(chunk.text, what),
            schema=shape,
            checks=checks,
            source=chunk.text,
            fallback=None,
            system=SYSTEM,
            max_tokens=JSON_REPLY_TOKENS,
        )
        if checked.fell_back:
            failures.append(CheckFailedError(checked.attempts))
            notes.append(
                f"part {i + 1} of {len(chunks)} gave nothing: no reply passed the checks "
                f"({tried(checked.attempts)})"
            )
        ctx.progress(i + 1, len(chunks), f"read part {i + 1} of {len(chunks)}")
        return checked.value

    partials = await gather_bounded(chunks, one, concurrency=concurrency)
    if failures and len(failures) == len(chunks):
        raise no_reply(failures[0], "the extracted data")
    partials = [p for p in partials if p is not None]
    if kind in KINDS:
        data: Any = _merge_items(partials, doc.view)
    else:
        assert schema is not None
        data = await _merge_custom(ctx, partials, schema, what, budget)
    result = ExtractResult(kind=kind, data=data, notes=notes)
    if target is not None:
        anchor = anchor_for(doc.view, after, ctx.skill.full_name)
        Inserter(doc.document, anchor).table(_rows(data))
        result.output = await save_document(doc.document, target)
    return result


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"\w+", text.lower()) if len(w) > 3}


def _merge_items(partials: list[Any], view: DocView) -> dict[str, Any]:
    """Deduplicated items with verified sources; items the document does not support are dropped.

    An item is kept when it cites a block that exists, or when most of its words
    occur in the document (a model echoing the instructions cites nothing and
    uses words the document does not).
    """
    vocabulary = _words(view.render(view.blocks))
    items: list[dict[str, Any]] = []
    seen: set[str] = set()
    for part in partials:
        for item in part.items:
            data = item.model_dump()
            data["source"] = view.valid_ids(data.get("source", []))
            text = " ".join(str(v) for k, v in data.items() if k != "source" and v)
            words = _words(text)
            grounded = bool(data["source"]) or (words and len(words & vocabulary) >= 0.6 * len(words))
            key = text.lower()
            if grounded and key not in seen:
                seen.add(key)
                items.append(data)
    return {"items": items}


async def _merge_custom(
    ctx: SkillContext, partials: list[Any], schema: dict[str, Any], what: str, budget: int
) -> Any:
    for value in partials:
        try:
            validate(value, schema)
        except SchemaError as exc:
            raise MalformedResponseError(f"the model's reply does not match the schema: {exc}") from None
    if len(partials) == 1:
        return partials[0]
    joined = truncate("\n".join(json.dumps(p, ensure_ascii=False) for p in partials), budget)
    prompt = (
        f"These JSON values were extracted from consecutive parts of one document ({what}). Merge them "
        f"into one JSON value of the same schema, without duplicates.\n\n{block(joined)}"
    )
    try:
        checked = await ctx.generate_checked(
            prompt, schema=schema, system=SYSTEM, max_tokens=JSON_REPLY_TOKENS
        )
    except CheckFailedError as exc:
        raise no_reply(exc, "the merged data") from None
    merged = checked.value
    try:
        validate(merged, schema)
    except SchemaError as exc:
        raise MalformedResponseError(f"the merged reply does not match the schema: {exc}") from None
    return merged


def _rows(data: Any) -> list[list[str]]:
    """A table of extracted data: a list of objects becomes rows, anything else key/value pairs."""
    records = data
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list) and all(isinstance(x, dict) for x in v)]
        records = lists[0] if len(lists) == 1 else data
    if isinstance(records, list) and records and all(isinstance(x, dict) for x in records):
        columns = list(dict.fromkeys(k for x in records for k in x))
        header = [c.replace("_", " ").capitalize() for c in columns]
        return [header] + [[_cell(x.get(c)) for c in columns] for x in records]
    if isinstance(records, list):
        return [["Value"]] + [[_cell(x)] for x in records] if records else [["Value"], ["(none found)"]]
    if isinstance(records, dict):
        return [["Field", "Value"]] + [[str(k), _cell(v)] for k, v in records.items()]
    return [["Value"], [_cell(records)]]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
